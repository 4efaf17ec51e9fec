import { api } from './api.js';
import { clear, h, num, table } from './ui.js';

/** Uploads a CSV or zip as a new list and shows the import report (accepted, invalid rows by line). */
export async function uploadList(file, name, reportEl) {
  const form = new FormData();
  form.append('name', name || file.name);
  form.append('file', file, file.name);
  const r = await api('POST', '/lists', form);
  showReport(reportEl, r);
  return r;
}

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
