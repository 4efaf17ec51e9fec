import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * A bench script's options: an unknown or malformed one (or `--help`) prints what the script takes
 * and exits 2, instead of a stack trace.
 */
export function benchArgs<O extends Options>(usage: string, options: O) {
  const argv = process.argv.slice(2);
  const help = () => {
    const flags = Object.entries(options).map(([name, o]) => `  --${name}${o.type === 'string' ? ' <value>' : ''}${o.default !== undefined ? ` (default ${String(o.default)})` : ''}`);
    return [`usage: ${usage}`, ...flags].join('\n');
  };
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(help());
    process.exit(0);
  }
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n${help()}`);
    process.exit(2);
  }
}
