import { all, url } from '../api.js';
import { uploadList } from '../lists.js';
import { clear, field, h, num, say, table, time } from '../ui.js';

export async function render(main) {
  const body = h('div');
  const name = h('input', { name: 'name', required: true });
  const file = h('input', { type: 'file', name: 'file', accept: '.csv,.zip,text/csv,application/zip', required: true });
  const report = h('div', { class: 'report', 'aria-live': 'polite' });
  const load = async () =>
    clear(
      body,
      table(
        'Lists',
        [
          { label: 'List', value: (l) => l.name },
          { label: 'Recipients', num: true, value: (l) => num(l.count ?? l.members) },
          { label: 'Created', value: (l) => time(l.createdAt) },
          { label: 'Export', value: (l) => h('a', { href: url(`/lists/${l.id}/export.csv`), download: '', 'aria-label': `Export list ${l.name} as CSV` }, 'CSV') },
        ],
        await all('/lists'),
        'No lists yet.',
      ),
    );
  const form = h(
    'form',
    {
      class: 'card',
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const r = await uploadList(file.files[0], name.value.trim(), report);
          say(`List uploaded: ${num(r.accepted ?? r.report?.accepted)} recipients.`);
          await load();
        } catch (err) {
          say(err.message, 'error');
        }
      },
    },
    h('h2', {}, 'Upload a list'),
    field('Name', name),
    field('File (CSV or zip)', file, 'Header row with an "email" column; delimiter and UTF-8 BOM are detected.'),
    h('button', { type: 'submit' }, 'Upload'),
    report,
  );
  clear(main, h('h1', {}, 'Lists'), body, form);
  await load();
}
