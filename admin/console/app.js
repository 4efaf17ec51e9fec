import { ApiError, setCsrf } from './api.js';
import * as session from './session.js';
import { clear, h, say } from './ui.js';

/** Hash routes → page modules, loaded on first use. Each page returns a cleanup (timers) or nothing. */
const ROUTES = [
  [/^#\/login$/, () => import('./pages/login.js')],
  [/^#\/campaigns$/, () => import('./pages/campaigns.js')],
  [/^#\/campaigns\/new$/, () => import('./pages/campaign-new.js')],
  [/^#\/campaigns\/(\d+)$/, () => import('./pages/campaign.js')],
  [/^#\/lists$/, () => import('./pages/lists.js')],
  [/^#\/suppression$/, () => import('./pages/suppression.js')],
  [/^#\/sources$/, () => import('./pages/sources.js')],
  [/^#\/pools$/, () => import('./pages/pools.js')],
  [/^#\/domains$/, () => import('./pages/domains.js')],
];

const main = document.getElementById('main');
let cleanup = null;

async function route() {
  cleanup?.();
  cleanup = null;
  const hash = location.hash || '#/campaigns';
  if (!session.user() && hash !== '#/login') {
    location.hash = '#/login';
    return;
  }
  const match = ROUTES.map(([re, load]) => [re.exec(hash), load]).find(([m]) => m);
  if (!match) {
    clear(main, h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/campaigns' }, 'Back to campaigns')));
    return;
  }
  const [m, load] = match;
  say('');
  showNav();
  try {
    const page = await load();
    cleanup = (await page.render(main, m.slice(1), { go })) ?? null;
    const heading = main.querySelector('h1');
    if (heading) document.title = `${heading.textContent} · mxpress`;
    main.focus({ preventScroll: true });
  } catch (err) {
    fail(err);
  }
}

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function fail(err) {
  if (err instanceof ApiError && err.status === 401) {
    session.forget();
    go('#/login');
    return;
  }
  say(err.message, 'error');
}

function showNav() {
  const u = session.user();
  document.getElementById('nav').hidden = !u;
  document.getElementById('logout').hidden = !u;
  document.getElementById('who').textContent = u ? `${u.email} (${u.role})` : '';
  for (const a of document.querySelectorAll('#nav [data-role="admin"]')) a.hidden = u?.role !== 'admin';
  for (const a of document.querySelectorAll('#nav a')) {
    if (location.hash.startsWith(a.getAttribute('href'))) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

document.getElementById('logout').addEventListener('click', async () => {
  await session.logout().catch(() => {});
  setCsrf(null);
  go('#/login');
});

window.addEventListener('hashchange', route);
window.addEventListener('unhandledrejection', (e) => fail(e.reason));
await session.restore();
route();
