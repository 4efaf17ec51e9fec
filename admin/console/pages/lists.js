import { ApiError, all } from '../api.js';
import { clear, h, num, table, time } from '../ui.js';

/** Lists kept apart from campaigns come with the list API; until then a campaign's list is its upload. */
export async function render(main) {
  const body = h('div');
  clear(main, h('h1', {}, 'Lists'), body);
  try {
    const lists = await all('/lists');
    clear(body, table('Lists', [{ label: 'List', value: (l) => l.name }, { label: 'Recipients', num: true, value: (l) => num(l.count) }, { label: 'Created', value: (l) => time(l.createdAt) }], lists, 'No lists yet.'));
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404) throw err;
    clear(body, h('p', {}, 'This server keeps no separate lists: upload a list file with each ', h('a', { href: '#/campaigns/new' }, 'new campaign'), '.'));
  }
}
