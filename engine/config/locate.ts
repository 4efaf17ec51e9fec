/** A key's position in the parsed document: table and key names, array indices as numbers. */
export type KeyPath = readonly (string | number)[];

const BARE = String.raw`[A-Za-z0-9_-]+`;
const QUOTED = String.raw`"(?:[^"\\]|\\.)*"|'[^']*'`;
const DOTTED = String.raw`(?:${BARE}|${QUOTED})(?:\s*\.\s*(?:${BARE}|${QUOTED}))*`;
const HEADER = new RegExp(String.raw`^\s*(\[\[?)\s*(${DOTTED})\s*\]`);
const ASSIGN = new RegExp(String.raw`^\s*(${DOTTED})\s*=`);
const SEGMENT = new RegExp(`${BARE}|${QUOTED}`, 'g');
const BARE_KEY = new RegExp(`^${BARE}$`);

/** `['pools', 'default', 'sources', 1]` → `pools.default.sources[1]`, quoting names TOML would quote. */
export function formatKey(path: KeyPath): string {
  return path.reduce<string>((out, part) => {
    if (typeof part === 'number') return `${out}[${part}]`;
    const name = BARE_KEY.test(part) ? part : JSON.stringify(part);
    return out ? `${out}.${name}` : name;
  }, '');
}

interface Candidate {
  line: number;
  path: KeyPath;
}

/**
 * Best-effort 1-based line of `path` in TOML `text`: the table header or `key =` line whose full key
 * covers the longest leading part of the path. So `retry.schedule[2]` lands on `schedule =` inside
 * `[retry]`, `sources[1].helo` on `helo =` after the second `[[sources]]`, and a key the file never
 * sets (a default that broke a cross-field rule) on its table's header. This reads lines, not TOML
 * grammar: inline tables and values spread over several lines resolve to the line of their key.
 */
export function findLine(text: string, path: KeyPath): number | undefined {
  if (path.length === 0) return undefined;
  let best: Candidate | undefined;
  for (const c of candidates(text)) {
    if (!isPrefix(c.path, path)) continue;
    if (!best || c.path.length > best.path.length) best = c;
  }
  return best?.line;
}

/** Every header and assignment line with the full key it defines, in file order. */
function* candidates(text: string): Generator<Candidate> {
  const arrayCounts = new Map<string, number>();
  let table: KeyPath = [];
  let inMultilineString = false;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const wasInString = inMultilineString;
    if (countDelimiters(raw) % 2 === 1) inMultilineString = !inMultilineString;
    if (wasInString) continue;
    const header = HEADER.exec(raw);
    if (header) {
      table = headerPath(header[1] === '[[', splitKey(header[2]!), arrayCounts);
      yield { line: i + 1, path: table };
      continue;
    }
    const assign = ASSIGN.exec(raw);
    if (assign) yield { line: i + 1, path: [...table, ...splitKey(assign[1]!)] };
  }
}

/** `[[sources]]` is an element of an array: the n-th occurrence is `sources[n]`. */
function headerPath(isArray: boolean, segments: string[], arrayCounts: Map<string, number>): KeyPath {
  if (!isArray) return segments;
  const name = segments.join('\u0000');
  const index = arrayCounts.get(name) ?? 0;
  arrayCounts.set(name, index + 1);
  return [...segments, index];
}

/** Triple quotes open or close a multi-line string, whose lines must not be read as keys. */
function countDelimiters(line: string): number {
  return (line.match(/"""|'''/g) ?? []).length;
}

function splitKey(dotted: string): string[] {
  return (dotted.match(SEGMENT) ?? []).map(unquote);
}

function unquote(segment: string): string {
  if (segment.startsWith("'")) return segment.slice(1, -1);
  if (!segment.startsWith('"')) return segment;
  try {
    // JSON escapes match TOML's basic-string escapes for anything a key name plausibly holds.
    return JSON.parse(segment) as string;
  } catch {
    return segment.slice(1, -1);
  }
}

function isPrefix(prefix: KeyPath, path: KeyPath): boolean {
  if (prefix.length > path.length) return false;
  return prefix.every((part, i) => part === path[i]);
}
