import { clear, h, num, table } from './ui.js';

/** The import report: counts, and the invalid rows with their CSV line. */
export function showReport(el, r) {
  const s = r.report ?? r;
  const invalidRows = s.invalidRows ?? s.invalid_rows ?? [];
  clear(
    el,
    h('p', {}, `Accepted ${num(s.accepted)}, invalid ${num(typeof s.invalid === 'number' ? s.invalid : invalidRows.length)}, duplicates ${num(s.duplicates)}, suppressed ${num(s.suppressed)}.`),
    invalidRows.length > 0
      ? table('Invalid rows', [{ label: 'Line', num: true, value: (x) => x.line }, { label: 'Value', value: (x) => x.value ?? '' }, { label: 'Reason', value: (x) => x.reason }], invalidRows.slice(0, 100))
      : null,
  );
}
