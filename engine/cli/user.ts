import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { hashPassword } from '../../admin/auth/password.js';
import { newApiKey } from '../../admin/auth/session.js';
import { checkAddress } from '../ingress/address.js';
import type { Role, Store, User } from '../../storage/store.js';
import { openStore, readConfig } from './common.js';
import { CliError, EXIT } from './exit.js';

const OPTIONS = { email: { type: 'string' }, role: { type: 'string' }, password: { type: 'string' }, config: { type: 'string' } } as const;
const ROLES: Role[] = ['admin', 'sender'];

/**
 * `mxpress user add --email E --role admin|sender [--password P]`: creates a console and API user and
 * prints its API key (shown once, stored hashed) and, when none was given, a generated password.
 */
export async function userCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
  if (positionals[0] !== 'add' || positionals.length !== 1) throw new CliError(EXIT.usage, 'usage: mxpress user add --email EMAIL --role admin|sender [--password P]');
  const checked = checkAddress(values.email ?? '');
  if (!values.email || !checked.ok) throw new CliError(EXIT.input, `--email: ${values.email ? (checked.ok ? '' : checked.reason) : 'is required'}`);
  const role = values.role as Role;
  if (!ROLES.includes(role)) throw new CliError(EXIT.input, `--role: must be admin or sender`);
  if (values.password !== undefined && values.password.length < 12) throw new CliError(EXIT.input, '--password: at least 12 characters');
  const store = openStore(readConfig(values.config));
  try {
    if (store.userByEmail(checked.email)) throw new CliError(EXIT.input, `--email: a user ${checked.email} exists already`);
    const { password, key } = await createUser(store, checked.email, role, values.password);
    out.write(
      `user ${checked.email} (${role}) created\n` +
        `api key   ${key}\n` +
        (values.password === undefined ? `password  ${password}\n` : '') +
        `Keep them now: they are stored hashed and cannot be shown again.\n`,
    );
    return EXIT.ok;
  } finally {
    store.close();
  }
}

/** A user with its API key; the password is generated when none is given. Returns both in clear, once. */
export async function createUser(store: Store, email: string, role: Role, givenPassword?: string): Promise<{ user: User; key: string; password: string }> {
  const password = givenPassword ?? randomBytes(18).toString('base64url');
  const user = store.addUser(email, role, await hashPassword(password), Date.now());
  const key = newApiKey();
  store.setApiKey(user.id, key.hash);
  return { user, key: key.key, password };
}
