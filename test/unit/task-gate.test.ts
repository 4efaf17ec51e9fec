import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TaskGate } from '../../engine/render/task-gate.js';

/** Enters every kind in order (P: pipelined, X: exclusive) and says which have been let through, after the microtasks ran. */
async function harness(threads: number, perThread: number) {
  const gate = new TaskGate(threads, perThread);
  const through: string[] = [];
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  return {
    gate,
    through,
    async enter(...names: string[]) {
      for (const name of names) void gate.enter(name.startsWith('X')).then(() => through.push(name));
      await settle();
    },
    async leave(kind: 'P' | 'X') {
      gate.leave(kind === 'X');
      await settle();
    },
  };
}

test('pipelined tasks: up to the threads times the tasks per thread, then one for each that leaves, first come first served', async () => {
  const h = await harness(2, 2);
  await h.enter('P1', 'P2', 'P3', 'P4', 'P5', 'P6');
  assert.deepEqual(h.through, ['P1', 'P2', 'P3', 'P4']);
  await h.leave('P');
  assert.deepEqual(h.through, ['P1', 'P2', 'P3', 'P4', 'P5']);
  assert.deepEqual(h.gate.out, { pipelined: 4, exclusive: 0 });
});

test('an exclusive task waits until no pipelined task is out, and holds back the pipelined ones that come after it', async () => {
  const h = await harness(2, 2);
  await h.enter('P1', 'P2', 'X1', 'P3');
  assert.deepEqual(h.through, ['P1', 'P2'], 'P3 waits behind X1 although there is room for it');
  await h.leave('P');
  assert.deepEqual(h.through, ['P1', 'P2']);
  await h.leave('P');
  assert.deepEqual(h.through, ['P1', 'P2', 'X1']);
  assert.deepEqual(h.gate.out, { pipelined: 0, exclusive: 1 });
  await h.leave('X');
  assert.deepEqual(h.through, ['P1', 'P2', 'X1', 'P3']);
});

test('exclusive tasks: one per thread at most, and pipelined ones wait until the last has left', async () => {
  const h = await harness(2, 2);
  await h.enter('X1', 'X2', 'X3', 'P1');
  assert.deepEqual(h.through, ['X1', 'X2']);
  await h.leave('X');
  assert.deepEqual(h.through, ['X1', 'X2', 'X3']);
  await h.leave('X');
  await h.leave('X');
  assert.deepEqual(h.through, ['X1', 'X2', 'X3', 'P1']);
});

test('a gate without a thread or a task per thread is refused', () => {
  for (const [threads, per] of [[0, 2], [2, 0], [1.5, 2], [2, Number.NaN]]) assert.throws(() => new TaskGate(threads!, per!), RangeError);
});
