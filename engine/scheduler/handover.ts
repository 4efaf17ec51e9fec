import type { CampaignSource } from '../render/renderer.js';

export interface HandoverLimits {
  messages: number;
  bytes: number;
  /** A message held this long was not claimed as expected (cancelled, paused): its place may be taken. */
  staleMs: number;
}

/**
 * Submitted messages handed over by the commit that stored them, until the claim loop takes them:
 * their campaign rows and bytes are in memory already, so preparing them needs no read. The first
 * ones in are claimed first, so when full the newest are not held (they are read from the store
 * when claimed) rather than the oldest dropped, unless the oldest are stale. Holds only what is
 * committed; after a restart it is empty and the store is the only source.
 */
export class Handover {
  private readonly byId = new Map<number, { source: CampaignSource; at: number }>();
  private bytes = 0;

  constructor(private readonly limits: HandoverLimits) {}

  /** False when the message does not fit (it stays in the store only). */
  offer(source: CampaignSource, now: number): boolean {
    const size = source.raw?.length ?? 0;
    this.dropStale(now);
    if (this.byId.size >= this.limits.messages || this.bytes + size > this.limits.bytes) return false;
    this.byId.set(source.campaign.id, { source, at: now });
    this.bytes += size;
    return true;
  }

  /** The message of this campaign, no longer held here; undefined when it was not handed over. */
  take(campaignId: number): CampaignSource | undefined {
    const held = this.byId.get(campaignId);
    if (!held) return undefined;
    this.byId.delete(campaignId);
    this.bytes -= held.source.raw?.length ?? 0;
    return held.source;
  }

  get size(): number {
    return this.byId.size;
  }

  /** Insertion order is time order: the stale ones are at the front. */
  private dropStale(now: number): void {
    for (const [id, held] of this.byId) {
      if (now - held.at < this.limits.staleMs) return;
      this.take(id);
    }
  }
}
