import type { Store } from '../../storage/store.js';
import type { Rule } from '../outcome/classify.js';
import { decideInbound } from './decide.js';
import type { InboundReport } from './report.js';

export type InboundOutcome = 'bounced-suppressed' | 'bounced' | 'complained' | 'ignored' | 'duplicate' | 'unknown-recipient';

export interface InboundResult {
  recipientId: number;
  outcome: InboundOutcome;
  detail: string;
}

const MAX_REASON = 200;

/** Applies one parsed report to the recipient its VERP token names: event, state, suppression. */
export function applyInbound(store: Store, report: InboundReport, recipientId: number, rules: readonly Rule[], now: number): InboundResult {
  const recipient = store.getRecipient(recipientId);
  if (!recipient) return { recipientId, outcome: 'unknown-recipient', detail: 'no such recipient (deleted?)' };
  const action = decideInbound(report, recipient.email, rules);
  if (action.action === 'ignore') return { recipientId, outcome: 'ignored', detail: action.reason };
  const origin = report.kind === 'bounce' ? report.format : 'arf';
  if (action.action === 'complaint') {
    const fresh = store.recordInbound({
      recipientId,
      kind: 'complaint',
      category: action.feedbackType,
      code: null,
      enhanced: null,
      text: `feedback report: ${action.feedbackType}`,
      origin,
      suppress: { email: recipient.email, reason: `complaint (${action.feedbackType})` },
      at: now,
    });
    return { recipientId, outcome: fresh ? 'complained' : 'duplicate', detail: action.feedbackType };
  }
  const { reply } = action;
  const summary = `${reply.code}${reply.enhanced ? ` ${reply.enhanced}` : ''} ${reply.text}`.slice(0, MAX_REASON);
  const fresh = store.recordInbound({
    recipientId,
    kind: 'bounce',
    category: action.category,
    code: reply.code,
    enhanced: reply.enhanced ?? null,
    text: reply.text,
    origin,
    suppress: action.hard ? { email: recipient.email, reason: `bounce ${action.category}: ${summary}` } : null,
    at: now,
  });
  if (!fresh) return { recipientId, outcome: 'duplicate', detail: summary };
  return { recipientId, outcome: action.hard ? 'bounced-suppressed' : 'bounced', detail: `${action.category}: ${summary}` };
}
