import { all, post } from '../api.js';
import { clear, field, h, say, table } from '../ui.js';

export async function render(main) {
  const body = h('div');
  const address = h('input', { name: 'address', required: true, placeholder: '192.0.2.10 or 192.0.2.0/28' });
  const helo = h('input', { name: 'helo', placeholder: 'mta1.example.com' });
  const load = async () =>
    clear(
      body,
      table(
        'Source addresses',
        [
          { label: 'Address', value: (s) => s.address },
          { label: 'EHLO name', value: (s) => s.helo ?? '' },
          { label: 'Bound on this host', value: (s) => (s.bound === false ? h('strong', { class: 'warn' }, 'not bound') : s.bound ? 'yes' : '') },
        ],
        await all('/sources'),
        'No sources: mail goes out from the host’s default address.',
      ),
    );
  const form = h(
    'form',
    {
      class: 'card inline',
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const r = await post('/sources', { address: address.value.trim(), helo: helo.value.trim() || undefined });
          const warnings = r.warnings ?? [];
          say(warnings.length ? warnings.join(' ') : `Added ${address.value.trim()}.`, warnings.length ? 'error' : 'info');
          await load();
        } catch (err) {
          say(err.message, 'error');
        }
      },
    },
    field('Address or CIDR range', address),
    field('EHLO name', helo),
    h('button', { type: 'submit' }, 'Add'),
  );
  clear(main, h('h1', {}, 'Sources'), form, body);
  await load();
}
