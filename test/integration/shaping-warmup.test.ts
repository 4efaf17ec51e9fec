import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startWorld, type World } from '../world/world.js';
import { tempDir, writeConfig, writeCsv } from './harness.js';
import { deliverShaped } from './shaping-harness.js';

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

  test('recipients held back by a rate-limited path do not use up the day\'s warm-up cap', async () => {
    const config = writeConfig(tempDir(), world, {
      sources: [SOURCE],
      // lease 2s: a 60/min path keeps 1 s of work (one message); the rest go back to the queue.
      extraDelivery: ['lease = "2s"', '[shaping.default]', 'max_message_rate = "60/min"', '[[shaping.warmup]]', `source = "${SOURCE}"`, 'start = "2027-01-10"', 'per_day = [5, 50]'].join('\n'),
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
