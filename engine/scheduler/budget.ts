/**
 * The bound on rendered messages held in memory: a message takes a place from just before it is
 * rendered until every recipient of its job is settled (delivered, deferred, bounced, postponed or
 * returned to the queue). The scheduler's window bounds recipients; this bounds bytes, which matter
 * when one recipient's message is 100 KB.
 */
interface Place {
  remaining: number;
}

export class RenderBudget {
  private used = 0;
  private closed = false;
  private readonly waiters: ((ok: boolean) => void)[] = [];
  private readonly byRecipient = new Map<number, Place>();

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`render budget must be a whole number ≥ 1, got ${max}`);
  }

  /** Rendered messages not yet settled. */
  get inUse(): number {
    return this.used;
  }

  /**
   * Waits for a free place for one message carrying `recipientIds`. False once the budget is closed
   * (the engine is stopping): the caller then renders nothing and leaves the recipients claimed.
   */
  async acquire(recipientIds: readonly number[]): Promise<boolean> {
    while (this.used >= this.max) {
      if (this.closed) return false;
      if (!(await new Promise<boolean>((resolve) => this.waiters.push(resolve)))) return false;
    }
    if (this.closed) return false;
    this.used++;
    const place: Place = { remaining: recipientIds.length };
    for (const id of recipientIds) this.byRecipient.set(id, place);
    return true;
  }

  /** The recipient left the scheduler's hands; its message's place frees with the last of its job. */
  settled(recipientId: number): void {
    const place = this.byRecipient.get(recipientId);
    if (!place) return;
    this.byRecipient.delete(recipientId);
    if (--place.remaining > 0) return;
    this.used--;
    this.waiters.shift()?.(true);
  }

  /** Stopping: every waiter gives up, and no new place is handed out. */
  close(): void {
    this.closed = true;
    for (const wake of this.waiters.splice(0)) wake(false);
  }
}
