import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RenderBudget } from '../../engine/scheduler/budget.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

test('a place is held until the last recipient of its message is settled', async () => {
  const budget = new RenderBudget(2);
  assert.equal(await budget.acquire([1, 2, 3]), true);
  assert.equal(await budget.acquire([4]), true);
  let third = false;
  const waiting = budget.acquire([5]).then((ok) => (third = ok));
  await tick();
  assert.equal(third, false, 'full: the third message waits');
  budget.settled(1);
  budget.settled(2);
  budget.settled(99); // not held by any message: ignored
  await tick();
  assert.equal(third, false, 'recipient 3 still holds the first message');
  budget.settled(3);
  await waiting;
  assert.equal(third, true);
  assert.equal(budget.inUse, 2);
  budget.settled(3); // twice: no effect
  assert.equal(budget.inUse, 2);
});

test('closing wakes the waiters with false and hands out no more places', async () => {
  const budget = new RenderBudget(1);
  assert.equal(await budget.acquire([1]), true);
  const waiting = budget.acquire([2]);
  budget.close();
  assert.equal(await waiting, false);
  budget.settled(1);
  assert.equal(await budget.acquire([3]), false);
  assert.equal(budget.inUse, 0);
});

test('the size must be a whole number of at least one', () => {
  for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => new RenderBudget(bad), RangeError);
});
