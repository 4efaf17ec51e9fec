import * as session from '../session.js';
import { clear, field, h, say } from '../ui.js';

export function render(main, _params, { go }) {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit' }, 'Log in');
  const form = h(
    'form',
    {
      class: 'card narrow',
      onsubmit: async (e) => {
        e.preventDefault();
        submit.disabled = true;
        try {
          await session.login(email.value.trim(), password.value);
          go('#/campaigns');
        } catch (err) {
          say(err.status === 401 ? 'Wrong email or password.' : err.message, 'error');
          password.select();
        } finally {
          submit.disabled = false;
        }
      },
    },
    field('Email', email),
    field('Password', password),
    submit,
  );
  clear(main, h('h1', {}, 'Log in'), form);
  email.focus();
}
