import { all, del, post } from '../api.js';
import { change, clear, field, h, submitted, table, time } from '../ui.js';

export async function render(main) {
  const body = h('div');
  const email = h('input', { type: 'email', name: 'email', required: true });
  const reason = h('input', { name: 'reason', value: 'manual', required: true });
  const load = async () =>
    clear(
      body,
      table(
        'Suppressed addresses',
        [
          { label: 'Address', value: (s) => s.email },
          { label: 'Reason', value: (s) => s.reason },
          { label: 'Since', value: (s) => time(s.createdAt) },
          {
            label: 'Remove',
            value: (s) =>
              h(
                'button',
                {
                  type: 'button',
                  'aria-label': `Remove ${s.email} from suppression`,
                  onclick: () =>
                    change({ action: () => del(`/suppressions/${encodeURIComponent(s.email)}`), done: () => `${s.email} removed.`, reload: load }),
                },
                'Remove',
              ),
          },
        ],
        await all('/suppressions'),
        'No suppressed addresses.',
      ),
    );
  const form = h(
    'form',
    {
      class: 'card inline',
      onsubmit: submitted({
        action: () => post('/suppressions', { email: email.value.trim(), reason: reason.value.trim() }),
        done: () => `${email.value.trim()} suppressed.`,
        reset: [email],
        reload: load,
      }),
    },
    field('Address', email),
    field('Reason', reason),
    h('button', { type: 'submit' }, 'Suppress'),
  );
  clear(main, h('h1', {}, 'Suppression'), form, body);
  await load();
}
