import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FQDN } from '../config/fields.js';
import { dkimDnsRecord, generateDkimKey, zoneLine } from '../dkim/keys.js';
import { DKIM_ALGORITHMS, type DkimAlgorithm } from '../dkim/sign.js';
import { CliError, EXIT } from './exit.js';

const OPTIONS = {
  domain: { type: 'string' },
  selector: { type: 'string' },
  algorithm: { type: 'string', default: 'rsa-sha256' },
  bits: { type: 'string', default: '2048' },
  out: { type: 'string', default: 'keys' },
  force: { type: 'boolean', default: false },
} as const;

const USAGE = 'usage: mxpress dkim generate --domain D --selector S [--algorithm rsa-sha256|ed25519-sha256] [--bits 2048] [--out keys] [--force]';

/** `dkim generate`: writes a private key (mode 0600) and prints the DNS record and the config entry. */
export function dkimCommand(argv: string[], out: NodeJS.WritableStream): number {
  const { values: v, positionals } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
  if (positionals[0] !== 'generate' || positionals.length !== 1) throw new CliError(EXIT.usage, USAGE);
  const domain = (v.domain ?? '').toLowerCase();
  const selector = (v.selector ?? '').toLowerCase();
  if (!FQDN.test(domain)) throw new CliError(EXIT.usage, `--domain: ${JSON.stringify(v.domain ?? '')} is not a fully qualified domain name\n${USAGE}`);
  if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(selector)) throw new CliError(EXIT.usage, `--selector: ${JSON.stringify(v.selector ?? '')} is not a selector (letters, digits, "-")\n${USAGE}`);
  const algorithm = v.algorithm as DkimAlgorithm;
  if (!DKIM_ALGORITHMS.includes(algorithm)) throw new CliError(EXIT.usage, `--algorithm: must be one of ${DKIM_ALGORITHMS.join(', ')}`);
  const bits = Number(v.bits);
  if (![1024, 2048, 3072, 4096].includes(bits)) throw new CliError(EXIT.usage, '--bits: must be 1024, 2048, 3072 or 4096 (2048 is what receivers expect)');

  const key = generateDkimKey(algorithm, bits);
  const file = resolve(join(v.out ?? 'keys', `${domain}.${selector}.pem`));
  mkdirSync(resolve(v.out ?? 'keys'), { recursive: true, mode: 0o700 });
  try {
    // `wx` refuses to replace a key that may already be published; --force does, on purpose.
    writeFileSync(file, key.privateKeyPem, { mode: 0o600, flag: v.force ? 'w' : 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new CliError(EXIT.input, `${file} exists; keep it, choose another --selector, or replace it with --force`);
    throw new CliError(EXIT.input, `cannot write ${file}: ${code ?? (err as Error).message}`);
  }
  const record = dkimDnsRecord(domain, selector, algorithm, key.publicKey);
  out.write(
    [
      `wrote ${file} (mode 0600)`,
      '',
      'publish this DNS record:',
      zoneLine(record),
      '',
      'and add to the config:',
      '[[dkim]]',
      `domain = "${domain}"`,
      `selector = "${selector}"`,
      `algorithm = "${algorithm}"`,
      `private_key = "${file}"`,
      '',
    ].join('\n'),
  );
  return EXIT.ok;
}
