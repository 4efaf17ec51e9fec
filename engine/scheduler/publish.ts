import type { Store } from '../../storage/store.js';
import type { Egress } from './egress.js';

/**
 * Writes the egress path states to the store at most every `everyMs`, for `mxpress status` (another
 * process) and later the API. The last write, when the engine stops, leaves no open connections.
 */
export class PathStatePublisher {
  private last = -Infinity;

  constructor(
    private readonly store: Store,
    private readonly egress: Pick<Egress, 'pathStates'>,
    private readonly everyMs: number,
  ) {}

  tick(now: number, final: boolean): void {
    if (!final && now - this.last < this.everyMs) return;
    this.last = now;
    const states = this.egress.pathStates();
    this.store.savePathStates(final ? states.map((s) => ({ ...s, connections: 0, queued: 0 })) : states);
  }
}
