import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../engine/config/load.js';
import { createEngine, type Engine } from '../../engine/runtime.js';
import { untilQuiet } from '../../engine/scheduler/engine.js';
import type { Store } from '../../storage/store.js';
import { startWorld, type World } from '../world/world.js';
import { adminWorld, as, login, type App, type Login } from './admin-harness.js';
import { tempDir, writeConfig } from './harness.js';

// A campaign edited while paused is sent as edited after resume, by the same running engine: what
// the engine and its render workers compiled before the edit must not be used after it.

let world: World;
let app: App;
let store: Store;
let close: () => Promise<void>;
let engine: Engine;
let user: Login;

before(async () => {
  world = await startWorld({
    domains: { 'rev.test': { mx: ['mx.rev.test'] } },
    hosts: { 'mx.rev.test': '127.0.0.72' },
    // `late@` is deferred once, so it is still to send when the campaign is paused and edited.
    scripts: { 'mx.rev.test': { rcpt: (a, { attempt }) => (a.startsWith('late@') && attempt === 1 ? { code: 451, message: '4.3.0 try later' } : 'accept') } },
  });
  const config = loadConfig(writeConfig(tempDir(), world));
  ({ app, store, close } = await adminWorld({ config }));
  user = await login(app, 'one@x.test');
  engine = createEngine(config, store, pino({ level: 'silent' }));
});
after(async () => {
  await engine.close();
  await close();
  await world.close();
});

test('an edit made while paused reaches the recipients sent after resume (engine and render workers kept running)', async () => {
  const listId = store.lists.begin('L', store.userByEmail('one@x.test')!.id, 1);
  store.lists.upsert(listId, ['early', 'late'].map((u) => ({ email: `${u}@rev.test`, domain: 'rev.test', attrs: { name: u } })), 1);
  store.lists.finish(listId, ['name'], 1);
  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/campaigns',
    headers: as(user),
    payload: { name: 'R', from: 'News <news@sender.test>', subject: 'Old subject {{name}}', text: 'Old text for {{name}}', lists: [listId] },
  });
  assert.equal(created.statusCode, 201, created.body);
  const id = created.json().id as number;
  const act = async (action: string) => assert.equal((await app.inject({ method: 'POST', url: `/api/v1/campaigns/${id}/${action}`, headers: as(user) })).statusCode, 200, action);

  await act('start');
  // Quiet once nothing is due within 200 ms: `late@` waits for its 1 s retry.
  await engine.scheduler.run(untilQuiet(200));
  const first = world.received();
  assert.deepEqual(first.flatMap((m) => m.rcptTo), ['early@rev.test']);
  assert.match(first[0]!.data.toString(), /Old text for early/);

  await act('pause');
  const edited = await app.inject({ method: 'PATCH', url: `/api/v1/campaigns/${id}`, headers: as(user), payload: { subject: 'New subject {{name}}', text: 'New text for {{name}}' } });
  assert.equal(edited.statusCode, 200, edited.body);
  await act('resume');
  await engine.scheduler.run(untilQuiet(3_000));

  const second = world.received().slice(first.length);
  assert.deepEqual(second.flatMap((m) => m.rcptTo), ['late@rev.test']);
  const text = second[0]!.data.toString();
  assert.match(text, /^Subject: New subject late\r$/m);
  assert.match(text, /New text for late/);
  assert.doesNotMatch(text, /Old/);
});
