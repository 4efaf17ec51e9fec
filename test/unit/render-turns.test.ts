import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { oneAtATime } from '../../engine/render/turns.js';
import type { RenderReply, RenderTask } from '../../engine/render/worker.js';

const task = (ticket: number): RenderTask => ({ ticket, keysRevision: 0, sources: [], items: [] });

test('tasks handed over together run one after the other, in order, even when each waits on I/O', async () => {
  const events: string[] = [];
  const take = oneAtATime(async (t) => {
    events.push(`start ${t.ticket}`);
    await sleep(20);
    events.push(`end ${t.ticket}`);
    return { items: [] };
  });
  await Promise.all([take(task(1)), take(task(2)), take(task(3))]);
  assert.deepEqual(events, ['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
});

test('a task that throws is answered with its error, not rejected, and the next one still runs', async () => {
  const take = oneAtATime(async (t): Promise<RenderReply> => {
    if (t.ticket === 1) throw new Error('a template helper threw');
    return { items: [] };
  });
  const [first, second] = await Promise.all([take(task(1)), take(task(2))]);
  assert.deepEqual(first, { items: [], failed: 'a template helper threw' });
  assert.deepEqual(second, { items: [] });
});
