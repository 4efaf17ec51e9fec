/**
 * A text part in wire form (CRLF line breaks) and whether it is plain text, nodemailer's test that
 * picks its transfer encoding. Scanned whole, both cost about 4 µs on each 5,000-character part of
 * every message, a tenth of an Ed25519 render (docs/benchmarks.md, whole-part scans). A template's
 * own text is the same in every message, so it is put in wire form and tested once per campaign;
 * a message then tests and converts only the values put into it.
 */
import { isPlainText } from 'nodemailer/lib/mime-funcs';
import { renderTag, type RenderOptions, type Template, type TemplatePart } from './template.js';

/** A part's content with CRLF line breaks; `plain`: no control character (but tab, CR, LF) and nothing beyond ASCII. */
export interface WireText {
  wire: string;
  plain: boolean;
}

/** A template prepared for renderWire: its text in wire form and tested once. */
export interface WireTemplate {
  source: Template;
  /** The source's parts, its own text with CRLF line breaks. */
  parts: TemplatePart[];
  /** Every piece of the template's own text is plain. */
  plain: boolean;
  /**
   * False when a piece of its own text ends in CR: the LF a value may start with would make one
   * line break of the two, so such a template's messages are converted whole.
   */
  split: boolean;
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

export function wireTemplate(source: Template): WireTemplate {
  const own = source.parts.filter((p): p is string => typeof p === 'string');
  return {
    source,
    parts: source.parts.map((p) => (typeof p === 'string' ? crlfLines(p) : p)),
    plain: own.every((p) => isPlainText(p)),
    split: !own.some((p) => p.endsWith('\r')),
  };
}

/**
 * The template filled in for one recipient, in wire form: the same text and the same `plain` as
 * wireText(renderTemplate(source, vars, opts)). Converting the pieces one by one gives the whole's
 * line breaks as long as no CR can pair with an LF across a seam: the template's own text ending in
 * CR is ruled out by `split`, and a value holding a CR sends the message down the whole-text way.
 */
export function renderWire(w: WireTemplate, vars: Readonly<Record<string, string>>, opts: RenderOptions = {}): WireText {
  const values: string[] = [];
  let seamless = w.split;
  for (const part of w.parts) {
    if (typeof part === 'string') continue;
    const value = renderTag(part, vars, opts);
    if (value.includes('\r')) seamless = false;
    values.push(value);
  }
  return seamless ? joined(w.parts, values, w.plain) : wireText(filled(w.source.parts, values));
}

function joined(parts: TemplatePart[], values: string[], ownPlain: boolean): WireText {
  let wire = '';
  let plain = ownPlain;
  let next = 0;
  for (const part of parts) {
    if (typeof part === 'string') {
      wire += part;
      continue;
    }
    const value = values[next++]!;
    if (plain && !isPlainText(value)) plain = false;
    wire += value.includes('\n') ? value.replaceAll('\n', '\r\n') : value;
  }
  return { wire, plain };
}

function filled(parts: TemplatePart[], values: string[]): string {
  let out = '';
  let next = 0;
  for (const part of parts) out += typeof part === 'string' ? part : values[next++]!;
  return out;
}
