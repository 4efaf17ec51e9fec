import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PathState } from '../../storage/store.js';
import { startWorld, type World } from '../world/world.js';
import { parseRate } from '../../engine/shaping/rate.js';
import { allClosed, maxConcurrent, perWindow, windowsOverBound } from '../world/timeline.js';
import { tempDir, writeConfig, writeCsv } from './harness.js';
import { deliverShaped } from './shaping-harness.js';

/** Connection limits per egress path, provider groups, per-source caps and idle QUIT, against sinks. */
const HOSTS = {
  'mx.capped.test': '127.0.0.61',
  'mx.quick.test': '127.0.0.66',
  'mx.lingering.test': '127.0.0.67',
  'mx.mixed.test': '127.0.0.68',
  'mx.redial.test': '127.0.0.69',
  'mx.bulk.test': '127.0.0.70',
  'mx.alpha.provider.test': '127.0.0.62',
  'mx.beta.provider.test': '127.0.0.63',
};

const DOMAINS = {
  'capped.test': { mx: ['mx.capped.test'] },
  'quick.test': { mx: ['mx.quick.test'] },
  'lingering.test': { mx: ['mx.lingering.test'] },
  'mixed.test': { mx: ['mx.mixed.test'] },
  'redial.test': { mx: ['mx.redial.test'] },
  'bulk.test': { mx: ['mx.bulk.test'] },
  'alpha.test': { mx: ['mx.alpha.provider.test'] },
  'beta.test': { mx: ['mx.beta.provider.test'] },
};

const ONE_SOURCE = ['127.0.1.21'];

function engineSawBackoff(states: PathState[], sourceIp: string): boolean {
  return states.some((p) => p.sourceIp === sourceIp && p.site === 'mx.mixed.test' && p.throttles === 1 && p.state === 'backoff');
}

describe('shaping: connections per egress path', () => {
  let world: World;
  let dir: string;

  before(async () => {
    world = await startWorld({
      domains: DOMAINS,
      hosts: HOSTS,
      scripts: {
        'mx.mixed.test': {
          rcpt: (address, { attempt }) => {
            if (attempt > 1) return 'accept';
            if (address.startsWith('grey')) return { code: 451, message: '4.7.1 Greylisted, try again later' };
            if (address.startsWith('slow')) return { code: 421, message: '4.7.0 rate limited, slow down' };
            return 'accept';
          },
        },
      },
    });
    dir = tempDir();
  });

  after(async () => {
    await world.close();
  });

  const emails = (domain: string, n: number, prefix = 'r') => Array.from({ length: n }, (_, i) => ({ email: `${prefix}${i}@${domain}`, name: `N${i}` }));

  test('a site capped at max_connections = 2 never sees a third session while 200 messages go through', async () => {
    const config = writeConfig(tempDir(), world, {
      sources: ONE_SOURCE,
      extraDelivery: ['[[shaping.site]]', 'match = "mx.capped.test"', 'max_connections = 2', 'max_messages_per_connection = 30'].join('\n'),
    });
    const run = await deliverShaped(config, writeCsv(dir, emails('capped.test', 200), 'capped.csv'));
    assert.equal(run.count('delivered'), 200);
    const sink = world.sinkFor('mx.capped.test');
    assert.equal(sink.received.length, 200);
    assert.equal(maxConcurrent(sink.sessions), 2, 'both connections were used, never a third');
    assert.equal(sink.maxConcurrentSessions, 2, 'the sink\'s own count agrees');
    const perSession = new Map<string, number>();
    for (const m of sink.received) perSession.set(m.sessionId, (perSession.get(m.sessionId) ?? 0) + 1);
    assert.ok([...perSession.values()].every((n) => n <= 30), `messages per connection: ${[...perSession.values()].join(' ')}`);
    assert.ok(perSession.size >= Math.ceil(200 / 30), 'max_messages_per_connection made it reconnect');
    run.store.close();
  });

  test('an idle connection QUITs after its site\'s idle_timeout; another site\'s stays open meanwhile', async () => {
    const config = writeConfig(tempDir(), world, {
      sources: ONE_SOURCE,
      extraDelivery: [
        '[[shaping.site]]', 'match = "mx.quick.test"', 'idle_timeout = "400ms"', 'max_connections = 1',
        '[[shaping.site]]', 'match = "mx.lingering.test"', 'idle_timeout = "60s"',
      ].join('\n'),
    });
    const quick = world.sinkFor('mx.quick.test');
    const lingering = world.sinkFor('mx.lingering.test');
    let stoppedAt = Infinity;
    const run = await deliverShaped(config, writeCsv(dir, [...emails('quick.test', 3), ...emails('lingering.test', 3)], 'idle.csv'), {
      // Like `start`: the engine keeps running with nothing to do, until the quick site's session is gone.
      stopWhen: () => false,
      started: (engine) => {
        const poll = setInterval(() => {
          if (quick.received.length === 3 && quick.sessions.every((x) => x.closedAt !== undefined)) {
            clearInterval(poll);
            stoppedAt = Date.now();
            engine.scheduler.stop();
          }
        }, 20);
      },
    });
    assert.equal(run.count('delivered'), 6);
    assert.equal(quick.sessions.length, 1, 'one connection carried all three');
    const session = quick.sessions[0]!;
    const last = Math.max(...quick.received.map((m) => m.at));
    assert.ok(session.quitAt !== undefined && session.quitAt < stoppedAt, 'the quick site saw QUIT while the engine was still running');
    assert.ok(session.quitAt - last >= 300, `QUIT ${session.quitAt - last} ms after the last message: it waited for idle_timeout`);
    assert.ok(lingering.sessions.every((x) => x.quitAt === undefined || x.quitAt >= stoppedAt), 'the lingering site stayed connected until the engine stopped');
    assert.ok(await allClosed(() => lingering.sessions), 'stopping closed it');
    assert.ok(lingering.sessions.every((x) => x.quitAt !== undefined), 'with QUIT');
    run.store.close();
  });

  test('a greylisted recipient retries from the same source even in backoff; a throttled one moves', async () => {
    const [first, second] = ['127.0.1.24', '127.0.1.25'];
    const config = writeConfig(tempDir(), world, {
      sources: [first!, second!],
      extraDelivery: ['[shaping.backoff]', 'duration = "1m"'].join('\n'),
    });
    // random() = 0: the weighted choice takes the pool's first source for new recipients.
    const run = await deliverShaped(config, writeCsv(dir, [{ email: 'slow@mixed.test' }, { email: 'grey@mixed.test' }], 'mixed.csv'), { engine: { random: () => 0 } });
    assert.equal(run.count('delivered'), 2);
    const events = run.store.events(run.imported.campaignId, 10);
    const trail = (email: string) => events.filter((e) => e.email === email).map((e) => `${e.status}/${e.category ?? ''}/${e.sourceIp}`);
    assert.deepEqual(trail('grey@mixed.test'), [`deferred/greylisted/${first}`, `delivered//${first}`], 'greylisting keys on the client IP: same source');
    assert.deepEqual(trail('slow@mixed.test'), [`deferred/rate-limited/${first}`, `delivered//${second}`], 'the throttled path is avoided');
    assert.ok(engineSawBackoff(run.store.pathStates(), first!), 'the first source\'s path was in backoff');
    run.store.close();
  });

  test('max_connection_rate: new connections over any window stay within burst + rate × window', async () => {
    const rate = parseRate('240/min'); // burst 4, one connection per 250 ms
    const config = writeConfig(tempDir(), world, {
      sources: ONE_SOURCE,
      // One message per connection: every message needs a new connection.
      extraDelivery: ['[[shaping.site]]', 'match = "mx.redial.test"', 'max_connections = 5', 'max_messages_per_connection = 1', `max_connection_rate = "${rate.text}"`].join('\n'),
    });
    const run = await deliverShaped(config, writeCsv(dir, emails('redial.test', 12), 'redial.csv'));
    assert.equal(run.count('delivered'), 12);
    const opened = world.sinkFor('mx.redial.test').sessions.map((x) => x.openedAt);
    assert.equal(opened.length, 12);
    assert.deepEqual(windowsOverBound(opened, rate.burst, rate.perMs, 150), [], `connections per second: ${perWindow(opened, 1000).join(' ')}`);
    run.store.close();
  });

  test('max_recipients_per_transaction from a site rule splits identical messages', async () => {
    const config = writeConfig(tempDir(), world, {
      sources: ONE_SOURCE,
      extraDelivery: ['[[shaping.site]]', 'match = "mx.bulk.test"', 'max_recipients_per_transaction = 3'].join('\n'),
    });
    const run = await deliverShaped(config, writeCsv(dir, emails('bulk.test', 10), 'bulk.csv'), { campaign: { subject: 'Same', html: '<p>same</p>', text: 'same' } });
    assert.equal(run.count('delivered'), 10);
    const sizes = world.sinkFor('mx.bulk.test').received.map((m) => m.rcptTo.length).sort();
    assert.deepEqual(sizes, [1, 3, 3, 3]);
    run.store.close();
  });

  test('provider group: two domains whose MX hosts share a suffix share one connection cap, each mail to its own MX', async () => {
    const config = writeConfig(tempDir(), world, {
      sources: ONE_SOURCE,
      extraDelivery: ['[[shaping.site]]', 'match = "*.provider.test"', 'name = "provider"', 'max_connections = 2'].join('\n'),
    });
    const csv = writeCsv(dir, [...emails('alpha.test', 40, 'a'), ...emails('beta.test', 40, 'b')], 'group.csv');
    const run = await deliverShaped(config, csv);
    assert.equal(run.count('delivered'), 80);
    const alpha = world.sinkFor('mx.alpha.provider.test');
    const beta = world.sinkFor('mx.beta.provider.test');
    assert.ok(alpha.received.every((m) => m.rcptTo.every((r) => r.endsWith('@alpha.test'))), 'alpha MX got only alpha.test mail');
    assert.ok(beta.received.every((m) => m.rcptTo.every((r) => r.endsWith('@beta.test'))), 'beta MX got only beta.test mail');
    assert.equal(alpha.received.length + beta.received.length, 80);
    const together = maxConcurrent([...alpha.sessions, ...beta.sessions]);
    assert.ok(together <= 2, `both MX hosts together saw ${together} sessions at once`);
    run.store.close();
  });
});

describe('shaping: connections per source', () => {
  let world: World;
  let dir: string;

  before(async () => {
    world = await startWorld({
      domains: { 'one.test': { mx: ['mx.one.test'] }, 'two.test': { mx: ['mx.two.test'] } },
      hosts: { 'mx.one.test': '127.0.0.64', 'mx.two.test': '127.0.0.65' },
    });
    dir = tempDir();
  });

  after(async () => {
    await world.close();
  });

  test('max_connections_per_source: one source never holds more; an idle session gives its slot to another site', async () => {
    const sources = ['127.0.1.22', '127.0.1.23'];
    const config = writeConfig(tempDir(), world, {
      sources,
      // A long idle_timeout: the other site must not wait for it.
      extraDelivery: ['[shaping]', 'max_connections_per_source = 1', '[shaping.default]', 'max_connections = 5', 'idle_timeout = "20s"'].join('\n'),
    });
    const rows = ['one.test', 'two.test'].flatMap((d) => Array.from({ length: 12 }, (_, i) => ({ email: `s${i}@${d}`, name: `N${i}` })));
    const run = await deliverShaped(config, writeCsv(dir, rows, 'per-source.csv'));
    assert.equal(run.count('delivered'), 24);
    const sessions = [...world.sinkFor('mx.one.test').sessions, ...world.sinkFor('mx.two.test').sessions];
    for (const ip of sources) {
      const mine = sessions.filter((s) => s.remoteAddress === ip);
      assert.ok(mine.length > 0, `${ip} was used`);
      assert.equal(maxConcurrent(mine), 1, `${ip}: sessions open at once`);
    }
    // Without giving the slot up, the second site would wait out the first one's 20 s idle_timeout.
    const received = world.received();
    const span = received[received.length - 1]!.at - received[0]!.at;
    assert.ok(span < 10_000, `all mail arrived within ${span} ms, not after an idle_timeout`);
    assert.ok(await allClosed(() => sessions), 'every session closed after the run');
    assert.ok(sessions.every((s) => s.quitAt !== undefined), 'every session ended with QUIT');
    run.store.close();
  });
});
