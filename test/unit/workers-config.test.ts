import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { defaultDeliveryThreads } from '../../engine/config/schema.js';
import { fails, load } from './config-helpers.js';

test('[workers] defaults to one render thread per core, delivery threads by cores, 1000 rendered messages, a 30 s task timeout and render threads at nice +10 on Linux', () => {
  const cores = availableParallelism();
  assert.deepEqual(load('').workers, { threads: cores, deliveryThreads: defaultDeliveryThreads(cores), maxRendered: 1000, taskTimeoutMs: 30_000, nice: process.platform === 'linux' ? 10 : 0 });
  assert.deepEqual(load('[workers]\nthreads = 0\ndelivery_threads = 3\nmax_rendered = 64\ntask_timeout = "2s"\nnice = 0\n').workers, {
    threads: 0,
    deliveryThreads: 3,
    maxRendered: 64,
    taskTimeoutMs: 2000,
    nice: 0,
  });
});

test('delivery threads by default: none below four cores, then one per four', () => {
  const rows: [number, number][] = [
    [1, 0],
    [2, 0],
    [3, 0],
    [4, 1],
    [7, 1],
    [8, 2],
    [16, 4],
    [64, 16],
  ];
  for (const [cores, threads] of rows) assert.equal(defaultDeliveryThreads(cores), threads, `${cores} cores`);
});

test('bad [workers] values are refused with the key and line named', () => {
  const rows: [string, string, number][] = [
    ['[workers]\nthreads = -1\n', 'workers.threads', 2],
    ['[workers]\nthreads = 1.5\n', 'workers.threads', 2],
    ['[workers]\n\nmax_rendered = 0\n', 'workers.max_rendered', 3],
    ['[workers]\nmax_rendered = "10"\n', 'workers.max_rendered', 2],
    ['[workers]\nthread = 2\n', 'workers.thread', 2],
    ['[workers]\ndelivery_threads = -1\n', 'workers.delivery_threads', 2],
    ['[workers]\ndelivery_threads = 65\n', 'workers.delivery_threads', 2],
    ['[workers]\ndelivery_threads = "1"\n', 'workers.delivery_threads', 2],
    ['[workers]\ntask_timeout = 30\n', 'workers.task_timeout', 2],
    ['[workers]\ntask_timeout = "0s"\n', 'workers.task_timeout', 2],
    ['[workers]\nnice = 20\n', 'workers.nice', 2],
    ['[workers]\nnice = -5\n', 'workers.nice', 2],
    ['[workers]\nnice = 2.5\n', 'workers.nice', 2],
    ['[workers]\nnice = "10"\n', 'workers.nice', 2],
  ];
  for (const [toml, key, line] of rows) fails(toml, { key, line });
});
