import { Lru } from '../render/renderer.js';

/** Campaigns with a streak at most: a long-running engine sees many (every submitted message is one). */
const TRACKED_CAMPAIGNS = 10_000;

/**
 * Messages of a campaign that could not be built, in a row (a render that failed or ran past the
 * task timeout, a worker that died on it). Their recipients go back to the queue; when `limit` fail
 * with no message of the campaign built in between, the campaign is broken rather than unlucky (the
 * pool has already tried each failed message alone, and times only a task's own running), and it
 * is paused with the reason instead of failing again every minute for ever. A streak belongs to one
 * revision of the campaign: failures of the content before an edit do not count against the new one.
 * Pure bookkeeping: the caller pauses.
 */
export class BuildFailures {
  private readonly streaks = new Lru<number, { revision: number; n: number }>(TRACKED_CAMPAIGNS);

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`build failure limit must be a whole number ≥ 1, got ${limit}`);
  }

  /** A message of the campaign's `revision` failed to build: true when this one reaches the limit (the streak then starts over). */
  failed(campaignId: number, revision: number): boolean {
    const before = this.streaks.get(campaignId);
    const n = before?.revision === revision ? before.n + 1 : 1;
    if (n < this.limit) {
      this.streaks.set(campaignId, { revision, n });
      return false;
    }
    this.streaks.delete(campaignId);
    return true;
  }

  /** A message of the campaign was built (it is not broken), or it was paused (what was counted is done with). */
  clear(campaignId: number): void {
    this.streaks.delete(campaignId);
  }
}
