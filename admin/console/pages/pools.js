import { all, del, post, put } from '../api.js';
import { change, clear, field, h, submitted, table } from '../ui.js';

/**
 * Pools (admin): weighted sets of sources that campaigns name. The config's ([pools.NAME]) are
 * changed in the config file; those made here can be edited and deleted. Changes reach the engine at once.
 */
export async function render(main) {
  const body = h('div');
  const editor = h('div');
  let sources = [];

  /** The create form (pool null) or the edit form of an API pool: a checkbox and a weight per source. */
  const showEditor = (pool) => {
    const chosen = new Map((pool?.sources ?? []).map((s) => [s.address, s.weight]));
    const name = h('input', { name: 'name', required: true, pattern: '[A-Za-z0-9_-]+', value: pool?.name ?? '', disabled: pool !== null, autocomplete: 'off' });
    const rows = sources.map((s) => ({
      address: s.address,
      use: h('input', { type: 'checkbox', checked: chosen.has(s.address), 'aria-label': `Use ${s.address}` }),
      weight: h('input', { type: 'number', min: 1, max: 1000, value: chosen.get(s.address) ?? 1, 'aria-label': `Weight of ${s.address}` }),
    }));
    const members = table(
      'Sources and weights',
      [
        { label: 'Use', value: (r) => r.use },
        { label: 'Address', value: (r) => r.address },
        { label: 'Weight (1..1000)', value: (r) => r.weight },
      ],
      rows,
      'Add sources first (Sources page).',
    );
    const form = h(
      'form',
      {
        class: 'card',
        'aria-label': pool ? `Edit pool ${pool.name}` : 'New pool',
        onsubmit: submitted({
          action: () => {
            const members = rows.filter((r) => r.use.checked).map((r) => ({ address: r.address, weight: Number(r.weight.value) }));
            if (pool) return put(`/pools/${encodeURIComponent(pool.name)}`, { sources: members });
            return post('/pools', { name: name.value.trim(), sources: members });
          },
          done: () => `Pool ${pool?.name ?? name.value.trim()} saved.`,
          reload: load,
        }),
      },
      h('h2', {}, pool ? `Edit pool ${pool.name}` : 'New pool'),
      field('Pool name', name, 'Letters, digits, "_" and "-".'),
      members,
      h('button', { type: 'submit' }, pool ? 'Save pool' : 'Create pool'),
      pool ? [' ', h('button', { type: 'button', onclick: () => showEditor(null) }, 'Cancel')] : null,
    );
    clear(editor, form);
  };

  const actions = (p) =>
    p.origin === 'config'
      ? ''
      : h(
          'span',
          {},
          h('button', { type: 'button', 'aria-label': `Edit pool ${p.name}`, onclick: () => showEditor(p) }, 'Edit'),
          ' ',
          h('button', {
            type: 'button',
            'aria-label': `Delete pool ${p.name}`,
            onclick: () => change({ action: () => del(`/pools/${encodeURIComponent(p.name)}`), done: () => `Pool ${p.name} deleted.`, reload: load }),
          }, 'Delete'),
        );
  const load = async () => {
    const [pools, known] = await Promise.all([all('/pools'), all('/sources')]);
    sources = known;
    clear(
      body,
      table(
        'Pools',
        [
          { label: 'Pool', value: (p) => p.name },
          { label: 'Sources (weight)', value: (p) => p.sources.map((s) => `${s.address} (${s.weight})`).join(', ') || 'none: the host’s default address' },
          { label: 'Origin', value: (p) => (p.origin === 'config' ? 'config file' : 'added here') },
          { label: 'Actions', value: actions },
        ],
        pools,
        'No pools.',
      ),
    );
    showEditor(null);
  };
  clear(
    main,
    h('h1', {}, 'Pools'),
    h('p', { class: 'hint' }, 'A campaign names a pool; each recipient gets one of its sources, by weight.'),
    body,
    editor,
  );
  await load();
}
