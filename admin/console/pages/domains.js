import { all, get, post } from '../api.js';
import { clear, field, h, say, submitted, table } from '../ui.js';

/** Sender domains (admin): make a DKIM key, see the DNS records to publish, check what DNS has. */
export async function render(main) {
  const body = h('div');
  const domain = h('input', { name: 'domain', required: true, placeholder: 'sender.example' });
  const algorithm = h('select', { name: 'algorithm' }, h('option', { value: 'rsa-sha256' }, 'RSA 2048'), h('option', { value: 'ed25519-sha256' }, 'Ed25519'));
  const recordsTable = (d) =>
    table(
      `DNS records for ${d.domain}`,
      [
        { label: 'Name', value: (r) => r.name },
        { label: 'Type', value: (r) => r.type },
        { label: 'Value', value: (r) => h('code', {}, r.value) },
        { label: 'In DNS', value: (r) => r.published ?? 'not checked' },
        { label: 'Why', value: (r) => r.why },
      ],
      d.records,
    );
  const section = (d) => {
    const holder = h('div', {}, recordsTable(d));
    const check = h('button', {
      type: 'button',
      'aria-label': `Check DNS for ${d.domain}`,
      onclick: async () => {
        try {
          clear(holder, recordsTable(await get(`/domains/${encodeURIComponent(d.domain)}?check=true`)));
        } catch (err) {
          say(err.message, 'error');
        }
      },
    }, 'Check DNS');
    return h('section', { class: 'card' }, h('h2', {}, d.domain), h('p', {}, `DKIM selector ${d.selector} (${d.algorithm}); bounces to ${d.bounceDomain}. `, check), holder);
  };
  const load = async () => {
    const domains = await all('/domains');
    clear(body, ...(domains.length === 0 ? [h('p', { class: 'empty' }, 'No sender domains yet.')] : domains.map(section)));
  };
  const form = h(
    'form',
    {
      class: 'card inline',
      onsubmit: submitted({
        action: () => post('/domains', { domain: domain.value.trim(), algorithm: algorithm.value }),
        done: () => `${domain.value.trim()} added: publish its records below.`,
        reset: [domain],
        reload: load,
      }),
    },
    field('Domain', domain),
    field('DKIM algorithm', algorithm),
    h('button', { type: 'submit' }, 'Add domain'),
  );
  clear(
    main,
    h('h1', {}, 'Sender domains'),
    h('p', { class: 'hint' }, 'The running engine signs with a new key as soon as the domain is added: publish the DKIM record first, then check the records here.'),
    form,
    body,
  );
  await load();
}
