import { all, put } from '../api.js';
import { clear, field, h, say, table } from '../ui.js';

export async function render(main) {
  const body = h('div');
  const name = h('input', { name: 'name', required: true, pattern: '[A-Za-z0-9_-]+' });
  const members = h('input', { name: 'sources', required: true, placeholder: '192.0.2.10=2, 192.0.2.11' });
  const load = async () =>
    clear(
      body,
      table(
        'Pools',
        [
          { label: 'Pool', value: (p) => p.name },
          { label: 'Sources (weight)', value: (p) => (p.sources ?? []).map((s) => `${s.address} (${s.weight ?? 1})`).join(', ') },
        ],
        await all('/pools'),
        'No pools yet.',
      ),
    );
  const form = h(
    'form',
    {
      class: 'card inline',
      onsubmit: async (e) => {
        e.preventDefault();
        const sources = members.value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
          .map((s) => {
            const [address, weight] = s.split('=');
            return { address, weight: weight ? Number(weight) : 1 };
          });
        try {
          await put(`/pools/${encodeURIComponent(name.value.trim())}`, { sources });
          say(`Pool ${name.value.trim()} saved.`);
          await load();
        } catch (err) {
          say(err.message, 'error');
        }
      },
    },
    field('Name', name),
    field('Sources', members, 'Comma-separated addresses, each with an optional =weight.'),
    h('button', { type: 'submit' }, 'Save pool'),
  );
  clear(main, h('h1', {}, 'Pools'), form, body);
  await load();
}
