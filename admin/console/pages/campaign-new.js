import { all, post } from '../api.js';
import { uploadList } from '../lists.js';
import { clear, field, h, num, say } from '../ui.js';

/** New campaign: a list (uploaded here or existing), the message, and a live preview of the HTML. */
export async function render(main, _params, { go }) {
  const lists = await all('/lists').catch(() => []);
  const name = h('input', { name: 'name', required: true, maxlength: 200 });
  const from = h('input', { name: 'from', required: true, placeholder: 'News <news@example.com>' });
  const subject = h('input', { name: 'subject', required: true, maxlength: 998 });
  const file = h('input', { type: 'file', name: 'file', accept: '.csv,.zip,text/csv,application/zip' });
  const existing = h(
    'select',
    { name: 'list' },
    h('option', { value: '' }, '(upload a file)'),
    lists.map((l) => h('option', { value: l.id }, `${l.name} (${num(l.count ?? l.members ?? 0)})`)),
  );
  const report = h('div', { class: 'report', 'aria-live': 'polite' });
  const html = h('textarea', { name: 'html', rows: 14, spellcheck: false });
  const text = h('textarea', { name: 'text', rows: 8 });
  // The preview runs nothing: a sandboxed frame without allow-scripts, and the console's CSP on top.
  const preview = h('iframe', { title: 'Preview of the HTML message', sandbox: '', class: 'preview' });
  const showPreview = () => (preview.srcdoc = html.value);
  html.addEventListener('input', showPreview);
  const submit = h('button', { type: 'submit' }, 'Create campaign');

  const form = h(
    'form',
    {
      class: 'card',
      onsubmit: async (e) => {
        e.preventDefault();
        submit.disabled = true;
        try {
          let listId = existing.value ? Number(existing.value) : null;
          if (!listId) {
            if (!file.files[0]) throw new Error('Choose a list file to upload, or an existing list.');
            const up = await uploadList(file.files[0], name.value.trim(), report);
            listId = up.id;
          }
          const body = { name: name.value.trim(), from: from.value.trim(), subject: subject.value, html: html.value || null, text: text.value || null, lists: [listId] };
          const c = await post('/campaigns', body);
          say(`Campaign "${c.name}" created as a draft.`);
          go(`#/campaigns/${c.id}`);
        } catch (err) {
          say(err.message, 'error');
        } finally {
          submit.disabled = false;
        }
      },
    },
    field('Name', name),
    field('From', from, 'The From header: a name and an address of a sender domain.'),
    h('fieldset', {}, h('legend', {}, 'Recipients'), field('Upload a list (CSV or zip)', file, 'Header row with an "email" column; other columns become merge tags like {{name}}.'), field('Or use an existing list', existing), report),
    field('Subject', subject),
    h('div', { class: 'split' }, field('HTML body', html, 'Merge tags like {{name}} are filled per recipient.'), h('div', { class: 'field' }, h('span', { class: 'label' }, 'Preview'), preview)),
    field('Text body', text, 'Plain-text part; leave empty to derive it from the HTML.'),
    submit,
  );
  clear(main, h('h1', {}, 'New campaign'), form);
  name.focus();
}
