import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseRate } from '../../engine/shaping/rate.js';
import { startWorld, type World } from '../world/world.js';
import { allClosed, maxConcurrent, perWindow, windowsOverBound } from '../world/timeline.js';
import { tempDir, writeConfig, writeCsv } from './harness.js';
import { deliverShaped } from './shaping-harness.js';

/**
 * Message rates and backoff, read from the sink's arrival times. Bounds are the documented ones
 * (burst + rate × window); the only slack is at window edges, for the time between the engine
 * taking a token and the sink stamping the arrival.
 */
const EDGE_SLACK_MS = 150;
const SOURCE = '127.0.1.51';

describe('shaping: message rate and backoff', () => {
  let world: World;
  let dir: string;
  /** When the sink answered 421 "rate limited" (for the backoff test). */
  const throttledAt: number[] = [];
  let rcptSeen = 0;

  before(async () => {
    world = await startWorld({
      domains: { 'paced.test': { mx: ['mx.paced.test'] }, 'throttle.test': { mx: ['mx.throttle.test'] }, 'trickle.test': { mx: ['mx.trickle.test'] } },
      hosts: { 'mx.paced.test': '127.0.0.81', 'mx.throttle.test': '127.0.0.82', 'mx.trickle.test': '127.0.0.83' },
      scripts: {
        'mx.throttle.test': {
          // The sixth recipient to arrive is throttled, whichever it is: rendering in parallel
          // workers does not keep queue order, and an early throttle leaves plenty to send after.
          rcpt: () => {
            rcptSeen++;
            if (rcptSeen !== 6) return 'accept';
            throttledAt.push(Date.now());
            return { code: 421, message: '4.7.0 rate limited, slow down' };
          },
        },
      },
    });
    dir = tempDir();
  });

  after(async () => {
    await world.close();
  });

  test('a domain at "120/min" never receives more than burst + rate × window, over any window', async () => {
    const rate = parseRate('120/min'); // burst 2, one message per 500 ms
    const config = writeConfig(tempDir(), world, {
      sources: [SOURCE],
      extraDelivery: ['[[shaping.domain]]', 'match = "paced.test"', 'max_connections = 3', 'max_message_rate = "120/min"'].join('\n'),
    });
    // burst + 6 s of the rate: a run of about six seconds.
    const n = rate.burst + 12;
    const rows = Array.from({ length: n }, (_, i) => ({ email: `p${i}@paced.test`, name: `N${i}` }));
    const run = await deliverShaped(config, writeCsv(dir, rows, 'paced.csv'));
    assert.equal(run.count('delivered'), n);
    const arrivals = world.sinkFor('mx.paced.test').received.map((m) => m.at);
    assert.equal(arrivals.length, n);
    const over = windowsOverBound(arrivals, rate.burst, rate.perMs, EDGE_SLACK_MS);
    assert.deepEqual(over, [], `arrivals per second: ${perWindow(arrivals, 1000).join(' ')}`);
    run.store.close();
  });

  test('a 421 "4.7.0 rate limited" reply puts the path into backoff: the rate falls, then recovers', async () => {
    const backoffRate = parseRate('2/s');
    const backoffMs = 2000;
    const config = writeConfig(tempDir(), world, {
      sources: [SOURCE],
      retry: ['30s'],
      extraDelivery: [
        '[shaping.default]',
        'max_connections = 3',
        '[shaping.backoff]',
        `duration = "${backoffMs}ms"`,
        'max_connections = 1',
        `max_message_rate = "${backoffRate.text}"`,
      ].join('\n'),
    });
    const rows = Array.from({ length: 120 }, (_, i) => ({ email: `t${i}@throttle.test`, name: `N${i}` }));
    const states: string[] = [];
    let poll: NodeJS.Timeout | undefined;
    const run = await deliverShaped(config, writeCsv(dir, rows, 'throttle.csv'), {
      maxWaitMs: 0,
      started: (engine) => {
        poll = setInterval(() => {
          for (const s of engine.egress.pathStates()) states.push(s.state);
        }, 50);
      },
    }).finally(() => clearInterval(poll));
    assert.equal(run.count('delivered'), 119);
    assert.equal(run.count('deferred', 'rate-limited'), 1, 'the throttled recipient waits for its retry');
    assert.equal(throttledAt.length, 1);
    const t0 = throttledAt[0]!;
    const sink = world.sinkFor('mx.throttle.test');
    const arrivals = sink.received.map((m) => m.at);
    // During backoff: at most the backoff rate's bound, and one connection at a time.
    const during = arrivals.filter((t) => t > t0 + EDGE_SLACK_MS && t < t0 + backoffMs);
    assert.deepEqual(windowsOverBound(during, backoffRate.burst, backoffRate.perMs, EDGE_SLACK_MS), [], `in backoff, per second: ${perWindow(during, 1000).join(' ')}`);
    const sessionsDuring = sink.sessions.filter((s) => s.openedAt > t0 + EDGE_SLACK_MS && s.openedAt < t0 + backoffMs);
    assert.ok(maxConcurrent(sessionsDuring) <= 1, 'one connection in backoff');
    // After backoff: faster again than backoff would allow over the same span.
    const afterwards = arrivals.filter((t) => t >= t0 + backoffMs);
    assert.ok(afterwards.length > 0, 'mail went on after the backoff');
    const span = afterwards[afterwards.length - 1]! - afterwards[0]!;
    const backoffBound = backoffRate.burst + backoffRate.perMs * span;
    assert.ok(afterwards.length > backoffBound, `after backoff ${afterwards.length} in ${span} ms; backoff would allow ${backoffBound.toFixed(1)}`);
    assert.ok(states.includes('backoff') && states.includes('normal'), 'the path state showed backoff, then normal');
    const saved = run.store.pathStates().find((s) => s.site === 'mx.throttle.test');
    assert.equal(saved?.throttles, 1);
    assert.match(saved?.lastReply ?? '', /421 4\.7\.0 rate limited/);
    run.store.close();
  });

  test('stopping does not wait for a rate token: the session waiting for one QUITs at once', async () => {
    // 1/min: after the first message the next token is a minute away.
    const config = writeConfig(tempDir(), world, {
      sources: [SOURCE],
      extraDelivery: ['[[shaping.domain]]', 'match = "trickle.test"', 'max_connections = 1', 'max_message_rate = "1/min"'].join('\n'),
    });
    const sink = world.sinkFor('mx.trickle.test');
    const rows = Array.from({ length: 3 }, (_, i) => ({ email: `k${i}@trickle.test` }));
    const run = await deliverShaped(config, writeCsv(dir, rows, 'trickle.csv'), {
      stopWhen: () => false,
      started: (engine) => {
        const poll = setInterval(() => {
          if (sink.received.length === 0) return;
          clearInterval(poll);
          // Give the session time to take the next job and wait for its token.
          setTimeout(() => engine.scheduler.stop(), 300);
        }, 20);
      },
    });
    assert.equal(run.count('delivered'), 1);
    assert.equal(run.count('queued'), 2, 'the others went back to the queue, not attempted');
    assert.ok(await allClosed(() => sink.sessions, 10_000), 'the session closed within 10 s of stopping, not after the minute-long token wait');
    assert.ok(sink.sessions.every((x) => x.quitAt !== undefined), 'with QUIT');
    run.store.close();
  });
});
