import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startWorld, type World } from '../world/world.js';
import { allClosed, maxConcurrent } from '../world/timeline.js';
import { tempDir, writeConfig, writeCsv } from './harness.js';
import { deliverShaped } from './shaping-harness.js';

/** Connection limits per egress path, provider groups, per-source caps and idle QUIT, against sinks. */
const HOSTS = {
  'mx.capped.test': '127.0.0.61',
  'mx.alpha.provider.test': '127.0.0.62',
  'mx.beta.provider.test': '127.0.0.63',
};

const DOMAINS = {
  'capped.test': { mx: ['mx.capped.test'] },
  'alpha.test': { mx: ['mx.alpha.provider.test'] },
  'beta.test': { mx: ['mx.beta.provider.test'] },
};

const ONE_SOURCE = ['127.0.1.21'];

describe('shaping: connections per egress path', () => {
  let world: World;
  let dir: string;

  before(async () => {
    world = await startWorld({ domains: DOMAINS, hosts: HOSTS });
    dir = tempDir();
  });

  after(async () => {
    await world.close();
  });

  const emails = (domain: string, n: number, prefix = 'r') => Array.from({ length: n }, (_, i) => ({ email: `${prefix}${i}@${domain}`, name: `N${i}` }));

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
