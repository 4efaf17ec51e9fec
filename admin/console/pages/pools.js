import { all } from '../api.js';
import { clear, h, table } from '../ui.js';

/** Pools as configured ([pools.NAME]): each a weighted set of sources that campaigns name. */
export async function render(main) {
  const pools = await all('/pools');
  clear(
    main,
    h('h1', {}, 'Pools'),
    h('p', { class: 'hint' }, 'Pools are set in the configuration file ([pools.NAME]); a campaign names one.'),
    table(
      'Pools',
      [
        { label: 'Pool', value: (p) => p.name },
        { label: 'Sources (weight)', value: (p) => p.sources.map((s) => `${s.address} (${s.weight})`).join(', ') },
      ],
      pools,
      'No pools configured.',
    ),
  );
}
