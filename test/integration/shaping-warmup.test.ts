import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startWorld, type World } from '../world/world.js';
import { tempDir, writeConfig, writeCsv } from './harness.js';
import { deliverShaped, runAgain } from './shaping-harness.js';

/** Warm-up caps per source and site per UTC day, with the engine's clock set to a chosen day. */
const SOURCE = '127.0.1.31';
const DAY_MS = 86_400_000;

/** A clock running in real time from `iso` on (timers stay real; only the engine's idea of "now" moves). */
function clockAt(iso: string): { now: () => number; advance: (ms: number) => void } {
  let offset = Date.parse(iso) - Date.now();
  return { now: () => Date.now() + offset, advance: (ms) => (offset += ms) };
}

describe('shaping: warm-up', () => {
  let world: World;
  let dir: string;

  before(async () => {
    world = await startWorld({ domains: { 'warm.test': { mx: ['mx.warm.test'] }, 'slowwarm.test': { mx: ['mx.slowwarm.test'] } }, hosts: { 'mx.warm.test': '127.0.0.71', 'mx.slowwarm.test': '127.0.0.72' } });
    dir = tempDir();
  });

  after(async () => {
    await world.close();
  });

  const rows = (domain: string, n: number) => Array.from({ length: n }, (_, i) => ({ email: `w${i}@${domain}`, name: `N${i}` }));

  test('the warm-up cap postpones the rest to the next UTC day; the next day sends up to its own cap', async () => {
    const config = writeConfig(tempDir(), world, {
      sources: [SOURCE],
      extraDelivery: ['[[shaping.warmup]]', `source = "${SOURCE}"`, 'start = "2027-03-01"', 'per_day = [4, 6]'].join('\n'),
    });
    // Day 1 of the schedule, late in the (UTC) day.
    const clock = clockAt('2027-03-01T22:30:00Z');
    const day1 = Date.parse('2027-03-01T00:00:00Z');
    const first = await deliverShaped(config, writeCsv(dir, rows('warm.test', 12), 'warm.csv'), { engine: { now: clock.now } });
    assert.equal(first.count('delivered'), 4, 'day 1 cap');
    assert.equal(first.count('queued'), 8, 'the rest wait, not attempted');
    assert.equal(first.store.nextDueAt(), day1 + DAY_MS, 'due at the next UTC midnight');
    assert.equal(first.store.events(first.imported.campaignId, 100).length, 4, 'waiting for the cap is not an attempt');
    assert.deepEqual(first.store.warmupCounts(day1).map((c) => [c.sourceIp, c.count]), [[SOURCE, 4]]);

    clock.advance(2 * 3_600_000); // 00:30 on day 2
    const second = await runAgain(config, first.store, first.imported, { engine: { now: clock.now } });
    assert.equal(second.count('delivered'), 10, 'day 2 cap of 6 more');
    assert.equal(second.count('queued'), 2);
    assert.equal(second.store.nextDueAt(), day1 + 2 * DAY_MS);
    assert.equal(world.sinkFor('mx.warm.test').received.length, 10);
    assert.deepEqual(second.store.warmupCounts(day1 + DAY_MS).map((c) => c.count), [6]);

    clock.advance(DAY_MS); // day 3: past the schedule, the source is warm
    const third = await runAgain(config, first.store, first.imported, { engine: { now: clock.now } });
    assert.equal(third.count('delivered'), 12);
    first.store.close();
  });

  test('recipients held back by a rate-limited path do not use up the day\'s warm-up cap', async () => {
    const config = writeConfig(tempDir(), world, {
      sources: [SOURCE],
      // lease 6s: a 60/min path keeps 3 s of work (three messages); the rest go back to the queue.
      extraDelivery: ['lease = "6s"', '[shaping.default]', 'max_message_rate = "60/min"', '[[shaping.warmup]]', `source = "${SOURCE}"`, 'start = "2027-01-10"', 'per_day = [5, 50]'].join('\n'),
    });
    const clock = clockAt('2027-01-10T12:00:00Z');
    const run = await deliverShaped(config, writeCsv(dir, rows('slowwarm.test', 5), 'slowwarm.csv'), { engine: { now: clock.now } });
    assert.equal(run.count('delivered'), 5, 'all five fit in the day\'s cap of 5');
    assert.equal(world.sinkFor('mx.slowwarm.test').received.length, 5);
    const day = Date.parse('2027-01-10T00:00:00Z');
    assert.deepEqual(run.store.warmupCounts(day).map((c) => c.count), [5]);
    run.store.close();
  });
});
