import type { Campaign } from '../../storage/store.js';
import { compileCampaign, renderMessage, type CompiledCampaign, type RenderInput } from './message.js';

/** One message's bytes, and the merge tags that had neither a value nor a default (warnings). */
export interface Rendered {
  message: Buffer;
  missing: string[];
}

/**
 * Where messages are built: template, MIME, (later) DKIM. The scheduler only sees this seam, so the
 * CPU work can run in the main thread (tests, `threads = 0`) or in a worker pool.
 */
export interface Renderer {
  /** The message for `recipient` (for an identical campaign: for every recipient of the job). */
  render(campaign: Campaign, recipient: RenderInput): Promise<Rendered>;
  /** The campaign is finished or gone: drop what was compiled for it. */
  forget(campaignId: number): void;
  close(): Promise<void>;
}

/**
 * Compiled campaigns by id, bounded so a long-running engine that sees many campaigns does not keep
 * them all. Least recently used goes first (Map keeps insertion order; a hit re-inserts).
 */
export class CompiledCache {
  private readonly byId = new Map<number, CompiledCampaign>();

  constructor(private readonly max = 64) {}

  get(id: number): CompiledCampaign | undefined {
    const c = this.byId.get(id);
    if (c) {
      this.byId.delete(id);
      this.byId.set(id, c);
    }
    return c;
  }

  add(campaign: Campaign): CompiledCampaign {
    const c = compileCampaign(campaign);
    this.byId.set(campaign.id, c);
    if (this.byId.size > this.max) this.byId.delete(this.byId.keys().next().value!);
    return c;
  }

  delete(id: number): void {
    this.byId.delete(id);
  }
}

/** Renders one message with a compiled campaign, collecting missing tags instead of calling back. */
export async function renderCollecting(c: CompiledCampaign, recipient: RenderInput): Promise<Rendered> {
  const missing: string[] = [];
  const message = await renderMessage(c, recipient, (key) => missing.push(key));
  return { message, missing };
}

/** Renders in the calling thread: for tests, for `[workers] threads = 0`, and as the reference. */
export class InProcessRenderer implements Renderer {
  private readonly cache = new CompiledCache();

  async render(campaign: Campaign, recipient: RenderInput): Promise<Rendered> {
    const c = this.cache.get(campaign.id) ?? this.cache.add(campaign);
    return renderCollecting(c, recipient);
  }

  forget(campaignId: number): void {
    this.cache.delete(campaignId);
  }

  async close(): Promise<void> {}
}
