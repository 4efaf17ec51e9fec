import { isIP } from 'node:net';
import type { Campaign, ClaimedRecipient, Store } from '../../storage/store.js';
import type { MxResolver, Route } from '../dns/mx.js';
import type { Source } from '../delivery/session.js';
import type { AttemptContext } from '../outcome/recorder.js';
import type { AttemptResult } from '../outcome/types.js';
import { verpAddress, type VerpOptions } from '../bounce/verp.js';
import { compileCampaign, renderMessage, type CompiledCampaign, type RenderDeps } from '../render/message.js';
import type { ShapedSite, SiteResolver } from '../shaping/policy.js';
import type { Job } from './egress.js';
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
  onMissingTag?: (campaignId: number, key: string) => void;
  render: RenderDeps;
  /** Envelope senders are VERP addresses on the bounce domain when set; else the campaign's MAIL FROM. */
  verp: VerpOptions | null;
}

const NO_CONTEXT: AttemptContext = { sourceIp: null, mxHost: null, durationMs: 0, tls: 'none' };

/**
 * Between claim and egress: route each recipient's domain (one lookup per domain per batch), choose
 * its source, render its message, and hand jobs to their egress path. Domains that cannot take mail
 * (NXDOMAIN, null MX) or cannot be resolved now get their outcome here, without a connection.
 */
export class Preparer {
  private readonly compiled = new Map<number, CompiledCampaign>();

  constructor(private readonly deps: PrepareDeps) {}

  async prepare(claimed: ClaimedRecipient[]): Promise<void> {
    const byDomain = groupBy(claimed, (r) => r.domain);
    await Promise.all([...byDomain].map(([domain, recipients]) => this.prepareDomain(domain, recipients)));
    this.deps.warmup.flush();
  }

  /** Drops compiled templates of campaigns that are gone or finished. */
  forget(campaignId: number): void {
    this.compiled.delete(campaignId);
  }

  private async prepareDomain(domain: string, recipients: ClaimedRecipient[]): Promise<void> {
    const route = await this.deps.resolver.route(domain);
    if (route.kind === 'failure') {
      for (const r of recipients) this.deps.report(r, route.failure, NO_CONTEXT);
      return;
    }
    const site = this.deps.sites.site(domain, route.hosts.map((h) => h.host), route.site);
    for (const [campaignId, group] of groupBy(recipients, (r) => r.campaignId)) {
      await this.routeCampaign(route, site, campaignId, group).catch((err: Error) => {
        for (const r of group) this.deps.release(r, err);
      });
    }
  }

  /** Every job is built before any is enqueued, so a failure leaves none of the group in egress. */
  private async routeCampaign(route: Route, site: ShapedSite, campaignId: number, group: ClaimedRecipient[]): Promise<void> {
    const c = this.campaign(campaignId);
    const bySource = new Map<Source | null, ClaimedRecipient[]>();
    for (const r of group) {
      const source = this.chooseSource(c.campaign.pool, site, route, r);
      if (source === 'unreachable') {
        this.deps.report(r, noSourceFor(c.campaign.pool, route), NO_CONTEXT);
        continue;
      }
      if (source === 'blocked') {
        this.deps.postpone(r, this.deps.warmup.reopensAt());
        continue;
      }
      const list = bySource.get(source);
      if (list) list.push(r);
      else bySource.set(source, [r]);
    }
    const ready: [Source | null, Job][] = [];
    try {
      for (const [source, rs] of bySource) for (const job of await this.jobs(c, rs, site.limits.maxRecipientsPerTransaction)) ready.push([source, job]);
    } catch (err) {
      // None of the group goes out: give back what chooseSource reserved against warm-up caps.
      for (const [source, rs] of bySource) if (source) this.deps.warmup.unreserve(source.address, site.key, rs.length);
      throw err;
    }
    for (const [source, job] of ready) this.deps.enqueue(source, site, route, job);
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

  private async jobs(c: CompiledCampaign, rs: ClaimedRecipient[], maxRecipients: number): Promise<Job[]> {
    const { render, verp } = this.deps;
    const missing = (key: string) => this.deps.onMissingTag?.(c.campaign.id, key);
    // A VERP envelope names one recipient, so even identical messages go one transaction each.
    if (c.identical && !verp) {
      const mailFrom = c.campaign.mailFrom;
      const chunks = chunk(rs, maxRecipients);
      return Promise.all(chunks.map(async (recipients) => ({ mailFrom, recipients, message: await renderMessage(c, recipients[0]!, render, missing) })));
    }
    return Promise.all(
      rs.map(async (r) => ({
        mailFrom: verp ? verpAddress(r.id, verp) : c.campaign.mailFrom,
        recipients: [r],
        message: await renderMessage(c, r, render, missing),
      })),
    );
  }

  private campaign(id: number): CompiledCampaign {
    let c = this.compiled.get(id);
    if (!c) {
      const campaign: Campaign | null = this.deps.store.getCampaign(id);
      if (!campaign) throw new Error(`claimed a recipient of unknown campaign ${id}`);
      c = compileCampaign(campaign, this.deps.store.campaignAttachments(id), this.deps.render);
      this.compiled.set(id, c);
    }
    return c;
  }
}

/** Not a bounce: the pool or the site's addresses may change; retried like a network failure. */
function noSourceFor(pool: string, route: Route): AttemptResult {
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
