import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { fails, load } from './config-helpers.js';

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
  for (const [toml, key, line] of rows) fails(toml, { key, line });
});
