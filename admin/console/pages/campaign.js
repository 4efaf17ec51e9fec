import { get, post, url } from '../api.js';
import { actionButtons } from '../campaign-actions.js';
import { speedChart } from '../chart.js';
import { clear, field, h, num, pct, say, submitted, table, time } from '../ui.js';

const POLL_MS = 2000;
const FAILURES_PAGE = 50;

/** One campaign: counters with percentages, the delivery-speed chart, domains, sources, failures. */
export async function render(main, [id]) {
  const head = h('div', { class: 'bar' });
  const counters = h('section', { 'aria-label': 'Counters' });
  const chartBox = h('figure', { class: 'chart' });
  const domains = h('section', { 'aria-label': 'Per domain' });
  const sources = h('section', { 'aria-label': 'Per source' });
  const failures = h('section', { 'aria-labelledby': 'failures-h' });
  clear(main, head, counters, chartBox, h('div', { class: 'split' }, domains, sources), failures);
  const chart = speedChart(chartBox, Math.min(900, main.clientWidth || 720));
  let stopped = false;
  let timer = null;
  let shape = '';

  const refresh = async () => {
    const [c, s] = await Promise.all([get(`/campaigns/${id}`), get(`/campaigns/${id}/stats`)]);
    if (stopped) return;
    if (shape !== `${c.status}:${c.pausedReason ?? ''}`) {
      shape = `${c.status}:${c.pausedReason ?? ''}`;
      clear(head, h('h1', {}, c.name), h('span', { class: `badge ${c.status}`, dataset: { testid: 'status' } }, c.status), h('div', { class: 'actions' }, actionButtons(c, refresh)));
      // The engine paused it: say why, so the fix (edit the template, then resume) is plain.
      if (c.pausedReason) head.append(h('p', { class: 'notice', role: 'alert', dataset: { testid: 'paused-reason' } }, `Paused by the engine: ${c.pausedReason.replace(/\.$/, '')}. Fix the template, then resume.`));
    }
    showCounters(counters, s);
    chart.update(s.series);
    clear(domains, h('h2', {}, 'Domains'), tallyTable('Top domains by attempts', 'Domain', (d) => d.domain, s.domains));
    clear(sources, h('h2', {}, 'Sources'), tallyTable('Attempts per source address', 'Source', (d) => d.sourceIp || '(no connection)', s.sources));
  };
  const loop = async () => {
    await refresh().catch((err) => say(err.message, 'error'));
    if (!stopped) timer = setTimeout(loop, POLL_MS);
  };
  await refresh();
  await showFailures(failures, id, refresh);
  timer = setTimeout(loop, POLL_MS);
  return () => {
    stopped = true;
    clearTimeout(timer);
    chart.destroy();
  };
}

const COUNTERS = [
  ['recipients', 'Recipients', (s) => s.recipients, null],
  ['delivered', 'Delivered', (s) => s.byState.delivered, (s) => s.percent.delivered],
  ['deferred', 'Deferred', (s) => s.byState.deferred, (s) => s.percent.deferred],
  ['bounced', 'Bounced', (s) => s.byState.bounced, (s) => s.percent.bounced],
  ['expired', 'Expired', (s) => s.byState.expired, (s) => s.percent.expired],
  ['suppressed', 'Suppressed', (s) => s.byState.suppressed, (s) => s.percent.suppressed],
  ['invalid', 'Invalid rows', (s) => s.invalid, null],
  ['opens', 'Unique opens', (s) => s.uniqueOpens, (s) => s.percent.uniqueOpens],
  ['clicks', 'Unique clicks', (s) => s.uniqueClicks, (s) => s.percent.uniqueClicks],
  ['unsubscribes', 'Unsubscribes', (s) => s.unsubscribes, (s) => s.percent.unsubscribes],
  ['complaints', 'Complaints', (s) => s.complaints, (s) => s.percent.complaints],
];

/** Counters are created once and updated in place (a live region would repeat them every 2 s). */
function showCounters(el, s) {
  if (!el.firstChild) {
    el.append(
      h('progress', { max: 100, value: 0, 'aria-label': 'Progress', dataset: { testid: 'progress' } }),
      h('dl', { class: 'counters' }, COUNTERS.map(([key, label]) => h('div', {}, h('dt', {}, label), h('dd', { dataset: { testid: `count-${key}` } })))),
      h('p', { class: 'hint', dataset: { testid: 'totals' } }),
    );
  }
  el.querySelector('progress').value = s.progress;
  el.querySelector('progress').textContent = pct(s.progress);
  for (const [key, , value, percent] of COUNTERS) {
    const dd = el.querySelector(`[data-testid="count-${key}"]`);
    const text = percent ? `${num(value(s))} (${pct(percent(s))})` : num(value(s));
    if (dd.textContent !== text) dd.textContent = text;
  }
  el.querySelector('[data-testid="totals"]').textContent = `${pct(s.progress)} done · ${num(s.opens)} opens, ${num(s.clicks)} clicks in total`;
}

function tallyTable(caption, keyLabel, key, rows) {
  return table(
    caption,
    [
      { label: keyLabel, value: key },
      { label: 'Delivered', num: true, value: (d) => num(d.delivered) },
      { label: 'Deferred attempts', num: true, value: (d) => num(d.deferred) },
      { label: 'Bounced', num: true, value: (d) => num(d.bounced) },
      { label: 'Expired', num: true, value: (d) => num(d.expired) },
    ],
    rows,
  );
}

/** Failed recipients page by page, the CSV export, and the retry of one bounce category. */
async function showFailures(el, id, refresh) {
  const kind = h('select', { name: 'kind' }, h('option', { value: '' }, 'All'), ['bounced', 'expired', 'invalid'].map((k) => h('option', { value: k }, k)));
  const list = h('div');
  const more = h('button', { type: 'button', hidden: true }, 'Show more');
  const exportLink = h('a', { class: 'button', download: '', dataset: { testid: 'export' } }, 'Export CSV');
  let cursor = null;
  const query = () => (kind.value ? `kind=${kind.value}` : '');
  const load = async (reset) => {
    if (reset) {
      cursor = null;
      list.replaceChildren();
    }
    const q = [query(), `limit=${FAILURES_PAGE}`, cursor ? `cursor=${encodeURIComponent(cursor)}` : ''].filter(Boolean).join('&');
    const page = await get(`/campaigns/${id}/failures?${q}`);
    const rows = page.items;
    if (reset || !list.querySelector('tbody')) clear(list, failureTable(rows));
    else list.querySelector('tbody').append(...failureTable(rows).querySelectorAll('tbody tr'));
    cursor = page.next;
    more.hidden = !cursor;
    exportLink.href = url(`/campaigns/${id}/failures.csv${query() ? `?${query()}` : ''}`);
  };
  kind.addEventListener('change', () => load(true).catch((e) => say(e.message, 'error')));
  more.addEventListener('click', () => load(false).catch((e) => say(e.message, 'error')));

  const category = h('input', { name: 'category', placeholder: 'e.g. policy', pattern: '[a-z0-9-]+', required: true });
  const retry = h(
    'form',
    {
      class: 'inline',
      onsubmit: submitted({
        action: () => post(`/campaigns/${id}/retry-bounced`, { category: category.value.trim() }),
        done: (r) => `${num(r.retried)} bounced recipients queued again; ${num(r.suppressed)} left bounced (suppressed since).`,
        reload: async () => {
          await refresh();
          await load(true);
        },
      }),
    },
    field('Retry the bounced of category', category),
    h('button', { type: 'submit' }, 'Retry'),
  );
  clear(el, h('h2', { id: 'failures-h' }, 'Failed recipients'), h('div', { class: 'bar' }, field('Show', kind), exportLink, retry), list, more);
  await load(true);
}

function failureTable(rows) {
  return table(
    'Bounced, expired and invalid recipients with the last reply',
    [
      { label: 'Kind', value: (f) => f.kind },
      { label: 'Address', value: (f) => f.email },
      { label: 'Category', value: (f) => f.category ?? '' },
      { label: 'Code', num: true, value: (f) => f.code ?? '' },
      { label: 'Reply or reason', value: (f) => (f.line ? `line ${f.line}: ${f.text}` : f.text) },
      { label: 'When', value: (f) => time(f.at) },
    ],
    rows,
    'No failed recipients.',
  );
}
