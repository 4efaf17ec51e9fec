import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import type { ZodIssue } from 'zod';
import { ConfigError, type ConfigProblem } from './errors.js';
import { findLine, formatKey, type KeyPath } from './locate.js';
import { toMessageConfig } from './message.js';
import { rawSchema, toConfig, type Config } from './schema.js';

type Table = Record<string, unknown>;

/** The `file` of errors raised while running on built-in defaults (only env overrides can fail then). */
export const DEFAULTS_LABEL = '(defaults)';

interface EnvOverride {
  env: string;
  table: string;
  key: string;
  /** Turns the variable's text into the value TOML would have given; validation happens later. */
  read: (value: string) => unknown;
}

/**
 * The settings most often different between hosts sharing one config file. An empty variable
 * counts as unset, since shells and service managers make "set but empty" easy to produce by accident.
 */
export const ENV_OVERRIDES: readonly EnvOverride[] = [
  { env: 'MXPRESS_STORAGE_PATH', table: 'storage', key: 'path', read: (v) => v },
  { env: 'MXPRESS_DNS_SERVERS', table: 'dns', key: 'servers', read: (v) => v.split(',').map((s) => s.trim()).filter((s) => s !== '') },
  // Left as text when not all digits, so the error can show what was actually set.
  { env: 'MXPRESS_DELIVERY_PORT', table: 'delivery', key: 'port', read: (v) => (/^\s*\d+\s*$/.test(v) ? Number(v) : v) },
  { env: 'MXPRESS_LOG_LEVEL', table: 'log', key: 'level', read: (v) => v.trim() },
];

/** Built-in defaults, ignoring the environment; storage is relative to the working directory. */
export function defaultConfig(): Config {
  return loadConfig(null, {});
}

/**
 * Reads, validates and normalizes the configuration. `path` null means built-in defaults. A relative
 * `storage.path` in the file is relative to the file's directory, so the engine finds the same
 * database whatever directory it is started from; one from MXPRESS_STORAGE_PATH is relative to the
 * working directory, like any path typed in a shell.
 * @throws ConfigError
 */
export function loadConfig(path: string | null, env: NodeJS.ProcessEnv = process.env): Config {
  const file = path === null ? null : resolve(path);
  const label = path ?? DEFAULTS_LABEL;
  const text = file === null ? '' : readText(file, label);
  const doc = parseToml(text, label);
  const fromEnv = applyEnv(doc, env);
  const result = rawSchema.safeParse(doc);
  if (!result.success) throw invalid(result.error.issues, { label, text, doc, fromEnv });
  const storageBase = file === null || fromEnv.has('storage.path') ? process.cwd() : dirname(file);
  const message = toMessageConfig(result.data, file === null ? process.cwd() : dirname(file));
  if (message.problems.length > 0) {
    const issues = message.problems.map((p): ZodIssue => ({ code: 'custom', path: p.path, message: p.message }));
    throw invalid(issues, { label, text, doc, fromEnv });
  }
  return toConfig(result.data, file, resolve(storageBase, result.data.storage.path), message.config);
}

function readText(file: string, label: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const looked = file === label ? '' : ` (looked for ${file})`;
    const problem = code === 'ENOENT' ? `config file not found${looked}` : `config file cannot be read: ${code ?? (err as Error).message}${looked}`;
    throw new ConfigError('CONFIG_NOT_FOUND', label, { key: '', problem });
  }
}

function parseToml(text: string, label: string): Table {
  try {
    // Editors on Windows may save a byte-order mark, which is not TOML.
    return parse(text.replace(/^\uFEFF/, '')) as Table;
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    const reason = (err.message.split('\n')[0] ?? '').replace(/^Invalid TOML document:\s*/, '');
    const problem = `TOML syntax error: ${reason} (column ${err.column})\n${err.codeblock.trimEnd()}`;
    throw new ConfigError('CONFIG_SYNTAX', label, { key: '', problem, line: err.line });
  }
}

/** Writes each set override into the parsed document; returns `table.key` → variable name. */
function applyEnv(doc: Table, env: NodeJS.ProcessEnv): Map<string, string> {
  const applied = new Map<string, string>();
  for (const o of ENV_OVERRIDES) {
    const value = env[o.env];
    if (value === undefined || value === '') continue;
    doc[o.table] ??= {};
    const table = doc[o.table];
    // A table of the wrong type is reported by validation; the override has nowhere to go.
    if (!isTable(table)) continue;
    table[o.key] = o.read(value);
    applied.set(`${o.table}.${o.key}`, o.env);
  }
  return applied;
}

function isTable(v: unknown): v is Table {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

interface LoadInput {
  label: string;
  text: string;
  doc: Table;
  fromEnv: Map<string, string>;
}

/** All problems, in file order, as one error led by the first. */
function invalid(issues: ZodIssue[], src: LoadInput): ConfigError {
  const problems = issues.flatMap((issue) => toProblems(issue, src));
  const ordered = problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.line ?? Infinity) - (b.p.line ?? Infinity) || a.i - b.i)
    .map(({ p }) => p);
  const [first, ...others] = ordered;
  return new ConfigError('CONFIG_INVALID', src.label, first!, others);
}

function toProblems(issue: ZodIssue, src: LoadInput): ConfigProblem[] {
  // One issue can list several unknown keys; each gets its own line in the report.
  const paths: KeyPath[] = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k]) : [issue.path];
  return paths.map((path) => {
    const key = formatKey(path);
    const problem = describe(issue, valueAt(src.doc, path));
    const env = src.fromEnv.get(path.slice(0, 2).join('.'));
    if (env) return { key, problem, env };
    const line = src.text ? findLine(src.text, path) : undefined;
    return line === undefined ? { key, problem } : { key, problem, line };
  });
}

const TYPE_NAMES: Record<string, string> = { object: 'a table', array: 'an array', string: 'a string', number: 'a number', boolean: 'true or false' };

/** Zod's wording tuned for operators: say what is expected and show what was found. */
function describe(issue: ZodIssue, value: unknown): string {
  const got = shown(value);
  const withGot = (text: string) => (got === undefined ? text : `${text} (got ${got})`);
  switch (issue.code) {
    case 'unrecognized_keys':
      return 'unknown key (misspelled, or in the wrong table? see docs/configuration.md)';
    case 'invalid_type':
      if (issue.received === 'undefined') return 'is required';
      return withGot(issue.message.startsWith('Expected ') ? `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}` : issue.message);
    case 'invalid_enum_value':
      return withGot(`must be one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')}`);
    case 'custom':
      return issue.message;
    default:
      return withGot(issue.message);
  }
}

/** A scalar as the operator would have typed it; tables and arrays are left to the key name. */
function shown(value: unknown): string | undefined {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  return undefined;
}

function valueAt(doc: unknown, path: KeyPath): unknown {
  let node = doc;
  for (const part of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[part];
  }
  return node;
}
