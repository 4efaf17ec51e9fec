/**
 * A text part in wire form (CRLF line breaks) and whether it is plain text, nodemailer's test that
 * picks its transfer encoding. Scanned whole, both cost about 4 µs on each 5,000-character part of
 * every message, a tenth of an Ed25519 render (docs/benchmarks.md, whole-part scans). A template's
 * own text is the same in every message, so it is put in wire form and tested once per compiled
 * campaign; a message then tests and converts only its values, each distinct tag once.
 */
import { isPlainText } from 'nodemailer/lib/mime-funcs';
import { tagValue, type MergeTag, type RenderOptions, type Template } from './template.js';

/** A part's content with CRLF line breaks; `plain`: no control character (but tab, CR, LF) and nothing beyond ASCII. */
export interface WireText {
  wire: string;
  plain: boolean;
}

/** A template prepared for renderWire: its text in wire form and tested once, its tags each counted once. */
export interface WireTemplate {
  /** The template's own text with CRLF line breaks, and in place of each tag its index in `tags`. */
  parts: (string | number)[];
  /** Each distinct tag once (same key, same default): a message works out each value once, however often it appears. */
  tags: MergeTag[];
  /** Every piece of the template's own text is plain. */
  plain: boolean;
  /**
   * False when a piece of its own text ends in CR: the LF a value may start with would make one
   * line break of the two, so such a template's messages are converted whole.
   */
  split: boolean;
  /** The template's own text as written, for the whole-text way. */
  source: (string | number)[];
}

/** Every line break (CRLF, lone CR, lone LF) CRLF. Text without CR (the usual case) takes a native search and replace, not a regex pass. */
export function crlfLines(content: string): string {
  return content.includes('\r') ? content.replace(/\r\n|\r|\n/g, '\r\n') : content.replaceAll('\n', '\r\n');
}

/** Text put together some other way (a tracked HTML part), converted and tested whole. */
export function wireText(text: string): WireText {
  const wire = crlfLines(text);
  return { wire, plain: isPlainText(wire) };
}

export function wireTemplate(t: Template): WireTemplate {
  const tags: MergeTag[] = [];
  const index = new Map<string, number>();
  const source = t.parts.map((p) => {
    if (typeof p === 'string') return p;
    const id = JSON.stringify([p.key, p.fallback]);
    let at = index.get(id);
    if (at === undefined) index.set(id, (at = tags.push(p) - 1));
    return at;
  });
  const own = source.filter((p): p is string => typeof p === 'string');
  return {
    parts: source.map((p) => (typeof p === 'string' ? crlfLines(p) : p)),
    tags,
    plain: own.every((p) => isPlainText(p)),
    split: !own.some((p) => p.endsWith('\r')),
    source,
  };
}

/** One distinct tag's text for a message: escaped, and in wire form (used when no value holds a CR). */
interface Value {
  text: string;
  wire: string;
  plain: boolean;
  missing: boolean;
}

/**
 * The template filled in for one recipient, in wire form: the same text and the same `plain` as
 * wireText(renderTemplate(template, vars, opts)), and onMissing told of each missing tag where it
 * appears, as renderTemplate tells it. Converting the pieces one by one gives the whole's line
 * breaks as long as no CR can pair with an LF across a seam: the template's own text ending in CR
 * is ruled out by `split`, and a value holding a CR sends the message down the whole-text way.
 */
export function renderWire(w: WireTemplate, vars: Readonly<Record<string, string>>, opts: RenderOptions = {}): WireText {
  let seamless = w.split;
  const values = w.tags.map((tag): Value => {
    const { value, missing } = tagValue(tag, vars);
    const text = opts.escape ? opts.escape(value) : value;
    if (text.includes('\r')) seamless = false;
    return { text, wire: crlfLines(text), plain: isPlainText(text), missing };
  });
  const onMissing = opts.onMissing;
  if (onMissing) for (const p of w.parts) if (typeof p === 'number' && values[p]!.missing) onMissing(w.tags[p]!.key);
  return seamless ? joined(w, values) : wireText(filled(w.source, values));
}

function joined(w: WireTemplate, values: Value[]): WireText {
  let wire = '';
  for (const p of w.parts) wire += typeof p === 'string' ? p : values[p]!.wire;
  return { wire, plain: w.plain && values.every((v) => v.plain) };
}

function filled(source: (string | number)[], values: Value[]): string {
  let out = '';
  for (const p of source) out += typeof p === 'string' ? p : values[p]!.text;
  return out;
}
