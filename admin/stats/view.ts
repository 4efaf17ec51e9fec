import type { CampaignCounters, CountRow, DomainTally, MinuteTally, SourceTally, Store } from '../../storage/store.js';

/** What the stats endpoint and the console's campaign page show: counters, rates, series, tables. */
export interface CampaignStats extends CampaignCounters {
  /** Recipients in each state (categories summed). */
  byState: Record<string, number>;
  /** Per cent of all recipients, one decimal: delivered, bounced, …; opens and clicks of delivered. */
  percent: Record<string, number>;
  /** Recipients in a final state, per cent of all: the progress bar. */
  progress: number;
  series: MinuteTally[];
  domains: DomainTally[];
  sources: SourceTally[];
}

const FINAL = new Set(['delivered', 'bounced', 'expired', 'suppressed', 'cancelled']);

export const DEFAULT_DOMAINS = 20;

function pct(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part / whole) * 1000) / 10;
}

export function byState(counts: CountRow[]): Record<string, number> {
  const out: Record<string, number> = { queued: 0, deferred: 0, delivered: 0, bounced: 0, expired: 0, suppressed: 0, cancelled: 0 };
  for (const c of counts) out[c.status] = (out[c.status] ?? 0) + c.count;
  return out;
}

/** Counters plus what follows from them; cheap enough to poll every couple of seconds. */
export function counterView(c: CampaignCounters): Omit<CampaignStats, 'series' | 'domains' | 'sources'> {
  const states = byState(c.counts);
  const done = Object.entries(states).reduce((n, [s, v]) => n + (FINAL.has(s) ? v : 0), 0);
  return {
    ...c,
    byState: states,
    progress: pct(done, c.recipients),
    percent: {
      delivered: pct(states.delivered!, c.recipients),
      deferred: pct(states.deferred!, c.recipients),
      bounced: pct(states.bounced!, c.recipients),
      expired: pct(states.expired!, c.recipients),
      suppressed: pct(states.suppressed!, c.recipients),
      uniqueOpens: pct(c.uniqueOpens, states.delivered!),
      uniqueClicks: pct(c.uniqueClicks, states.delivered!),
      unsubscribes: pct(c.unsubscribes, states.delivered!),
      complaints: pct(c.complaints, states.delivered!),
    },
  };
}

export function campaignStats(store: Store, campaignId: number, o: { sinceMinute: number; domains: number }): CampaignStats {
  return {
    ...counterView(store.campaignCounters(campaignId)),
    series: store.deliverySeries(campaignId, o.sinceMinute),
    domains: store.domainTallies(campaignId, o.domains),
    sources: store.sourceTallies(campaignId),
  };
}
