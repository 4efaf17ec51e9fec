import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import { startWorld, type World } from '../world/world.js';
import { runCli, tempDir, writeConfig, writeCsv } from './harness.js';

/** `mxpress status` lists the egress paths a real run left in backoff. */
describe('mxpress status: egress paths in backoff', () => {
  let world: World;

  before(async () => {
    world = await startWorld({
      domains: { 'busy.test': { mx: ['mx.busy.test'] }, 'calm.test': { mx: ['mx.calm.test'] } },
      hosts: { 'mx.busy.test': '127.0.0.91', 'mx.calm.test': '127.0.0.92' },
      scripts: { 'mx.busy.test': { rcpt: (_a, { attempt }) => (attempt === 1 ? { code: 421, message: '4.7.0 rate limited, try again later' } : 'accept') } },
    });
  });

  after(async () => {
    await world.close();
  });

  test('after a throttling reply, status shows the path in backoff (text and --json); others are not listed', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, world, { sources: ['127.0.1.61'], retry: ['1h'], extraDelivery: ['[shaping.backoff]', 'duration = "10m"', 'max_message_rate = "30/min"'].join('\n') });
    const csv = writeCsv(dir, [{ email: 'a@busy.test' }, { email: 'b@calm.test' }]);
    writeFileSync(join(dir, 'body.txt'), 'hello');
    const started = Date.now();
    const sent = await runCli(['send', '--config', config, '--csv', csv, '--from', 'news@sender.test', '--subject', 'S', '--text', join(dir, 'body.txt'), '--max-wait', '0s', '--json']);
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(JSON.parse(sent.stdout).deferred.byCategory['rate-limited'], 1);

    const json = await runCli(['status', '--config', config, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout);
    assert.equal(report.backoff.length, 1, JSON.stringify(report.backoff));
    const [p] = report.backoff;
    assert.equal(p.sourceIp, '127.0.1.61');
    assert.equal(p.site, 'mx.busy.test');
    assert.equal(p.state, 'backoff');
    assert.equal(p.throttles, 1);
    assert.equal(p.messageRate, '30/min');
    assert.match(p.lastReply, /^421 4\.7\.0 rate limited/);
    assert.ok(p.backoffUntil >= started + 10 * 60_000 && p.backoffUntil <= Date.now() + 10 * 60_000, 'until = throttle time + duration');

    const text = await runCli(['status', '--config', config]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /egress paths in backoff: 1\n/);
    assert.match(text.stdout, /127\.0\.1\.61\s+mx\.busy\.test\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+1 30\/min\s+421 4\.7\.0 rate limited/);
    assert.doesNotMatch(text.stdout, /mx\.calm\.test/);

    // Once its time has passed, a backoff the engine left behind is no longer listed.
    const store = openSqliteStore(join(dir, 'queue.db'));
    store.savePathStates(store.pathStates().map((s) => ({ ...s, backoffUntil: s.backoffUntil === null ? null : Date.now() - 1 })));
    store.close();
    const later = await runCli(['status', '--config', config]);
    assert.match(later.stdout, /egress paths in backoff: none/);
  });
});
