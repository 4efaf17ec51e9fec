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

/** An optional option that must be a whole number ≥ 0: undefined when not given; anything else exits 2, naming it. */
export function wholeNumberOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  console.error(`--${name}: must be a whole number ≥ 0`);
  process.exit(2);
}
