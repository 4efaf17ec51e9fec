import { api } from '../api.js';
import { showReport } from '../lists.js';
import { clear, field, h, say } from '../ui.js';

/** New campaign: the list file, the message, and a live preview of the HTML. Saved as a draft. */
export async function render(main, _params, { go }) {
  const name = h('input', { name: 'name', required: true, maxlength: 200 });
  const from = h('input', { name: 'from', required: true, placeholder: 'News <news@example.com>' });
  const subject = h('input', { name: 'subject', required: true, maxlength: 998 });
  const file = h('input', { type: 'file', name: 'file', accept: '.csv,text/csv', required: true });
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
          const form = new FormData();
          for (const [k, el] of Object.entries({ name, from, subject, html, text })) form.append(k, el.value);
          form.append('file', file.files[0], file.files[0].name);
          const c = await api('POST', '/campaigns', form);
          showReport(report, c.report);
          say(`Campaign "${c.name}" saved as a draft: ${c.report.accepted} recipients, ${c.report.invalid} invalid rows.`);
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
    h('fieldset', {}, h('legend', {}, 'Recipients'), field('List file (CSV)', file, 'Header row with an "email" column; other columns become merge tags like {{name}}.'), report),
    field('Subject', subject),
    h('div', { class: 'split' }, field('HTML body', html, 'Merge tags like {{name}} are filled per recipient.'), h('div', { class: 'field' }, h('span', { class: 'label' }, 'Preview'), preview)),
    field('Text body', text, 'Plain-text part; leave empty to derive it from the HTML.'),
    submit,
  );
  clear(main, h('h1', {}, 'New campaign'), form);
  name.focus();
}
