import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../engine/config/errors.js';
import { loadConfig } from '../../engine/config/load.js';

function load(toml: string) {
  const file = join(mkdtempSync(join(tmpdir(), 'mxpress-workers-')), 'mxpress.toml');
  writeFileSync(file, toml);
  return loadConfig(file, {});
}

test('[workers] defaults to one thread per core, 1000 rendered messages and a 30 s task timeout', () => {
  assert.deepEqual(load('').workers, { threads: availableParallelism(), maxRendered: 1000, taskTimeoutMs: 30_000 });
  assert.deepEqual(load('[workers]\nthreads = 0\nmax_rendered = 64\ntask_timeout = "2s"\n').workers, { threads: 0, maxRendered: 64, taskTimeoutMs: 2000 });
});

test('bad [workers] values are refused with the key and line named', () => {
  const rows: [string, string, number][] = [
    ['[workers]\nthreads = -1\n', 'workers.threads', 2],
    ['[workers]\nthreads = 1.5\n', 'workers.threads', 2],
    ['[workers]\n\nmax_rendered = 0\n', 'workers.max_rendered', 3],
    ['[workers]\nmax_rendered = "10"\n', 'workers.max_rendered', 2],
    ['[workers]\nthread = 2\n', 'workers.thread', 2],
    ['[workers]\ntask_timeout = 30\n', 'workers.task_timeout', 2],
    ['[workers]\ntask_timeout = "0s"\n', 'workers.task_timeout', 2],
  ];
  for (const [toml, key, line] of rows) {
    assert.throws(
      () => load(toml),
      (e: unknown) => e instanceof ConfigError && e.key.startsWith(key) && e.line === line && e.message.includes(key),
      toml,
    );
  }
});
