import { parseArgs } from 'node:util';
import { checkAddress } from '../ingress/address.js';
import { openStore, readConfig } from './common.js';
import { CliError, EXIT } from './exit.js';

const OPTIONS = { config: { type: 'string' }, reason: { type: 'string', default: 'manual' } } as const;

/** `suppress add|remove EMAIL…` and `suppress list`: the global suppression list. */
export function suppressCommand(argv: string[], out: NodeJS.WritableStream): number {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
  const [action, ...emails] = positionals;
  if (action !== 'add' && action !== 'remove' && action !== 'list') throw new CliError(EXIT.usage, 'usage: mxpress suppress add|remove EMAIL… | list');
  if (action !== 'list' && emails.length === 0) throw new CliError(EXIT.usage, `suppress ${action}: give at least one address`);
  const normalized = emails.map((e) => {
    const v = checkAddress(e);
    if (!v.ok) throw new CliError(EXIT.input, `${JSON.stringify(e)}: ${v.reason}`);
    return v.email;
  });
  const store = openStore(readConfig(values.config));
  try {
    if (action === 'list') {
      for (const s of store.listSuppressions()) out.write(`${s.email}\t${s.reason}\t${new Date(s.createdAt).toISOString()}\n`);
    } else if (action === 'add') {
      for (const e of normalized) store.addSuppression(e, values.reason ?? 'manual', Date.now());
      out.write(`suppressed ${normalized.length}\n`);
    } else {
      const removed = normalized.filter((e) => store.removeSuppression(e)).length;
      out.write(`removed ${removed}\n`);
    }
    return EXIT.ok;
  } finally {
    store.close();
  }
}
