export type ConfigErrorCode = 'CONFIG_NOT_FOUND' | 'CONFIG_SYNTAX' | 'CONFIG_INVALID';

/** One thing wrong with the configuration, located as precisely as the loader could manage. */
export interface ConfigProblem {
  /** Dotted path in TOML spelling, e.g. `pools.default.sources[1]`; empty when no key applies. */
  key: string;
  /** What is wrong, readable on its own. */
  problem: string;
  /** 1-based line in the config file; absent when the key could not be found in the text. */
  line?: number;
  /** The environment variable that supplied the bad value, when one did. */
  env?: string;
}

/** How many further problems are listed under the first; the rest are only counted. */
const MAX_LISTED = 10;

/**
 * A configuration problem that stops startup. The message reads `file:line: key: problem` so an
 * editor or terminal can jump to it; later problems follow on their own lines, so one run of the
 * engine shows everything to fix rather than one mistake per restart.
 */
export class ConfigError extends Error {
  readonly code: ConfigErrorCode;
  /** The config file as given by the operator, or `(defaults)` when no file was used. */
  readonly file: string;
  readonly key: string;
  readonly line?: number;
  readonly env?: string;
  readonly problem: string;
  /** Problems found besides the first, in file order where lines are known. */
  readonly others: readonly ConfigProblem[];

  constructor(code: ConfigErrorCode, file: string, first: ConfigProblem, others: readonly ConfigProblem[] = []) {
    super(formatMessage(file, first, others));
    this.name = 'ConfigError';
    this.code = code;
    this.file = file;
    this.key = first.key;
    this.problem = first.problem;
    if (first.line !== undefined) this.line = first.line;
    if (first.env !== undefined) this.env = first.env;
    this.others = others;
  }
}

/** `mxpress.toml:14: retry.schedule[2]: …`, or for an environment override `MXPRESS_X (key): …`. */
export function formatProblem(file: string, p: ConfigProblem): string {
  if (p.env) return `${p.env}${p.key ? ` (overrides ${p.key})` : ''}: ${p.problem}`;
  const where = p.line === undefined ? file : `${file}:${p.line}`;
  return p.key ? `${where}: ${p.key}: ${p.problem}` : `${where}: ${p.problem}`;
}

function formatMessage(file: string, first: ConfigProblem, others: readonly ConfigProblem[]): string {
  const lines = [formatProblem(file, first), ...others.slice(0, MAX_LISTED).map((p) => formatProblem(file, p))];
  const hidden = others.length - MAX_LISTED;
  if (hidden > 0) lines.push(`… and ${hidden} more`);
  return lines.join('\n');
}
