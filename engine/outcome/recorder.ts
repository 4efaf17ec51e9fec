import type { AttemptRecord, AttemptStatus, ClaimedRecipient, Store } from '../../storage/store.js';
import type { TlsState } from '../delivery/session.js';
import { classify, type Rule } from './classify.js';
import { planRetry, type RetryPolicy } from './retry.js';
import type { AttemptResult, Verdict } from './types.js';

export interface AttemptContext {
  sourceIp: string | null;
  mxHost: string | null;
  durationMs: number;
  tls: TlsState;
  /** The site (MX set) of the egress path, when a connection was tried; for metrics by site. */
  site?: string;
}

export interface RecorderDeps {
  store: Store;
  rules: Rule[];
  retry: RetryPolicy;
  now: () => number;
  random: () => number;
  /** Outcomes are written in one transaction per flush: at most this many, at least this often. */
  maxBatch: number;
  flushMs: number;
  onRecord?: (rec: AttemptRecord, r: ClaimedRecipient, ctx: AttemptContext) => void;
}

/**
 * Longest reply text kept in an event. Classification saw the whole reply; the event keeps enough
 * to read it, so a server answering with 500 lines cannot make every event row 100 KB.
 */
export const MAX_EVENT_TEXT = 1000;

export function bounded(text: string): string {
  if (text.length <= MAX_EVENT_TEXT) return text;
  return `${text.slice(0, MAX_EVENT_TEXT)}… (${text.length - MAX_EVENT_TEXT} more characters)`;
}

/**
 * Turns each attempt into its recipient's new state (classification, then the retry plan for
 * deferrals) and writes them in batched transactions. Until a flush, a delivered recipient is still
 * leased in the store: a crash in that window is what can cause a duplicate (docs/guarantees.md).
 */
export class OutcomeRecorder {
  private buffer: AttemptRecord[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: RecorderDeps) {}

  record(r: ClaimedRecipient, result: AttemptResult, ctx: AttemptContext): AttemptRecord {
    const now = this.deps.now();
    const verdict = classify(result, this.deps.rules);
    const { status, nextAttemptAt } = this.plan(r, verdict, now);
    const reply = result.kind === 'reply' ? result : null;
    const rec: AttemptRecord = {
      recipientId: r.id,
      campaignId: r.campaignId,
      status,
      nextAttemptAt,
      category: verdict.outcome === 'delivered' ? null : verdict.category,
      sourceIp: ctx.sourceIp,
      mxHost: ctx.mxHost,
      code: reply ? reply.code : null,
      enhanced: reply?.enhanced ?? null,
      text: bounded(result.kind === 'reply' ? result.text : result.message),
      durationMs: ctx.durationMs,
      tls: ctx.tls,
      at: now,
    };
    this.buffer.push(rec);
    this.deps.onRecord?.(rec, r, ctx);
    if (this.buffer.length >= this.deps.maxBatch) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.deps.flushMs);
    return rec;
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.deps.store.recordAttempts(batch);
  }

  private plan(r: ClaimedRecipient, v: Verdict, now: number): { status: AttemptStatus; nextAttemptAt: number | null } {
    if (v.outcome !== 'deferred') return { status: v.outcome, nextAttemptAt: null };
    const plan = planRetry(
      this.deps.retry,
      { attempts: r.attempts + 1, queuedAt: r.queuedAt, now, hintMs: v.retryAfterMs },
      this.deps.random,
    );
    return plan.kind === 'retry' ? { status: 'deferred', nextAttemptAt: plan.at } : { status: 'expired', nextAttemptAt: null };
  }
}
