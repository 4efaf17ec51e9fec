#!/usr/bin/env node
import { dkimCommand } from './dkim.js';
import { CliError, EXIT } from './exit.js';
import { sendCommand } from './send.js';
import { startCommand } from './start.js';
import { statusCommand } from './status.js';
import { suppressCommand } from './suppress.js';
import { trackingCommand } from './tracking.js';
import { userCommand } from './user.js';

const USAGE = `usage: mxpress <command> [options]

commands:
  send      --csv FILE --from ADDR --subject TEXT (--html FILE | --text FILE) [--pool NAME] [--name NAME]
            [--mail-from ADDR] [--reply-to ADDR] [--header 'Name: value']… [--attach FILE]… [--inline CID=FILE]…
            [--encoding auto|quoted-printable|base64] [--track] [--max-wait 60s] [--json] [--config FILE]
            store a campaign, deliver it, print a summary
  start     [--config FILE]        run the engine until SIGTERM: deliver whatever is due
  status    [--config FILE] [--json]   queue depth by state, due soon, per-domain counts
  suppress  add|remove EMAIL… | list [--reason TEXT] [--config FILE]
  dkim      generate --domain D --selector S [--algorithm rsa-sha256|ed25519-sha256] [--bits 2048] [--out keys]
            write a signing key (mode 0600), print the DNS TXT record and the [[dkim]] entry
  tracking  [--config FILE]        serve only the public tracking listener (opens, clicks, unsubscribe)
  user      add --email E --role admin|sender [--password P] [--config FILE]
            create a console/API user; prints its API key (and a password when none is given)

exit codes: 0 ok, 1 internal error, 2 usage, 3 config, 4 bad input, 5 another engine runs on the database,
            6 storage full
`;

type Command = (argv: string[], out: NodeJS.WritableStream) => number | Promise<number>;
const COMMANDS: Record<string, Command> = { send: sendCommand, start: startCommand, status: statusCommand, suppress: suppressCommand, dkim: dkimCommand, tracking: trackingCommand, user: userCommand };

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = COMMANDS[name];
  if (!command) throw new CliError(EXIT.usage, `unknown command "${name}"\n\n${USAGE}`);
  return command(rest, process.stdout);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof CliError) {
      process.stderr.write(`mxpress: ${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    // parseArgs reports unknown or malformed flags with these codes: a usage error, not a crash.
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`mxpress: ${(err as Error).message}\n`);
      process.exitCode = EXIT.usage;
      return;
    }
    process.stderr.write(`mxpress: internal error: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = EXIT.internal;
  },
);
