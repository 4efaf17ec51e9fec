import type { SmtpReply, SmtpStage } from './types.js';

/**
 * A reply line: a code 1xx-5xx (RFC 5321 §4.2), then a space, a hyphen (more lines follow) or
 * nothing. Other digit triples ("000", "600") are not SMTP and leave the line as plain text.
 */
const REPLY_LINE = /^([1-5]\d{2})(?:[ -]|$)(.*)$/;
/** RFC 3463 enhanced status code; only recognised as the first word after the reply code. */
const ENHANCED_CODE = /^([245]\.\d{1,3}\.\d{1,3})(?=\s|$)/;

interface ParsedLine {
  code?: number;
  enhanced?: string;
  text: string;
}

/**
 * Parses a raw SMTP reply, single or multi-line ("550-5.1.1 …\r\n550 5.1.1 …"). The code and
 * enhanced code come from the first line that carries them; every line contributes its text.
 * Input with no reply code at all gives code 0 and keeps the text: it is the classifier's job to
 * call that a protocol problem, and throwing here would lose the evidence.
 */
export function parseReply(raw: string, stage: SmtpStage): SmtpReply {
  const lines = raw
    .split(/\r\n|\r|\n/)
    .map(parseLine)
    .filter((l) => l.code !== undefined || l.text !== '');
  const code = lines.find((l) => l.code !== undefined)?.code ?? 0;
  const enhanced = lines.find((l) => l.enhanced !== undefined)?.enhanced;
  const text = lines
    .map((l) => l.text)
    .filter((t) => t !== '')
    .join(' ');
  const reply: SmtpReply = { kind: 'reply', stage, code, text };
  if (enhanced !== undefined) reply.enhanced = enhanced;
  return reply;
}

function parseLine(line: string): ParsedLine {
  const m = REPLY_LINE.exec(line.trim());
  if (!m) return { text: line.trim() };
  const rest = (m[2] ?? '').trim();
  const e = ENHANCED_CODE.exec(rest);
  if (!e) return { code: Number(m[1]), text: rest };
  return { code: Number(m[1]), enhanced: e[1], text: rest.slice(e[0].length).trim() };
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
/** Beyond a day a "hint" is more likely a misparse or a block than advice worth waiting for. */
const MAX_HINT_MS = 24 * HOUR;

const UNIT = '(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h)';
/**
 * The wordings receivers use to say when to come back: "try again in 300 seconds", "retry in 5
 * minutes", "try again later in 2 hours", "please try again after 60s", and greylisters'
 * "greylisted for 5 minutes". Longer unit names come first in UNIT so "min" is not read as "m".
 */
const HINTS: readonly RegExp[] = [
  new RegExp(`\\b(?:re)?try(?:\\s+again)?(?:\\s+later)?\\s+(?:in|after)\\s+(\\d+(?:\\.\\d+)?)\\s*${UNIT}\\b`, 'i'),
  new RegExp(`\\b(?:gr[ae]ylist(?:ed|ing)?|deferred|delayed)\\s+for\\s+(\\d+(?:\\.\\d+)?)\\s*${UNIT}\\b`, 'i'),
];
/** milter-greylist style: "please come back in 00:05:00". */
const CLOCK_HINT = /\bcome\s+back\s+in\s+(\d{1,2}):(\d{2}):(\d{2})\b/i;

/** The server's own suggestion of how long to wait, in ms, when it gives one and it is sane (0 < hint ≤ 24 h). */
export function retryHintMs(text: string): number | undefined {
  const ms = unitHint(text) ?? clockHint(text);
  if (ms === undefined || !(ms > 0) || ms > MAX_HINT_MS) return undefined;
  return ms;
}

function unitHint(text: string): number | undefined {
  for (const re of HINTS) {
    const m = re.exec(text);
    if (m) return Math.round(Number(m[1]) * unitMs(m[2] ?? ''));
  }
  return undefined;
}

function clockHint(text: string): number | undefined {
  const m = CLOCK_HINT.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * HOUR + Number(m[2]) * MINUTE + Number(m[3]) * SECOND;
}

function unitMs(unit: string): number {
  const u = unit.toLowerCase();
  if (u.startsWith('h')) return HOUR;
  if (u.startsWith('m')) return MINUTE;
  return SECOND;
}
