import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../engine/config/load.js';
import { createEngine } from '../../engine/runtime.js';
import { untilQuiet } from '../../engine/scheduler/engine.js';
import type { Store } from '../../storage/store.js';
import { startWorld, type World } from '../world/world.js';
import { adminWorld, as, login, type App, type Login } from './admin-harness.js';
import { tempDir, writeConfig } from './harness.js';

/** Issue #5 part 5 over the API: edit only in draft or paused, clone, test-send through the engine, sendAt. */
describe('campaign edit, clone, test-send and scheduling over the API', () => {
  let world: World;
  let app: App;
  let store: Store;
  let close: () => Promise<void>;
  let config: ReturnType<typeof loadConfig>;
  let one: Login;
  let two: Login;
  let listId: number;

  before(async () => {
    world = await startWorld({ domains: { 'edit.test': { mx: ['mx.edit.test'] } }, hosts: { 'mx.edit.test': '127.0.0.71' } });
    config = loadConfig(writeConfig(tempDir(), world));
    ({ app, store, close } = await adminWorld({ config }));
    [one, two] = [await login(app, 'one@x.test'), await login(app, 'two@x.test')];
    listId = store.lists.begin('L', store.userByEmail('one@x.test')!.id, 1);
    store.lists.upsert(listId, ['a', 'b', 'c'].map((u) => ({ email: `${u}@edit.test`, domain: 'edit.test', attrs: { name: u.toUpperCase() } })), 1);
    store.lists.finish(listId, ['name'], 1);
  });
  after(async () => {
    await close();
    await world.close();
  });

  const create = async (l = one) => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/campaigns', headers: as(l), payload: { name: 'C', from: 'News <news@sender.test>', subject: 'Hi {{name}}', text: 'Hello {{name}}', lists: [listId] } });
    assert.equal(res.statusCode, 201, res.body);
    return res.json().id as number;
  };
  const edit = (id: number, payload: object, l = one) => app.inject({ method: 'PATCH', url: `/api/v1/campaigns/${id}`, headers: as(l), payload });
  const act = (id: number, action: string) => app.inject({ method: 'POST', url: `/api/v1/campaigns/${id}/${action}`, headers: as(one) });

  test('edits are allowed in draft and paused, refused (409) in scheduled, running, finished and cancelled', async () => {
    const id = await create();
    const ok = await edit(id, { subject: 'New {{name}}', replyTo: 'help@sender.test', tracking: false });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual([ok.json().subject, ok.json().replyTo, ok.json().name], ['New {{name}}', 'help@sender.test', 'C']);
    assert.equal((await act(id, 'start')).json().status, 'running');
    const running = await edit(id, { subject: 'x' });
    assert.equal(running.statusCode, 409);
    assert.match(running.json().message, /cannot edit a running campaign \(edits only while draft or paused\)/);
    assert.equal((await act(id, 'pause')).json().status, 'paused');
    assert.equal((await edit(id, { text: 'Changed while paused' })).json().text, 'Changed while paused');
    assert.equal((await act(id, 'cancel')).json().status, 'cancelled');
    assert.equal((await edit(id, { subject: 'x' })).statusCode, 409);

    const later = await create();
    const scheduled = await edit(later, { sendAt: Date.now() + 3_600_000 });
    assert.ok(scheduled.json().sendAt > Date.now());
    assert.equal((await act(later, 'start')).json().status, 'scheduled');
    assert.equal((await edit(later, { subject: 'x' })).statusCode, 409, 'scheduled: pause first');
    assert.equal((await act(later, 'pause')).json().status, 'paused');
    assert.equal((await edit(later, { sendAt: null })).json().sendAt, null, 'sendAt cleared while paused');
    assert.equal((await act(later, 'resume')).json().status, 'running', 'no sendAt: resume runs at once');

    store.transitionCampaign(later, ['running'], 'finished', Date.now());
    assert.equal((await edit(later, { subject: 'x' })).statusCode, 409, 'finished');
  });

  test('bad edits: 400 naming the field, nothing changed; 403 across senders; 404 unknown', async () => {
    const id = await create();
    for (const [payload, message] of [
      [{}, /body must NOT have fewer than 1 properties/],
      [{ from: 'nobody' }, /^from: /],
      [{ pool: 'nope' }, /^pool: "nope" is not a pool/],
      [{ html: null, text: null }, /^html: an HTML or a text body is required/],
      [{ sendAt: -5 }, /^body\/sendAt must be >= 0/],
    ] as const) {
      const res = await edit(id, payload);
      assert.equal(res.statusCode, 400, res.body);
      assert.match(res.json().message, message);
    }
    assert.equal(store.getCampaign(id)!.subject, 'Hi {{name}}');
    assert.equal((await edit(id, { subject: 'x' }, two)).statusCode, 403);
    assert.equal((await app.inject({ method: 'POST', url: `/api/v1/campaigns/${id}/clone`, headers: as(two) })).statusCode, 403);
    assert.equal((await app.inject({ method: 'POST', url: `/api/v1/campaigns/${id}/test-send`, headers: as(two), payload: { to: ['t@edit.test'] } })).statusCode, 403);
    assert.equal((await edit(99999, { subject: 'x' })).statusCode, 404);
  });

  test('clone: a new draft with the same content and recipients, from any state', async () => {
    const id = await create();
    await act(id, 'cancel');
    const res = await app.inject({ method: 'POST', url: `/api/v1/campaigns/${id}/clone`, headers: as(one), payload: { name: 'Again' } });
    assert.equal(res.statusCode, 201, res.body);
    const c = res.json();
    assert.deepEqual([c.status, c.name, c.subject, c.ownerId], ['draft', 'Again', 'Hi {{name}}', store.userByEmail('one@x.test')!.id]);
    assert.equal(store.campaignCounters(c.id).recipients, 3);
    const unnamed = await app.inject({ method: 'POST', url: `/api/v1/campaigns/${id}/clone`, headers: as(one) });
    assert.equal(unnamed.json().name, 'Copy of C');
  });

  test('test-send goes through the engine to the given addresses only; the tested campaign is untouched', async () => {
    const id = await create();
    const bad = await app.inject({ method: 'POST', url: `/api/v1/campaigns/${id}/test-send`, headers: as(one), payload: { to: ['ok@edit.test', 'nope'] } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().message, /^body\/to\/1: /);
    const res = await app.inject({ method: 'POST', url: `/api/v1/campaigns/${id}/test-send`, headers: as(one), payload: { to: ['tester@edit.test'], attrs: { name: 'Tess' } } });
    assert.equal(res.statusCode, 202, res.body);
    const { testCampaignId } = res.json();
    const before = world.received().length;
    const engine = createEngine(config, store, pino({ level: 'silent' }));
    await engine.scheduler.run(untilQuiet(300));
    await engine.close();
    const got = world.received().slice(before);
    assert.deepEqual(got.flatMap((m) => m.rcptTo), ['tester@edit.test'], 'only the test address, not the draft\'s list');
    assert.match(got[0]!.data.toString(), /Subject: Hi Tess/);
    assert.equal(store.getCampaign(id)!.status, 'draft');
    assert.equal(store.campaignCounters(id).counts.find((c) => c.status === 'delivered'), undefined, 'not counted in the tested campaign');
    assert.equal(store.campaignCounters(testCampaignId).counts.find((c) => c.status === 'delivered')?.count, 1);
    const listed = (await app.inject({ url: '/api/v1/campaigns', headers: as(one) })).json().items.map((c: { id: number }) => c.id);
    assert.ok(!listed.includes(testCampaignId), 'test sends are not in the campaign list');
    assert.equal((await app.inject({ url: `/api/v1/campaigns/${testCampaignId}/stats`, headers: as(one) })).statusCode, 200, 'but their stats can be read');
  });
});
