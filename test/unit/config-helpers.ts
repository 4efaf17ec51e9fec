import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, type ConfigErrorCode } from '../../engine/config/errors.js';
import { loadConfig } from '../../engine/config/load.js';

/** Config test helpers: every section's tests load TOML text and check errors the same way. */

export function writeToml(toml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mxpress-config-'));
  const file = join(dir, 'mxpress.toml');
  writeFileSync(file, toml);
  return file;
}

export function load(toml: string, env: NodeJS.ProcessEnv = {}) {
  return loadConfig(writeToml(toml), env);
}

export interface Expected {
  code?: ConfigErrorCode;
  key: string;
  line?: number;
  env?: string;
  message?: RegExp;
}

/** Loads `toml` expecting a ConfigError naming the key (and line, and file); returns it for further checks. */
export function fails(toml: string | null, expected: Expected, env: NodeJS.ProcessEnv = {}): ConfigError {
  const file = toml === null ? null : writeToml(toml);
  try {
    loadConfig(file, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.code, expected.code ?? 'CONFIG_INVALID');
    assert.equal(err.key, expected.key);
    assert.equal(err.line, expected.line, `line of ${expected.key}: ${err.message}`);
    assert.equal(err.env, expected.env);
    if (expected.key) assert.ok(err.message.includes(expected.key), err.message);
    if (expected.line !== undefined && file) assert.ok(err.message.startsWith(`${file}:${expected.line}: `), err.message);
    if (expected.message) assert.match(err.message, expected.message);
    return err;
  }
  assert.fail(`accepted: ${toml}`);
}
