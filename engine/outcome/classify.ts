import { readFileSync } from 'node:fs';
import { parse } from 'smol-toml';
import { retryHintMs } from './reply.js';
import type { AttemptResult, Category, Failure, FailureKind, SmtpReply, SmtpStage, Verdict } from './types.js';

/** What a rule looks at. Reply conditions and failure conditions never appear in the same rule. */
export interface RuleConditions {
  stage?: readonly SmtpStage[];
  code?: RegExp;
  enhanced?: RegExp;
  text?: RegExp;
  failure?: FailureKind;
  dnsCode?: RegExp;
}

export type RuleAction = { outcome: 'delivered' } | { outcome: 'deferred' | 'bounced'; category: Category };

/** One entry of rules.toml with its regexes compiled. */
export type Rule = { name: string } & RuleConditions & RuleAction;

export class RulesError extends Error {
  readonly code = 'RULES_INVALID';
  constructor(
    message: string,
    readonly ruleIndex?: number,
    readonly ruleName?: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'RulesError';
  }
}

/** The verdict's rule name when no rule matched: possible only with a custom file lacking a catch-all. */
export const NO_RULE_MATCHED = 'no-rule-matched';

const STAGES: readonly SmtpStage[] = ['connect', 'ehlo', 'starttls', 'mail', 'rcpt', 'data', 'message'];
const FAILURES: readonly FailureKind[] = ['network', 'timeout', 'tls', 'protocol', 'dns'];
const OUTCOMES: readonly Verdict['outcome'][] = ['delivered', 'deferred', 'bounced'];
export const CATEGORIES: readonly Category[] = [
  'invalid-recipient', 'bad-domain', 'mailbox-full', 'spam-block', 'policy', 'rate-limited', 'greylisted',
  'message-too-large', 'network', 'dns', 'tls', 'protocol', 'other',
];
const RULE_KEYS: readonly string[] = ['name', 'stage', 'code', 'enhanced', 'text', 'failure', 'dns_code', 'outcome', 'category'];
const KEBAB = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** Every code a rule's `code` regex may be tested against: parseReply gives 0 or 100..599, but a reply built elsewhere could carry any number. */
const ALL_CODES: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i));

/** Parses and checks a rules file. Every problem is a RulesError naming the rule and the field. */
export function loadRules(tomlText: string): Rule[] {
  const entries = ruleEntries(tomlText);
  const names = new Set<string>();
  return entries.map((entry, i) => {
    const rule = compileRule(entry, i);
    if (names.has(rule.name)) throw new RulesError(`rule[${i}] "${rule.name}": name: used by an earlier rule`, i, rule.name, 'name');
    names.add(rule.name);
    return rule;
  });
}

/** The rules shipped next to this module. Read on every call: the caller keeps the result. */
export function defaultRules(): Rule[] {
  return loadRules(readFileSync(new URL('./rules.toml', import.meta.url), 'utf8'));
}

/** Pure: the first matching rule decides; a deferral from a reply carries the server's retry hint. */
export function classify(result: AttemptResult, rules: readonly Rule[]): Verdict {
  const rule = rules.find((r) => matches(r, result));
  if (!rule) return { outcome: 'deferred', category: 'other', rule: NO_RULE_MATCHED };
  if (rule.outcome === 'delivered') return { outcome: 'delivered', rule: rule.name };
  if (rule.outcome === 'bounced') return { outcome: 'bounced', category: rule.category, rule: rule.name };
  const verdict: Verdict = { outcome: 'deferred', category: rule.category, rule: rule.name };
  const hint = result.kind === 'reply' ? retryHintMs(result.text) : undefined;
  if (hint !== undefined) verdict.retryAfterMs = hint;
  return verdict;
}

function matches(r: Rule, x: AttemptResult): boolean {
  return x.kind === 'reply' ? matchesReply(r, x) : matchesFailure(r, x);
}

function matchesReply(r: Rule, x: SmtpReply): boolean {
  if (hasFailureConditions(r)) return false;
  if (r.stage && !r.stage.includes(x.stage)) return false;
  return holds(r.code, String(x.code)) && holds(r.enhanced, x.enhanced) && holds(r.text, x.text);
}

function matchesFailure(r: Rule, x: Failure): boolean {
  if (hasReplyConditions(r)) return false;
  if (r.failure !== undefined && r.failure !== x.failure) return false;
  return holds(r.dnsCode, x.dnsCode);
}

/** An absent value is tested as "", so a rule can say "no enhanced code" with a regex that takes "". */
function holds(re: RegExp | undefined, value: string | undefined): boolean {
  return re === undefined || re.test(value ?? '');
}

function hasReplyConditions(r: RuleConditions): boolean {
  return r.stage !== undefined || r.code !== undefined || r.enhanced !== undefined || r.text !== undefined;
}

function hasFailureConditions(r: RuleConditions): boolean {
  return r.failure !== undefined || r.dnsCode !== undefined;
}

// ---------------------------------------------------------------- loading

type Entry = Record<string, unknown>;

function ruleEntries(tomlText: string): Entry[] {
  let doc: Entry;
  try {
    doc = parse(tomlText);
  } catch (err) {
    throw new RulesError(`rules: not valid TOML: ${(err as Error).message}`);
  }
  for (const key of Object.keys(doc)) {
    if (key !== 'rule') throw new RulesError(`rules: ${key}: unknown top-level key (rules are [[rule]] tables)`, undefined, undefined, key);
  }
  const raw = doc.rule;
  if (!Array.isArray(raw) || raw.length === 0) throw new RulesError('rules: expected one or more [[rule]] tables', undefined, undefined, 'rule');
  return raw.map((entry: unknown, i) => {
    if (!isTable(entry)) throw new RulesError(`rule[${i}]: expected a table`, i);
    return entry;
  });
}

function isTable(v: unknown): v is Entry {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** Reports a problem with one field of one rule; returns never so it can sit in expressions. */
type Fail = (field: string, why: string) => never;

function compileRule(e: Entry, i: number): Rule {
  const name = typeof e.name === 'string' ? e.name : undefined;
  const fail: Fail = (field, why) => {
    throw new RulesError(`rule[${i}]${name === undefined ? '' : ` "${name}"`}: ${field}: ${why}`, i, name, field);
  };
  for (const key of Object.keys(e)) if (!RULE_KEYS.includes(key)) fail(key, `unknown field (known: ${RULE_KEYS.join(', ')})`);
  if (name === undefined || !KEBAB.test(name)) return fail('name', 'required, in kebab-case');
  const conditions = compileConditions(e, fail);
  const action = compileAction(e, fail);
  const rule: Rule = { name, ...conditions, ...action };
  checkInvariants(rule, fail);
  return rule;
}

function compileConditions(e: Entry, fail: Fail): RuleConditions {
  const c: RuleConditions = {};
  if (e.stage !== undefined) c.stage = stages(e.stage, fail);
  if (e.failure !== undefined) c.failure = oneOf(e.failure, FAILURES) ?? fail('failure', `one of ${FAILURES.join(', ')}`);
  const code = regex(e, 'code', '', fail);
  const enhanced = regex(e, 'enhanced', '', fail);
  const text = regex(e, 'text', 'i', fail);
  const dnsCode = regex(e, 'dns_code', '', fail);
  if (code) c.code = code;
  if (enhanced) c.enhanced = enhanced;
  if (text) c.text = text;
  if (dnsCode) c.dnsCode = dnsCode;
  if (c.dnsCode && c.failure !== 'dns') fail('dns_code', 'needs failure = "dns"');
  if (hasFailureConditions(c) && hasReplyConditions(c)) {
    fail(c.failure !== undefined ? 'failure' : 'dns_code', 'cannot be combined with reply conditions (stage, code, enhanced, text)');
  }
  return c;
}

function compileAction(e: Entry, fail: Fail): RuleAction {
  const outcome = oneOf(e.outcome, OUTCOMES) ?? fail('outcome', `required, one of ${OUTCOMES.join(', ')}`);
  if (outcome === 'delivered') {
    if (e.category !== undefined) fail('category', 'not used with outcome "delivered"');
    return { outcome };
  }
  const category = oneOf(e.category, CATEGORIES) ?? fail('category', `required, one of ${CATEGORIES.join(', ')}`);
  return { outcome, category };
}

/** The two promises the rules make whatever the file says: 4xx never bounces, only 2xx delivers. */
function checkInvariants(r: Rule, fail: Fail): void {
  if (r.outcome === 'bounced' && r.failure === undefined) {
    const code = r.code ?? fail('code', 'a bounced rule about replies needs a code that excludes 4xx');
    const leak = ALL_CODES.find((c) => (c === '0' || /^4\d\d$/.test(c)) && code.test(c));
    if (leak !== undefined) fail('code', `a bounced rule must not match ${leak === '0' ? 'unparseable replies (code 0)' : `4xx replies (matches ${leak})`}`);
  }
  if (r.outcome === 'delivered') {
    if (r.failure !== undefined) fail('failure', 'a failure cannot be delivered');
    const code = r.code ?? fail('code', 'a delivered rule needs a code that matches only 2xx');
    const leak = ALL_CODES.find((c) => !/^2\d\d$/.test(c) && code.test(c));
    if (leak !== undefined) fail('code', `a delivered rule must match only 2xx replies (matches ${leak})`);
  }
}

function stages(v: unknown, fail: Fail): SmtpStage[] {
  if (!Array.isArray(v) || v.length === 0) return fail('stage', `a non-empty list of ${STAGES.join(', ')}`);
  return v.map((s: unknown) => oneOf(s, STAGES) ?? fail('stage', `unknown stage ${JSON.stringify(s)}`));
}

function regex(e: Entry, field: string, flags: string, fail: Fail): RegExp | undefined {
  const v = e[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') return fail(field, 'a regular expression in a string');
  try {
    return new RegExp(v, flags);
  } catch (err) {
    return fail(field, `bad regular expression: ${(err as Error).message}`);
  }
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[]): T | undefined {
  return allowed.find((a) => a === v);
}
