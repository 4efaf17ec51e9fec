import { post } from './api.js';
import { h, say } from './ui.js';

/** Which transitions each state offers (the server refuses the rest with 409). */
const ACTIONS = {
  draft: ['start', 'cancel'],
  scheduled: ['start', 'cancel'],
  running: ['pause', 'cancel'],
  paused: ['resume', 'cancel'],
};

const LABEL = { start: 'Start', pause: 'Pause', resume: 'Resume', cancel: 'Cancel' };

/** The buttons for a campaign's state; `after` runs once the server has answered. */
export function actionButtons(c, after) {
  return (ACTIONS[c.status] ?? []).map((action) =>
    h(
      'button',
      {
        type: 'button',
        class: action === 'cancel' ? 'danger' : null,
        'aria-label': `${LABEL[action]} campaign ${c.name}`,
        onclick: async (e) => {
          if (action === 'cancel' && !confirm(`Cancel campaign "${c.name}"? Recipients not yet sent are dropped.`)) return;
          e.currentTarget.disabled = true;
          try {
            await post(`/campaigns/${c.id}/${action}`);
            say(`Campaign "${c.name}": ${action} done.`);
          } catch (err) {
            say(err.message, 'error');
          }
          await after();
        },
      },
      LABEL[action],
    ),
  );
}
