import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { pino } from 'pino';
import { seedSourceSet } from '../../engine/scheduler/source-set.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import type { ConfiguredSources } from '../../storage/sources.js';
import type { CampaignInput } from '../../storage/store.js';
import { tempDir } from './harness.js';

const two: ConfiguredSources = {
  sources: [
    { address: '127.0.1.21', helo: 'a.sender.test' },
    { address: '127.0.1.22', helo: 'b.sender.test' },
  ],
  pools: { default: { sources: [{ address: '127.0.1.21', weight: 1 }, { address: '127.0.1.22', weight: 2 }] }, gone: { sources: [{ address: '127.0.1.22', weight: 1 }] } },
  shaping: { warmup: [{ source: '127.0.1.22', startDay: 86_400_000, perDay: [5, 10] }] },
};
const campaign: CampaignInput = { name: 'On gone', from: 'n@sender.test', mailFrom: 'n@sender.test', subject: 's', html: null, text: 't', pool: 'gone' };

test('seed: the config is copied in, idempotent; what the config drops goes, unless something uses it (kept as an API entry, logged)', () => {
  const store = openSqliteStore(join(tempDir(), 'q.db'));
  seedSourceSet(store.sources, two, 1);
  assert.deepEqual(seedSourceSet(store.sources, two, 2), {
    sources: [{ address: '127.0.1.21', helo: 'a.sender.test' }, { address: '127.0.1.22', helo: 'b.sender.test' }],
    pools: { default: { sources: [{ address: '127.0.1.21', weight: 1 }, { address: '127.0.1.22', weight: 2 }] }, gone: { sources: [{ address: '127.0.1.22', weight: 1 }] } },
    warmup: [{ source: '127.0.1.22', startDay: 86_400_000, perDay: [5, 10] }],
  });
  assert.equal(store.sources.setWarmup('127.0.1.22', null).ok, false, "a config source's warm-up is the config's");
  assert.deepEqual(store.sources.add([{ address: '127.0.1.23', helo: 'c.sender.test' }], 3), { added: ['127.0.1.23'], skipped: [] });
  assert.equal(store.sources.addPool('mine', [{ address: '127.0.1.22', weight: 1 }, { address: '127.0.1.23', weight: 4 }], 3).ok, true);
  const id = store.beginImport(campaign, 3);
  store.finishImport(id, 'draft');

  // The config now has only .21 (with a new EHLO name) and only the default pool.
  const warnings: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line).msg) });
  const set = seedSourceSet(store.sources, { sources: [{ address: '127.0.1.21', helo: 'new.sender.test' }], pools: { default: { sources: [{ address: '127.0.1.21', weight: 1 }] } }, shaping: { warmup: [] } }, 4, log);
  assert.deepEqual(store.sources.list().map((s) => `${s.address} ${s.helo} ${s.origin}`), ['127.0.1.21 new.sender.test config', '127.0.1.22 b.sender.test api', '127.0.1.23 c.sender.test api']);
  assert.deepEqual(store.sources.pools().map((p) => `${p.name} ${p.origin} ${p.sources.map((m) => m.address).join(',')}`), ['default config 127.0.1.21', 'gone api 127.0.1.22', 'mine api 127.0.1.22,127.0.1.23']);
  assert.deepEqual(Object.keys(set.pools).sort(), ['default', 'gone', 'mine']);
  assert.deepEqual(set.warmup.map((w) => w.source), ['127.0.1.22'], 'a dropped source kept as an API one keeps its schedule');
  assert.deepEqual(warnings, [
    'source 127.0.1.22 left the config but pool(s) gone, mine still name it: kept as an API source',
    `pool gone left the config but campaign(s) ${id} "On gone" (draft) use it: kept as an API pool`,
  ]);

  // Once nothing uses them, a later start with the same config removes nothing more (they are API entries now).
  store.transitionCampaign(id, ['draft'], 'cancelled', 5);
  assert.equal(store.sources.removePool('gone').ok, true);
  seedSourceSet(store.sources, { sources: [], pools: { default: { sources: [] } }, shaping: { warmup: [] } }, 6);
  assert.deepEqual(store.sources.list().map((s) => `${s.address} ${s.origin}`), ['127.0.1.22 api', '127.0.1.23 api'], 'the dropped config source .21 went; API ones stay');
  assert.deepEqual(store.sources.pool('default')?.sources, []);
  store.close();
});

test('refused changes write nothing: a pool with an unknown or repeated member, a source a pool names, a pool a campaign uses', () => {
  const store = openSqliteStore(join(tempDir(), 'q.db'));
  seedSourceSet(store.sources, two, 1);
  assert.deepEqual(store.sources.addPool('p', [{ address: '127.0.1.21', weight: 1 }, { address: '127.0.1.99', weight: 1 }], 2), { ok: false, reason: 'unknown-source', index: 1 });
  assert.deepEqual(store.sources.addPool('p', [{ address: '127.0.1.21', weight: 1 }, { address: '127.0.1.21', weight: 1 }], 2), { ok: false, reason: 'repeated-source', index: 1 });
  assert.equal(store.sources.pool('p'), null, 'no pool row left behind');
  assert.deepEqual(store.sources.addPool('default', [{ address: '127.0.1.21', weight: 1 }], 2), { ok: false, reason: 'exists' });
  assert.deepEqual(store.sources.updatePool('default', [{ address: '127.0.1.21', weight: 1 }]), { ok: false, reason: 'config' });
  assert.deepEqual(store.sources.remove('127.0.1.21'), { ok: false, reason: 'config' });
  store.sources.add([{ address: '127.0.1.30', helo: 'x.sender.test' }], 2);
  assert.equal(store.sources.addPool('p', [{ address: '127.0.1.30', weight: 2 }], 2).ok, true);
  assert.deepEqual(store.sources.updatePool('p', [{ address: '127.0.1.21', weight: 1 }, { address: '127.0.1.31', weight: 1 }]), { ok: false, reason: 'unknown-source', index: 1 });
  assert.deepEqual(store.sources.pool('p')?.sources, [{ address: '127.0.1.30', weight: 2 }], 'members as they were');
  assert.deepEqual(store.sources.remove('127.0.1.30'), { ok: false, reason: 'in-pool', pools: ['p'] });
  const id = store.beginImport({ ...campaign, pool: 'p' }, 3);
  store.finishImport(id, 'running');
  assert.deepEqual(store.sources.removePool('p'), { ok: false, reason: 'in-use', campaigns: [{ id, name: 'On gone', status: 'running' }] });
  assert.equal(store.sources.pool('p')?.sources.length, 1);
  // Adding a batch where some exist: the new ones are added, the rest reported, in one transaction.
  assert.deepEqual(store.sources.add([{ address: '127.0.1.30', helo: 'y.sender.test' }, { address: '127.0.1.32', helo: 'y.sender.test' }], 4), { added: ['127.0.1.32'], skipped: ['127.0.1.30'] });
  assert.equal(store.sources.list().find((s) => s.address === '127.0.1.30')?.helo, 'x.sender.test', 'a skipped source is left as it was');
  // A batch that fails part way (here a row the table refuses) leaves none of its rows behind.
  const before = store.sources.list().length;
  assert.throws(() => store.sources.add([{ address: '127.0.1.40', helo: 'z.sender.test' }, { address: '127.0.1.41', helo: null as unknown as string }], 5), /NOT NULL/);
  assert.equal(store.sources.list().length, before);
  store.close();
});

test('an API source with a warm-up that the config takes over without one: the schedule ends, and the log says so', () => {
  const store = openSqliteStore(join(tempDir(), 'q.db'));
  seedSourceSet(store.sources, two, 1);
  store.sources.add([{ address: '127.0.1.33', helo: 'w.sender.test', warmup: { startDay: 0, perDay: [3] } }], 2);
  assert.deepEqual(store.sources.setWarmup('127.0.1.33', { startDay: 0, perDay: [4, 8] }).ok, true);
  const warnings: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line).msg) });
  const set = seedSourceSet(store.sources, { ...two, sources: [...two.sources, { address: '127.0.1.33', helo: 'w.sender.test' }] }, 3, log);
  assert.deepEqual(set.warmup.map((w) => w.source), ['127.0.1.22'], 'the config names only .22');
  assert.equal(store.sources.list().find((s) => s.address === '127.0.1.33')?.origin, 'config');
  assert.deepEqual(warnings, ['source 127.0.1.33 is in the config now, without a [[shaping.warmup]]: the warm-up set over the API has ended (add one to the config to keep capping it)']);
  store.close();
});

test('IPv6 spellings: a config `0:0::1` and an API `::1` are one source, in either order; pool members match', () => {
  const config: ConfiguredSources = {
    sources: [{ address: '0:0::1', helo: 'v6.sender.test' }],
    pools: { default: { sources: [{ address: '0:0:0:0:0:0:0:1', weight: 2 }] } },
    shaping: { warmup: [{ source: '0::1', startDay: 86_400_000, perDay: [5] }] },
  };
  // The config first, then the API adds `::1`: skipped, already there.
  const first = openSqliteStore(join(tempDir(), 'q.db'));
  assert.deepEqual(seedSourceSet(first.sources, config, 1), {
    sources: [{ address: '::1', helo: 'v6.sender.test' }],
    pools: { default: { sources: [{ address: '::1', weight: 2 }] } },
    warmup: [{ source: '::1', startDay: 86_400_000, perDay: [5] }],
  });
  assert.deepEqual(first.sources.add([{ address: '::1', helo: 'api.sender.test' }], 2), { added: [], skipped: ['::1'] });
  assert.deepEqual(first.sources.list().map((s) => `${s.address} ${s.helo} ${s.origin}`), ['::1 v6.sender.test config']);
  assert.equal(first.sources.addPool('mine', [{ address: '::1', weight: 1 }], 2).ok, true, 'an API pool names the source by its stored spelling');
  first.close();

  // The API first, then a start with the config: the one row becomes the config's.
  const second = openSqliteStore(join(tempDir(), 'q.db'));
  assert.deepEqual(second.sources.add([{ address: '::1', helo: 'api.sender.test' }], 1), { added: ['::1'], skipped: [] });
  seedSourceSet(second.sources, config, 2);
  assert.deepEqual(second.sources.list().map((s) => `${s.address} ${s.helo} ${s.origin}`), ['::1 v6.sender.test config']);
  assert.deepEqual(second.sources.pool('default')?.sources, [{ address: '::1', weight: 2 }]);
  second.close();
});
