import { all } from '../api.js';
import { clear, h, table } from '../ui.js';

/** Source addresses as configured ([[sources]]); an address not bound on this host is flagged. */
export async function render(main) {
  const sources = await all('/sources');
  clear(
    main,
    h('h1', {}, 'Sources'),
    h('p', { class: 'hint' }, 'Sources are set in the configuration file ([[sources]]) and read at start.'),
    table(
      'Source addresses',
      [
        { label: 'Address', value: (s) => s.address },
        { label: 'EHLO name', value: (s) => s.helo },
        { label: 'Bound on this host', value: (s) => (s.bound ? 'yes' : h('strong', { class: 'warn' }, 'not bound: sending from it will fail')) },
      ],
      sources,
      'No sources: mail goes out from the host’s default address.',
    ),
  );
}
