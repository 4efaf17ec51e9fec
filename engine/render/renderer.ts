import type { Attachment, Campaign } from '../../storage/store.js';
import { compileCampaign, renderMessage, type CompiledCampaign, type RenderDeps, type RenderInput } from './message.js';
import { signerFromKeys, type KeySpec } from '../dkim/keys.js';

/** What a campaign's messages are built from: its row and its attachments, as stored. */
export interface CampaignSource {
  campaign: Campaign;
  attachments: Attachment[];
  /** The stored message of a submitted one (SMTP submission, inject API); absent for templates. */
  raw?: Buffer | null;
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
  /** Messages rendered from now on are signed with these keys (a sender domain was added or removed). */
  setKeys(keys: KeySpec[]): void;
  close(): Promise<void>;
}

/**
 * The most recently used values by key, at most `max` of them and, when `weigh` is given, at most
 * `maxWeight` in all (one value heavier than that is kept alone): a long-running engine sees many
 * campaigns (every submitted message is one, with its bytes) and must not keep them all. A Map keeps
 * insertion order; a hit re-inserts, so the first key is the least recently used.
 */
export class Lru<K, V> {
  private readonly byKey = new Map<K, V>();
  private weight = 0;

  constructor(
    private readonly max: number,
    private readonly bound: { maxWeight: number; weigh: (v: V) => number } | null = null,
  ) {}

  get(key: K): V | undefined {
    const v = this.byKey.get(key);
    if (v !== undefined) {
      this.byKey.delete(key);
      this.byKey.set(key, v);
    }
    return v;
  }

  set(key: K, value: V): V {
    this.delete(key);
    this.byKey.set(key, value);
    this.weight += this.bound?.weigh(value) ?? 0;
    while (this.byKey.size > this.max || (this.bound && this.weight > this.bound.maxWeight && this.byKey.size > 1)) {
      this.delete(this.byKey.keys().next().value!);
    }
    return value;
  }

  delete(key: K): void {
    const v = this.byKey.get(key);
    if (v === undefined) return;
    this.byKey.delete(key);
    this.weight -= this.bound?.weigh(v) ?? 0;
  }
}

/** Compiled campaigns by id (per thread that renders). */
export class CompiledCache {
  private readonly byId: Lru<number, CompiledCampaign>;

  constructor(
    private readonly deps: RenderDeps,
    max = 64,
    /**
     * Most bytes of templates, submitted messages and attachments held: a submitted message may be
     * 25 MB, so a count alone would let each thread's cache grow to gigabytes.
     */
    maxBytes = 64 * 2 ** 20,
  ) {
    this.byId = new Lru(max, { maxWeight: maxBytes, weigh: contentBytes });
  }

  /** The compiled campaign, unless it was compiled from another revision (edited since). */
  get(id: number, revision: number): CompiledCampaign | undefined {
    const c = this.byId.get(id);
    return c && revisionOf(c.campaign) === revision ? c : undefined;
  }

  /** Compiles `source` if it is of `revision`; undefined (nothing compiled) when edited since. */
  addAt(source: CampaignSource, revision: number): CompiledCampaign | undefined {
    return revisionOf(source.campaign) === revision ? this.add(source) : undefined;
  }

  add(source: CampaignSource): CompiledCampaign {
    const c = compileCampaign(source.campaign, source.attachments, this.deps, asBuffer(source.raw));
    return this.byId.set(source.campaign.id, c);
  }
}

const revisionOf = (c: { revision?: number }): number => c.revision ?? 0;

function contentBytes(c: CompiledCampaign): number {
  // A template's text is held about three times once rendered: as written, in wire form
  // (wire.ts) and as the text part made from the HTML (counted in characters, near enough).
  const templates = 3 * ((c.campaign.html?.length ?? 0) + (c.campaign.text?.length ?? 0));
  return templates + (c.raw?.length ?? 0) + c.attachments.reduce((n, a) => n + a.content.length, 0);
}

/** What the campaign was compiled from (sent to a render worker that has not compiled it). */
export function sourceOf(c: CompiledCampaign): CampaignSource {
  return { campaign: c.campaign, attachments: c.attachments, raw: c.raw };
}

/** In a worker the bytes arrive as a plain Uint8Array (a Buffer does not survive the clone): a view of them, not a copy. */
function asBuffer(raw: Uint8Array | null | undefined): Buffer | null {
  if (!raw) return null;
  return Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
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

  constructor(private deps: RenderDeps) {
    this.cache = new CompiledCache(deps);
  }

  async render(source: CampaignSource, recipient: RenderInput): Promise<Rendered> {
    const c = this.cache.get(source.campaign.id, revisionOf(source.campaign)) ?? this.cache.add(source);
    return renderCollecting(c, recipient, this.deps);
  }

  setKeys(keys: KeySpec[]): void {
    this.deps = { ...this.deps, signer: signerFromKeys(keys) };
  }

  async close(): Promise<void> {}
}
