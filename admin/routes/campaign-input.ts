import { checkMessageOptions } from '../../engine/ingress/message.js';
import type { CampaignInput, Store } from '../../storage/store.js';
import { HttpError } from '../auth/session.js';

/** The campaign fields a form or a JSON body may carry, as text. */
export const TEXT_FIELDS = ['name', 'from', 'subject', 'html', 'text', 'pool', 'replyTo'] as const;
export type Fields = Partial<Record<(typeof TEXT_FIELDS)[number], string>>;

/** The address inside a From header (`News <news@x.test>` → `news@x.test`): the envelope sender. */
export function addressOf(from: string): string | null {
  const m = /<([^<>\s]+@[^<>\s]+)>\s*$/.exec(from) ?? /^\s*([^<>\s]+@[^<>\s]+)\s*$/.exec(from);
  return m ? m[1]! : null;
}

/** Why `pool` cannot be named by a campaign or message (the live set: config and API pools); null when it can. */
export function poolProblem(store: Store, pool: string): string | null {
  return store.sources.pool(pool) ? null : `pool: "${pool}" is not a pool (see GET /api/v1/pools)`;
}

/** The first problem of the fields, naming the field; null when they are fine. */
export function checkFields(f: Fields, store: Store): string | null {
  if (!f.name?.trim()) return 'name: is required';
  if (f.name.length > 200) return 'name: at most 200 characters';
  if (!f.from?.trim()) return 'from: is required';
  if (!addressOf(f.from)) return 'from: is not an address or "Name <address>"';
  if (!f.subject?.trim()) return 'subject: is required';
  if (!f.html?.trim() && !f.text?.trim()) return 'html: an HTML or a text body is required';
  return poolProblem(store, f.pool || 'default');
}

/** Checked campaign content from the fields, or 400 naming the field. */
export function campaignInput(f: Fields, store: Store, tracking?: boolean): CampaignInput {
  const problem = checkFields(f, store);
  if (problem) throw new HttpError(400, problem);
  const input: CampaignInput = {
    name: f.name!.trim(),
    from: f.from!.trim(),
    mailFrom: addressOf(f.from!)!,
    subject: f.subject!,
    html: f.html?.trim() ? f.html : null,
    text: f.text?.trim() ? f.text : null,
    pool: f.pool || 'default',
    replyTo: f.replyTo?.trim() ? f.replyTo.trim() : null,
    ...(tracking === undefined ? {} : { tracking }),
  };
  const problems = checkMessageOptions(input);
  // The API spells it replyTo; the CLI and config, reply_to.
  if (problems.length > 0) throw new HttpError(400, problems.map((p) => `${p.field.replace(/^reply_to$/, 'replyTo')}: ${p.reason}`).join('; '));
  return input;
}
