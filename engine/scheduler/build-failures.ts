/**
 * Messages of a campaign that could not be built, in a row (a render that failed or timed out, a
 * template that does not compile). Their recipients go back to the queue; when `limit` fail with no
 * message of the campaign built in between, the campaign is broken rather than unlucky (the pool has
 * already tried each failed message alone), and it is paused with the reason instead of failing
 * again every minute for ever. Pure bookkeeping: the caller pauses.
 */
export class BuildFailures {
  private readonly streak = new Map<number, number>();

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`build failure limit must be a whole number ≥ 1, got ${limit}`);
  }

  /** A message of the campaign failed to build: true when this one reaches the limit (the streak then starts over). */
  failed(campaignId: number): boolean {
    const n = (this.streak.get(campaignId) ?? 0) + 1;
    if (n < this.limit) {
      this.streak.set(campaignId, n);
      return false;
    }
    this.streak.delete(campaignId);
    return true;
  }

  /** A message of the campaign was built: it is not broken. */
  built(campaignId: number): void {
    this.streak.delete(campaignId);
  }
}
