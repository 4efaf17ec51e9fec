/**
 * The `name: value` blocks of RFC 3464 delivery-status and RFC 5965 feedback-report parts: groups
 * of header-style fields separated by blank lines, folded lines continued by leading white space.
 */

/** One block: lower-cased field name → values in order (a field may repeat, e.g. ARF's Reported-URI). */
export type FieldBlock = Map<string, string[]>;

export function parseFieldBlocks(text: string): FieldBlock[] {
  const blocks: FieldBlock[] = [];
  let current: FieldBlock | null = null;
  let last: { name: string; index: number } | null = null;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line.trim() === '') {
      current = null;
      last = null;
      continue;
    }
    if (/^[ \t]/.test(line) && current && last) {
      const values = current.get(last.name)!;
      values[last.index] = `${values[last.index]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    if (!current) {
      current = new Map();
      blocks.push(current);
    }
    const name = line.slice(0, colon).trim().toLowerCase();
    const values = current.get(name) ?? [];
    values.push(line.slice(colon + 1).trim());
    current.set(name, values);
    last = { name, index: values.length - 1 };
  }
  return blocks;
}

export function field(block: FieldBlock, name: string): string | null {
  return block.get(name)?.[0] ?? null;
}

/** `rfc822; user@example.com` → `user@example.com`; a value without a type is taken as is. */
export function typedValue(value: string | null): string | null {
  if (value === null) return null;
  const semi = value.indexOf(';');
  const v = (semi >= 0 ? value.slice(semi + 1) : value).trim().replace(/^<|>$/g, '');
  return v === '' ? null : v;
}
