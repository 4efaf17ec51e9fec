import { all, del, post } from '../api.js';
import { change, clear, field, h, submitted, table } from '../ui.js';

/**
 * Sources (admin): the config's (changed in the config file) and those added here, one address or a
 * CIDR range at a time. Addresses this host does not have are flagged; the engine uses changes at once.
 */
export async function render(main) {
  const body = h('div');
  const warnings = h('div', { role: 'region', 'aria-label': 'Warnings', 'aria-live': 'polite' });
  const address = h('input', { name: 'address', required: true, placeholder: '203.0.113.7 or 203.0.113.8/29', autocomplete: 'off' });
  const helo = h('input', { name: 'helo', required: true, placeholder: 'mta1.sender.example', autocomplete: 'off' });

  const remove = (s) =>
    h('button', {
      type: 'button',
      'aria-label': `Remove source ${s.address}`,
      onclick: () => change({ action: () => del(`/sources/${encodeURIComponent(s.address)}`), done: () => `Source ${s.address} removed.`, reload: load }),
    }, 'Remove');
  const load = async () => {
    const sources = await all('/sources');
    clear(
      body,
      table(
        'Source addresses',
        [
          { label: 'Address', value: (s) => s.address },
          { label: 'EHLO name', value: (s) => s.helo },
          { label: 'Bound on this host', value: (s) => (s.bound ? 'yes' : h('strong', { class: 'warn' }, 'not bound: sending from it will fail')) },
          { label: 'Origin', value: (s) => (s.origin === 'config' ? 'config file' : 'added here') },
          { label: 'Actions', value: (s) => (s.origin === 'config' ? '' : remove(s)) },
        ],
        sources,
        'No sources: mail goes out from the host’s default address.',
      ),
    );
  };
  const form = h(
    'form',
    {
      class: 'card inline',
      'aria-label': 'Add sources',
      onsubmit: submitted({
        action: () => {
          // The last answer's warnings go; a failed request leaves none.
          clear(warnings);
          const given = address.value.trim();
          return post('/sources', { [given.includes('/') ? 'cidr' : 'address']: given, helo: helo.value.trim() });
        },
        done: (res) => {
          clear(warnings, ...(res.warnings.length === 0 ? [] : [h('ul', { class: 'warn' }, res.warnings.map((w) => h('li', {}, w)))]));
          const skipped = res.skipped.length > 0 ? ` Already sources, skipped: ${res.skipped.join(', ')}.` : '';
          return { text: `Added ${res.added.length} source${res.added.length === 1 ? '' : 's'}.${skipped}`, kind: res.warnings.length > 0 ? 'error' : 'info' };
        },
        reset: [address],
        reload: load,
      }),
    },
    field('Address or CIDR range', address, 'One IPv4 or IPv6 address, or a range of at most 1024 written as its network address.'),
    field('EHLO name', helo),
    h('button', { type: 'submit' }, 'Add sources'),
  );
  clear(
    main,
    h('h1', {}, 'Sources'),
    h('p', { class: 'hint' }, 'Sources from the configuration file ([[sources]]) are changed there; those added here are kept in the database. Changes reach the engine at once.'),
    form,
    warnings,
    body,
  );
  await load();
}
