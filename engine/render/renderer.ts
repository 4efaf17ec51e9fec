import type { Attachment, Campaign } from '../../storage/store.js';
import { compileCampaign, renderMessage, type CompiledCampaign, type RenderDeps, type RenderInput } from './message.js';

/** What a campaign's messages are built from: its row and its attachments, as stored. */
export interface CampaignSource {
  campaign: Campaign;
  attachments: Attachment[];
}

/** One message's bytes (signed when a DKIM key covers its From domain), and the merge tags that had neither a value nor a default. */
export interface Rendered {
  message: Buffer;
  missing: string[];
}

/**
 * Where messages are built: template, MIME, DKIM. The scheduler only sees this seam, so the CPU
 * work runs in a worker pool (PiscinaRenderer) or in the calling thread (InProcessRenderer).
 */
export interface Renderer {
  /** The message for `recipient` (for an identical campaign: for every recipient of the job). */
  render(source: CampaignSource, recipient: RenderInput): Promise<Rendered>;
  /** The campaign is finished or gone: drop what was compiled for it. */
  forget(campaignId: number): void;
  close(): Promise<void>;
}

/**
 * Compiled campaigns by id, bounded so a long-running engine that sees many campaigns does not keep
 * them all. Least recently used goes first (a Map keeps insertion order; a hit re-inserts).
 */
export class CompiledCache {
  private readonly byId = new Map<number, CompiledCampaign>();

  constructor(
    private readonly deps: RenderDeps,
    private readonly max = 64,
  ) {}

  get(id: number): CompiledCampaign | undefined {
    const c = this.byId.get(id);
    if (c) {
      this.byId.delete(id);
      this.byId.set(id, c);
    }
    return c;
  }

  add(source: CampaignSource): CompiledCampaign {
    const c = compileCampaign(source.campaign, source.attachments, this.deps);
    this.byId.set(source.campaign.id, c);
    if (this.byId.size > this.max) this.byId.delete(this.byId.keys().next().value!);
    return c;
  }

  delete(id: number): void {
    this.byId.delete(id);
  }
}

/** Renders one message with a compiled campaign, collecting missing tags instead of calling back. */
export async function renderCollecting(c: CompiledCampaign, recipient: RenderInput, deps: RenderDeps): Promise<Rendered> {
  const missing: string[] = [];
  const message = await renderMessage(c, recipient, deps, (key) => missing.push(key));
  return { message, missing };
}

/** Renders in the calling thread: `[workers] threads = 0`, a tracking decorator (functions stay in this thread), tests. */
export class InProcessRenderer implements Renderer {
  private readonly cache: CompiledCache;

  constructor(private readonly deps: RenderDeps) {
    this.cache = new CompiledCache(deps);
  }

  async render(source: CampaignSource, recipient: RenderInput): Promise<Rendered> {
    const c = this.cache.get(source.campaign.id) ?? this.cache.add(source);
    return renderCollecting(c, recipient, this.deps);
  }

  forget(campaignId: number): void {
    this.cache.delete(campaignId);
  }

  async close(): Promise<void> {}
}
