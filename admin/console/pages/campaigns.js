import { all, get } from '../api.js';
import { actionButtons } from '../campaign-actions.js';
import { clear, h, num, pct, table } from '../ui.js';

const POLL_MS = 2000;

/**
 * Campaigns with status, live counters and progress. The table is rebuilt only when campaigns or
 * their states change; counters are updated in place, so keyboard focus stays where it was.
 */
export async function render(main) {
  const body = h('div');
  clear(main, h('div', { class: 'bar' }, h('h1', {}, 'Campaigns'), h('a', { class: 'button', href: '#/campaigns/new' }, 'New campaign')), body);
  let stopped = false;
  let timer = null;
  let shape = '';
  const refresh = async () => {
    const campaigns = await all('/campaigns');
    const counters = await Promise.all(campaigns.map((c) => (c.status === 'draft' ? null : get(`/campaigns/${c.id}/counters`).catch(() => null))));
    if (stopped) return;
    const next = campaigns.map((c) => `${c.id}:${c.status}`).join(',');
    if (next !== shape) {
      shape = next;
      clear(body, build(campaigns, refresh));
    }
    campaigns.forEach((c, i) => fill(body, c.id, counters[i]));
  };
  const loop = async () => {
    await refresh().catch(() => {});
    if (!stopped) timer = setTimeout(loop, POLL_MS);
  };
  await refresh();
  timer = setTimeout(loop, POLL_MS);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

const cell = (id, key) => h('span', { dataset: { cell: `${id}-${key}` } }, '0');

function build(campaigns, refresh) {
  return table(
    'All campaigns, newest first',
    [
      { label: 'Campaign', value: (c) => h('a', { href: `#/campaigns/${c.id}` }, c.name) },
      { label: 'Status', value: (c) => h('span', { class: `badge ${c.status}`, dataset: { cell: `${c.id}-status` } }, c.status) },
      { label: 'Recipients', num: true, value: (c) => cell(c.id, 'recipients') },
      { label: 'Delivered', num: true, value: (c) => cell(c.id, 'delivered') },
      { label: 'Deferred', num: true, value: (c) => cell(c.id, 'deferred') },
      { label: 'Bounced', num: true, value: (c) => cell(c.id, 'bounced') },
      {
        label: 'Progress',
        value: (c) => h('progress', { max: 100, value: 0, 'aria-label': `Progress of ${c.name}`, dataset: { cell: `${c.id}-progress` } }),
      },
      { label: 'Actions', value: (c) => h('div', { class: 'actions' }, actionButtons(c, refresh)) },
    ],
    campaigns,
    'No campaigns yet. Create one with "New campaign".',
  );
}

function fill(body, id, s) {
  if (!s) return;
  const set = (key, text) => {
    const el = body.querySelector(`[data-cell="${id}-${key}"]`);
    if (el && el.textContent !== text) el.textContent = text;
  };
  set('recipients', num(s.recipients));
  set('delivered', num(s.byState.delivered));
  set('deferred', num(s.byState.deferred));
  set('bounced', num(s.byState.bounced));
  const bar = body.querySelector(`[data-cell="${id}-progress"]`);
  if (bar) {
    bar.value = s.progress;
    bar.title = pct(s.progress);
    bar.textContent = pct(s.progress);
  }
}
