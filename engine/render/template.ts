/**
 * Merge-tag templates: `{{name}}` and `{{name | "friend"}}`. Compiled once per campaign, rendered per
 * recipient, so the per-message cost is a walk over a short array.
 */

export interface MergeTag {
  key: string;
  fallback: string | null;
}
export type TemplatePart = string | MergeTag;

export interface Template {
  parts: TemplatePart[];
  keys: string[];
}

export class TemplateError extends Error {
  readonly code = 'TEMPLATE_INVALID';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

const TAG = /^\s*([A-Za-z_][\w.-]*)\s*(?:\|\s*"((?:[^"\\]|\\.)*)"\s*)?$/;

export function compileTemplate(source: string): Template {
  const parts: TemplatePart[] = [];
  const keys = new Set<string>();
  let pos = 0;
  while (pos < source.length) {
    const open = source.indexOf('{{', pos);
    if (open < 0) break;
    const close = source.indexOf('}}', open + 2);
    if (close < 0) throw new TemplateError(`unclosed "{{" at offset ${open}`, open);
    if (open > pos) parts.push(source.slice(pos, open));
    const m = TAG.exec(source.slice(open + 2, close));
    if (!m) throw new TemplateError(`bad merge tag "${source.slice(open, close + 2)}" at offset ${open} (use {{name}} or {{name | "default"}})`, open);
    const key = m[1]!;
    keys.add(key);
    parts.push({ key, fallback: m[2] === undefined ? null : m[2].replace(/\\(.)/g, '$1') });
    pos = close + 2;
  }
  if (pos < source.length) parts.push(source.slice(pos));
  return { parts, keys: [...keys] };
}

export interface RenderOptions {
  /**
   * Applied to substituted values only, never to the template's own text (HTML escaping). A pure
   * function of the value: a part's tag that appears many times is escaped once a message.
   */
  escape?: (value: string) => string;
  /** Told about each tag that had no value and no default, so the caller can count warnings. */
  onMissing?: (key: string) => void;
}

export function renderTemplate(t: Template, vars: Readonly<Record<string, string>>, opts: RenderOptions = {}): string {
  let out = '';
  for (const part of t.parts) out += typeof part === 'string' ? part : renderTag(part, vars, opts);
  return out;
}

/** One merge tag's text: its value, else its default, escaped when asked. */
export function renderTag(tag: MergeTag, vars: Readonly<Record<string, string>>, opts: RenderOptions): string {
  const { value, missing } = tagValue(tag, vars);
  if (missing) opts.onMissing?.(tag.key);
  return opts.escape ? opts.escape(value) : value;
}

/** A tag's value, else its default (unescaped); `missing` when it has neither (an empty value with no default is not missing). */
export function tagValue(tag: MergeTag, vars: Readonly<Record<string, string>>): { value: string; missing: boolean } {
  // Own fields only: {{constructor}} or {{toString}} would otherwise read what every object inherits.
  const value = Object.hasOwn(vars, tag.key) ? vars[tag.key] : undefined;
  if (value !== undefined && value !== '') return { value, missing: false };
  return { value: tag.fallback ?? '', missing: tag.fallback === null && value === undefined };
}

/**
 * Text in which merge tags were stood in for by marks (`marks` matches one, its first group the
 * tag's index in `tags`), back as template parts. A mark with no such tag stays text.
 */
export function partsFromMarked(text: string, marks: RegExp, tags: readonly MergeTag[]): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let at = 0;
  for (const m of text.matchAll(marks)) {
    const tag = tags[Number(m[1])];
    if (!tag) continue;
    if (m.index > at) parts.push(text.slice(at, m.index));
    parts.push(tag);
    at = m.index + m[0].length;
  }
  if (at < text.length) parts.push(text.slice(at));
  return parts;
}

/** A template of parts already split (its keys derived from them). */
export function templateOf(parts: TemplatePart[]): Template {
  return { parts, keys: [...new Set(parts.flatMap((p) => (typeof p === 'string' ? [] : [p.key])))] };
}

export function isStatic(t: Template): boolean {
  return t.keys.length === 0;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** Header values never carry a line break: a CR or LF in recipient data must not start a new header. */
export function flattenHeaderValue(value: string): string {
  return value.replace(/[\r\n]+/g, ' ');
}
