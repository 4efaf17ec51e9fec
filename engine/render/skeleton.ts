import { randomBytes } from 'node:crypto';
import * as base64 from 'nodemailer/lib/base64';
import MailComposer from 'nodemailer/lib/mail-composer';
import { hasLongerLines } from 'nodemailer/lib/mime-funcs';
import MimeNode from 'nodemailer/lib/mime-node';
import type { Attachment, Campaign, TransferEncoding } from '../../storage/store.js';
import { encodeQuotedPrintable } from './quoted-printable.js';
import type { WireText } from './wire.js';

/**
 * A campaign's MIME structure, built once by nodemailer's composer with marker bodies: the root
 * header fields that every message shares (From, Reply-To, custom fields, MIME-Version,
 * Content-Type with its boundary), and the body cut around the text and HTML parts. A message is
 * then its own header fields, the shared ones, and the pieces with each part's encoded text between
 * them: the composer's stream pipeline (most of the render cost, docs/benchmarks.md) runs once per
 * campaign instead of once per recipient. Attachments are encoded once, in the pieces.
 *
 * The boundary is nodemailer's random one, drawn once per campaign and worker thread: like a
 * boundary drawn per message, it cannot be predicted by whoever writes the recipient data (which
 * is stored before it is drawn).
 */
export interface Skeleton {
  /**
   * The message without its own fields, cut around the slots: pieces[0] slot[0] pieces[1] …
   * pieces[n]. pieces[0] starts with the shared root fields. Each piece before a slot ends with
   * its part's header lines (and CRLF), the slot adds Content-Transfer-Encoding and the content.
   */
  pieces: string[];
  /** Which part goes in each slot, in order of appearance. */
  slots: ('text' | 'html')[];
  /** The campaign's choice: auto (per message, as nodemailer chooses) or forced. */
  encoding: TransferEncoding;
}

export interface SkeletonInput {
  campaign: Campaign;
  attachments: Attachment[];
  hasHtml: boolean;
  hasText: boolean;
  /** Header fields that are the same in every message of the campaign. */
  headers: Record<string, string>;
}

export class SkeletonError extends Error {
  readonly code = 'SKELETON';
  constructor(message: string) {
    super(message);
    this.name = 'SkeletonError';
  }
}

/** Per-message root fields: the skeleton is built without them and they are written per recipient. */
const OWN_FIELDS = new Set(['to', 'subject', 'message-id', 'date']);
const CTE_LINE = 'Content-Transfer-Encoding: quoted-printable\r\n';
const EMPTY: WireText = { wire: '', plain: true };

export async function buildSkeleton(s: SkeletonInput): Promise<Skeleton> {
  const token = randomBytes(12).toString('hex');
  const marks = { text: `mxpressTEXT${token}`, html: `mxpressHTML${token}` };
  const c = s.campaign;
  const composer = new MailComposer({
    from: c.from,
    replyTo: c.replyTo ?? undefined,
    text: s.hasText ? marks.text : undefined,
    html: s.hasHtml ? marks.html : undefined,
    attachments: s.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: a.content, cid: a.cid ?? undefined })),
    headers: s.headers,
    // Each text part carries the same header lines whatever its content, so the part's
    // Content-Transfer-Encoding can be written per message in place of this one.
    encoding: 'quoted-printable',
  });
  const raw = (await composer.compile().build()).toString('utf8');
  const split = raw.indexOf('\r\n\r\n');
  if (split < 0) throw new SkeletonError('composed message has no header/body separator');
  const template = `${rootFields(raw.slice(0, split)).join('\r\n')}${raw.slice(split)}`;
  return { encoding: c.transferEncoding ?? 'auto', ...cut(template, marks) };
}

/** Unfolded into fields (a field's continuation lines stay with it), without the per-message ones. */
function rootFields(block: string): string[] {
  const fields: string[] = [];
  for (const line of block.split('\r\n')) {
    if (/^[ \t]/.test(line) && fields.length > 0) fields[fields.length - 1] += `\r\n${line}`;
    else fields.push(line);
  }
  return fields.filter((f) => !OWN_FIELDS.has(f.slice(0, f.indexOf(':')).trim().toLowerCase()));
}

/**
 * Cuts the message at each marker; the marker's part loses its Content-Transfer-Encoding line
 * (the slot writes one per message). The part's header block is the text between the previous
 * blank line and the blank line right before the marker.
 */
function cut(template: string, marks: { text: string; html: string }): { pieces: string[]; slots: ('text' | 'html')[] } {
  const found = (['text', 'html'] as const)
    .map((kind) => ({ kind, at: template.indexOf(marks[kind]) }))
    .filter((m) => m.at >= 0)
    .sort((a, b) => a.at - b.at);
  const pieces: string[] = [];
  let from = 0;
  for (const m of found) {
    if (template.indexOf(marks[m.kind], m.at + 1) >= 0) throw new SkeletonError(`the ${m.kind} marker appears twice`);
    const blank = m.at - 4;
    if (template.slice(blank, m.at) !== '\r\n\r\n') throw new SkeletonError(`the ${m.kind} part does not start right after its header`);
    const previous = template.lastIndexOf('\r\n\r\n', blank - 1);
    const blockStart = previous < 0 ? from : Math.max(from, previous + 4);
    const cte = template.lastIndexOf(CTE_LINE, blank);
    const atLineStart = cte === 0 || template.slice(cte - 2, cte) === '\r\n';
    if (cte < blockStart || !atLineStart) throw new SkeletonError(`the ${m.kind} part has no quoted-printable transfer encoding line`);
    pieces.push(template.slice(from, cte) + template.slice(cte + CTE_LINE.length, blank + 2));
    from = m.at + marks[m.kind].length;
  }
  pieces.push(template.slice(from));
  return { pieces, slots: found.map((m) => m.kind) };
}

/** The fields of one message that the skeleton leaves out, encoded and folded by nodemailer. */
export function ownFields(fields: Record<string, string>): string {
  // A child node writes no MIME-Version. A given base boundary spares a random draw per node per
  // message (1.9% of a render worker's time in the W1 profile): these nodes have no parts.
  const unused = { baseBoundary: 'none' };
  const node = new MimeNode(undefined, unused).createChild(undefined, unused);
  for (const [name, value] of Object.entries(fields)) node.setHeader(name, value);
  return node.buildHeaders();
}

/**
 * One part's Content-Transfer-Encoding line, blank line and encoded content, from the part in wire
 * form (wire.ts), so the message is in wire form when it is signed. `auto` follows nodemailer's
 * rule: 7bit for ASCII text with lines of at most 76 characters, else quoted-printable when Latin
 * letters outnumber other characters, else base64.
 */
export function encodePart(part: WireText, encoding: TransferEncoding): string {
  const { wire: text, plain } = part;
  const chosen = encoding === 'auto' ? autoEncoding(text, plain) : encoding;
  const encoded =
    chosen === '7bit' ? text : chosen === 'base64' ? base64.wrap(base64.encode(Buffer.from(text, 'utf8')), 76) : encodeQuotedPrintable(text, plain);
  return `Content-Transfer-Encoding: ${chosen}\r\n\r\n${encoded}`;
}

function autoEncoding(text: string, plain: boolean): '7bit' | 'quoted-printable' | 'base64' {
  if (plain) {
    if (!hasLongerLines(text, 76)) return '7bit';
    // Plain text has none of the characters counted as "other" below: the count comes down to
    // whether there is a Latin letter at all, which a native regex finds at once.
    return /[A-Za-z]/.test(text) ? 'quoted-printable' : 'base64';
  }
  let latin = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)) latin++;
    else if (code < 0x09 || code === 0x0b || code === 0x0c || (code >= 0x0e && code <= 0x1f) || code >= 0x80) other++;
  }
  return other < latin ? 'quoted-printable' : 'base64';
}

/** The whole message (unsigned): own fields, shared fields, and the body with each part filled in. */
export function assemble(s: Skeleton, own: string, parts: { text?: WireText; html?: WireText }): Buffer {
  let out = `${own}\r\n${s.pieces[0]}`;
  s.slots.forEach((slot, i) => {
    out += encodePart(parts[slot] ?? EMPTY, s.encoding) + s.pieces[i + 1];
  });
  return Buffer.from(out, 'utf8');
}
