/**
 * DOM helpers. Text always goes in through textContent (never innerHTML), so names, addresses and
 * reply texts from the API cannot inject markup.
 */

/** h('button', { type: 'button', onclick }, 'Start') → element. Attributes starting with "on" are listeners. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let fieldSeq = 0;

/** A labelled form field: label text, control, optional hint tied by aria-describedby. */
export function field(labelText, control, hint) {
  const id = control.id || `f${++fieldSeq}`;
  control.id = id;
  const parts = [h('label', { for: id }, labelText), control];
  if (hint) {
    const hid = `${id}-hint`;
    control.setAttribute('aria-describedby', hid);
    parts.push(h('small', { id: hid, class: 'hint' }, hint));
  }
  return h('div', { class: 'field' }, parts);
}

const nf = new Intl.NumberFormat('en');
export const num = (n) => nf.format(n ?? 0);
export const pct = (n) => `${(n ?? 0).toFixed(1)} %`;
export const time = (ms) => (ms ? new Date(ms).toLocaleString() : '');

/** Announces a message in the live region (screen readers) and shows it. */
export function say(text, kind = 'info') {
  const el = document.getElementById('status');
  el.className = `status ${kind}`;
  el.textContent = text;
}

/**
 * One change from the console, the same for every form and button that calls the API: `action`
 * runs the request, the status line then says `done(result)` (a text, or `{ text, kind }`), the
 * `reset` inputs are emptied and `reload` fetches the page's data again. Any failure, of the
 * request or of the reload, is said as an error.
 */
export async function change({ action, done, reset = [], reload }) {
  try {
    const result = await action();
    const message = done(result);
    if (typeof message === 'string') say(message);
    else say(message.text, message.kind);
    for (const input of reset) input.value = '';
    await reload?.();
  } catch (err) {
    say(err.message, 'error');
  }
}

/** The submit handler of a console form: the page stays, and `change(options)` runs. */
export function submitted(options) {
  return async (e) => {
    e.preventDefault();
    await change(options);
  };
}

/** A table from column specs [{ label, value: row => text|node, num?: true }]. */
export function table(caption, columns, rows, empty = 'Nothing yet.') {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h(
    'table',
    {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, columns.map((c) => h('td', { class: c.num ? 'num' : null }, c.value(r)))))),
  );
}

/** A progress bar with its accessible name and value. */
export function progress(label, value) {
  return h('progress', { max: 100, value: value ?? 0, 'aria-label': label, title: pct(value) }, pct(value));
}
