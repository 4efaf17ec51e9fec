import { isIP } from 'node:net';
import type { StoredMessage } from '../../storage/messages.js';
import type { ClaimedRecipient, Store } from '../../storage/store.js';
import type { MxResolver, Route } from '../dns/mx.js';
import type { Source } from '../delivery/session.js';
import type { AttemptContext } from '../outcome/recorder.js';
import type { AttemptResult } from '../outcome/types.js';
import { verpAddress, type VerpOptions } from '../bounce/verp.js';
import type { CompiledCampaign, RenderDeps } from '../render/message.js';
import { CompiledCache, sourceOf, type CampaignSource, type Rendered, type Renderer } from '../render/renderer.js';
import { TemplateError } from '../render/template.js';
import type { ShapedSite, SiteResolver } from '../shaping/policy.js';
import type { RenderBudget } from './budget.js';
import type { Job } from './egress.js';
import { BuildFailures } from './build-failures.js';
import { Handover } from './handover.js';
import type { Pools } from './pools.js';
import type { WarmupLedger } from './warmup.js';

export interface PrepareDeps {
  store: Store;
  resolver: MxResolver;
  pools: Pools;
  sites: SiteResolver;
  warmup: WarmupLedger;
  /** True while the path from this source to this site is in backoff. */
  inBackoff: (sourceIp: string, siteKey: string) => boolean;
  report: (r: ClaimedRecipient, result: AttemptResult, ctx: AttemptContext) => void;
  enqueue: (source: Source | null, site: ShapedSite, route: Route, job: Job) => void;
  /** Not an attempt: every source of the pool is at its warm-up cap for the site today. */
  postpone: (r: ClaimedRecipient, at: number) => void;
  /** A recipient that could not be prepared (a bug or a broken campaign, not a delivery attempt). */
  release: (r: ClaimedRecipient, err: Error) => void;
  /** The campaign's messages cannot be built (BuildFailures): it is paused with this reason. */
  pause: (campaignId: number, reason: string) => void;
  onMissingTag?: (campaignId: number, key: string) => void;
  /** For this thread's compile of a campaign: whether its messages are identical, and its fixed parts. */
  render: RenderDeps;
  /** Builds the messages (in worker threads, or in this one). */
  renderer: Renderer;
  /** Bounds the rendered messages held between render and outcome. */
  budget: RenderBudget;
  /** Envelope senders are VERP addresses on the bounce domain when set; else the campaign's MAIL FROM. */
  verp: VerpOptions | null;
}

/** Campaigns compiled in this thread at most (every submitted message is one), and the most bytes of their messages and attachments held. */
const COMPILED_CAMPAIGNS = 1000;
const COMPILED_BYTES = 64 * 2 ** 20;
/** Messages of a campaign that fail to build in a row before it is paused (each failed alone already: pool.ts). */
const BUILD_FAILURES_TO_PAUSE = 3;
/** Submitted messages held between their commit and their claim, at most. */
const HANDOVER = { messages: 10_000, bytes: 64 * 2 ** 20, staleMs: 10 * 60_000 };

/** A pause reason is read by people: the first part of a long error is enough. */
const MAX_REASON = 500;
const NO_CONTEXT: AttemptContext = { sourceIp: null, mxHost: null, durationMs: 0, tls: 'none' };

/**
 * Between claim and egress: route each recipient's domain (one lookup per domain per batch), choose
 * its source, render its message, and hand jobs to their egress path. Domains that cannot take mail
 * (NXDOMAIN, null MX) or cannot be resolved now get their outcome here, without a connection.
 */
export class Preparer {
  /** This thread's compiles (routing needs the pool, envelope sender and whether messages are identical). */
  private readonly compiled: CompiledCache;
  private readonly handover = new Handover(HANDOVER);
  private readonly failures = new BuildFailures(BUILD_FAILURES_TO_PAUSE);

  constructor(private readonly deps: PrepareDeps) {
    this.compiled = new CompiledCache(deps.render, COMPILED_CAMPAIGNS, COMPILED_BYTES);
  }

  /**
   * Messages just committed by submission (their campaign rows as stored, and their bytes): when
   * claimed, they are prepared from these instead of being read back. Only what is committed comes
   * here; after a restart the store is the only source.
   */
  admit(stored: readonly StoredMessage[], now: number): void {
    for (const m of stored) {
      // All its recipients suppressed: nothing will be claimed.
      if (m.accepted <= m.suppressed) continue;
      if (!this.handover.offer({ campaign: m.campaign, attachments: [], raw: m.raw }, now)) return;
    }
  }

  async prepare(claimed: ClaimedRecipient[]): Promise<void> {
    const byDomain = groupBy(claimed, (r) => r.domain);
    // As of the claim (read once per batch when the claim does not say): a campaign edited (while
    // paused) since it was compiled is compiled again.
    const revisions = new Map<number, number | null>();
    for (const r of claimed) if (r.campaignRevision !== undefined) revisions.set(r.campaignId, r.campaignRevision);
    const revision = (id: number): number | null => {
      if (!revisions.has(id)) revisions.set(id, this.deps.store.campaignRevision(id));
      return revisions.get(id) ?? null;
    };
    await Promise.all([...byDomain].map(([domain, recipients]) => this.prepareDomain(domain, recipients, revision)));
    this.deps.warmup.flush();
  }

  private async prepareDomain(domain: string, recipients: ClaimedRecipient[], revision: (id: number) => number | null): Promise<void> {
    const route = await this.deps.resolver.route(domain);
    if (route.kind === 'failure') {
      for (const r of recipients) this.deps.report(r, route.failure, NO_CONTEXT);
      return;
    }
    const site = this.deps.sites.site(domain, route.hosts.map((h) => h.host), route.site);
    // Campaigns side by side, not one after another: every submitted message is a campaign, and
    // their renders must share the worker pool's batches instead of waiting for each other.
    const routed: Promise<void>[] = [];
    for (const [campaignId, group] of groupBy(recipients, (r) => r.campaignId)) {
      let campaign: CompiledCampaign;
      try {
        campaign = this.campaign(campaignId, revision(campaignId));
      } catch (err) {
        this.notCompiled(campaignId, group, err as Error);
        continue;
      }
      routed.push(this.routeCampaign(route, site, campaign, sourceOf(campaign), group));
    }
    await Promise.all(routed);
  }

  /**
   * Each job is enqueued as soon as its message is rendered: a job waiting for the render budget
   * must never wait on messages of its own group that sit rendered but unsent. A failed render
   * returns only that job's recipients to the queue.
   */
  private async routeCampaign(route: Route, site: ShapedSite, c: CompiledCampaign, source: CampaignSource, group: ClaimedRecipient[]): Promise<void> {
    const bySource = new Map<Source | null, ClaimedRecipient[]>();
    for (const r of group) {
      const from = this.chooseSource(c.campaign.pool, site, route, r);
      if (from === 'unreachable') {
        this.deps.report(r, noSourceFor(c.campaign.pool, route, this.deps.pools.has(c.campaign.pool)), NO_CONTEXT);
        continue;
      }
      if (from === 'blocked') {
        this.deps.postpone(r, this.deps.warmup.reopensAt());
        continue;
      }
      const list = bySource.get(from);
      if (list) list.push(r);
      else bySource.set(from, [r]);
    }
    const { verp } = this.deps;
    const sends: Promise<void>[] = [];
    for (const [from, rs] of bySource) {
      const out = {
        enqueue: (job: Job) => this.deps.enqueue(from, site, route, job),
        // Not sent after all: give back what chooseSource reserved against the warm-up cap.
        giveBack: (n: number) => {
          if (from) this.deps.warmup.unreserve(from.address, site.key, n);
        },
      };
      // A VERP envelope names one recipient, so even identical messages go one transaction each.
      if (c.identical && !verp) {
        for (const recipients of chunk(rs, site.limits.maxRecipientsPerTransaction)) sends.push(this.renderAndEnqueue(source, recipients, c.campaign.mailFrom, out));
      } else {
        for (const r of rs) sends.push(this.renderAndEnqueue(source, [r], verp ? verpAddress(r.id, verp) : c.campaign.mailFrom, out));
      }
    }
    await Promise.all(sends);
  }

  private async renderAndEnqueue(
    source: CampaignSource,
    recipients: ClaimedRecipient[],
    mailFrom: string,
    out: { enqueue: (job: Job) => void; giveBack: (n: number) => void },
  ): Promise<void> {
    // Closed budget: the engine is stopping; the recipients stay claimed and the drain returns them.
    if (!(await this.deps.budget.acquire(recipients.map((r) => r.id)))) return out.giveBack(recipients.length);
    const first = recipients[0]!;
    let rendered: Rendered;
    try {
      rendered = await this.deps.renderer.render(source, { id: first.id, email: first.email, attrs: first.attrs });
    } catch (err) {
      out.giveBack(recipients.length);
      this.notRendered(source, recipients, err as Error);
      return;
    }
    this.failures.clear(source.campaign.id);
    for (const key of rendered.missing) this.deps.onMissingTag?.(source.campaign.id, key);
    out.enqueue({ mailFrom, recipients, message: rendered.message });
  }

  /**
   * Back to the queue. A template that does not compile never will: the campaign is paused at once.
   * Anything else here (the store) is not the campaign's fault.
   */
  private notCompiled(campaignId: number, recipients: ClaimedRecipient[], err: Error): void {
    for (const r of recipients) this.deps.release(r, err);
    if (err instanceof TemplateError) this.pause(campaignId, `its template does not compile: ${err.message}`);
  }

  /**
   * Back to the queue; past the limit of failures in a row, the campaign is paused too. Not a
   * submitted message: it is only signed, so its failures are the pool's, not its sender's, and a
   * paused one would wait unseen for ever.
   */
  private notRendered(source: CampaignSource, recipients: ClaimedRecipient[], err: Error): void {
    for (const r of recipients) this.deps.release(r, err);
    const { id, revision } = source.campaign;
    if (source.raw || !this.failures.failed(id, revision ?? 0)) return;
    this.pause(id, `${BUILD_FAILURES_TO_PAUSE} of its messages in a row could not be built; the last: ${err.message}`);
  }

  private pause(campaignId: number, reason: string): void {
    this.failures.clear(campaignId);
    // Cut at a character, not inside one.
    this.deps.pause(campaignId, Array.from(reason).slice(0, MAX_REASON).join(''));
  }

  /** Sticky unless in backoff for the site (greylisted retries stay regardless); warm-up caps reserved here. */
  private chooseSource(pool: string, site: ShapedSite, route: Route, r: ClaimedRecipient): Source | null | 'blocked' | 'unreachable' {
    const { warmup, inBackoff } = this.deps;
    const source = this.deps.pools.choose(pool, r.sourceIp, {
      reaches: (a) => !route.families?.length || route.families.includes(isIP(a)),
      avoid: (a) => inBackoff(a, site.key),
      blocked: (a) => !warmup.allows(a, site.key),
      keepSticky: r.lastCategory === 'greylisted',
    });
    if (source !== null && source !== 'blocked' && source !== 'unreachable') warmup.reserve(source.address, site.key, 1);
    return source;
  }

  /** The compile of the campaign's current revision (null: the campaign is gone), read from the store when there is none. */
  private campaign(id: number, revision: number | null): CompiledCampaign {
    const cached = revision === null ? undefined : this.compiled.get(id, revision);
    if (cached) return cached;
    // Handed over as committed: compiled from that, unless edited since (the cache's revision rule decides).
    const handed = this.handover.take(id);
    const fromHanded = handed && revision !== null ? this.compiled.addAt(handed, revision) : undefined;
    if (fromHanded) return fromHanded;
    const campaign = this.deps.store.getCampaign(id);
    if (!campaign) throw new Error(`claimed a recipient of unknown campaign ${id}`);
    return this.compiled.add({ campaign, attachments: this.deps.store.campaignAttachments(id), raw: this.deps.store.messages.raw(id) });
  }
}

/** Not a bounce: the pool or the site's addresses may change; retried like a network failure. */
function noSourceFor(pool: string, route: Route, poolExists: boolean): AttemptResult {
  if (!poolExists) return { kind: 'failure', failure: 'network', message: `pool "${pool}" does not exist (deleted?): make it again, or the recipients expire` };
  const has = (route.families ?? []).map((f) => `IPv${f}`).join(' and ');
  return { kind: 'failure', failure: 'network', message: `no source of pool "${pool}" can reach ${route.site}: its MX hosts have only ${has} addresses` };
}

function groupBy<T, K>(items: T[], key: (item: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
