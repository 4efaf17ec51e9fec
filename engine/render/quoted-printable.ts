/**
 * Quoted-printable (RFC 2045 6.7) for a text part in wire form (CRLF line breaks). nodemailer's
 * encoder walks the UTF-8 bytes one at a time in JS and then wraps with regular expressions per
 * line; together they were a fifth of a render worker's time in the W2 profile (docs/benchmarks.md).
 * Here one native regular expression finds the characters to escape and lines are cut with slices,
 * so text that needs no escape (most of a campaign) stays in native string code.
 */

/** Runs of characters that are not written as they are (tab, CR, LF, printable ASCII but "="). */
const ESCAPE = /[^\t\r\n\x20-\x3c\x3e-\x7e]+/g;
const MAX_LINE = 76;
const HEX = Array.from({ length: 256 }, (_, b) => `=${b.toString(16).toUpperCase().padStart(2, '0')}`);

/**
 * `text` with CRLF line breaks, encoded: lines of at most 76 characters, no character's bytes split
 * by a soft break. `plain`: the caller found no control character (but tab, CR, LF) and nothing
 * beyond ASCII in it (nodemailer's isPlainText, which the auto choice runs anyway); then only "="
 * and DEL are escaped, by native search, not by a second scan with a character class.
 */
export function encodeQuotedPrintable(text: string, plain = false): string {
  const escaped = plain ? escapePlain(text) : text.replace(ESCAPE, escapeRun);
  let out = '';
  let start = 0;
  for (;;) {
    const end = escaped.indexOf('\r\n', start);
    out += encodeLine(escaped, start, end < 0 ? escaped.length : end);
    if (end < 0) return out;
    out += '\r\n';
    start = end + 2;
  }
}

function escapePlain(text: string): string {
  const equals = text.includes('=') ? text.replaceAll('=', '=3D') : text;
  return equals.includes('\x7f') ? equals.replaceAll('\x7f', '=7F') : equals;
}

/** A run's UTF-8 bytes as escapes; a lone surrogate becomes U+FFFD's bytes, as in Buffer.from. */
function escapeRun(run: string): string {
  let out = '';
  for (let i = 0; i < run.length; i++) {
    const c = run.charCodeAt(i);
    if (c < 0x80) out += HEX[c];
    else if (c < 0x800) out += HEX[0xc0 | (c >> 6)] + HEX[0x80 | (c & 0x3f)];
    else if (c < 0xd800 || c > 0xdfff) out += HEX[0xe0 | (c >> 12)] + HEX[0x80 | ((c >> 6) & 0x3f)] + HEX[0x80 | (c & 0x3f)];
    else {
      const cp = run.codePointAt(i)!;
      if (cp < 0x10000) out += '=EF=BF=BD';
      else {
        out += HEX[0xf0 | (cp >> 18)] + HEX[0x80 | ((cp >> 12) & 0x3f)] + HEX[0x80 | ((cp >> 6) & 0x3f)] + HEX[0x80 | (cp & 0x3f)];
        i++;
      }
    }
  }
  return out;
}

/** s[start, end): one line with its escapes, its trailing blank escaped and cut by soft breaks. */
function encodeLine(s: string, start: number, end: number): string {
  const last = s.charCodeAt(end - 1);
  const blank = end > start && (last === 0x20 || last === 0x09);
  const line = blank ? s.slice(start, end - 1) + HEX[last] : s.slice(start, end);
  if (line.length <= MAX_LINE) return line;
  let out = '';
  let from = 0;
  while (line.length - from > MAX_LINE) {
    const cut = cutBefore(line, from + MAX_LINE - 1);
    out += `${line.slice(from, cut)}=\r\n`;
    from = cut;
  }
  return out + line.slice(from);
}

/**
 * Where to end a line that may hold characters up to `limit` (exclusive): not inside an "=XX"
 * escape, and not inside one character's UTF-8 bytes (so a decoder that works line by line never
 * sees half a character).
 */
function cutBefore(line: string, limit: number): number {
  let cut = limit;
  if (line[cut - 1] === '=') cut -= 1;
  else if (line[cut - 2] === '=') cut -= 2;
  // Back over continuation bytes (=80 to =BF) to the character's first byte.
  for (let k = 0; k < 3 && isContinuation(line, cut); k++) cut -= 3;
  return cut;
}

function isContinuation(line: string, at: number): boolean {
  if (line[at] !== '=' || line[at - 3] !== '=') return false;
  const byte = Number.parseInt(line.slice(at + 1, at + 3), 16);
  return byte >= 0x80 && byte <= 0xbf;
}
