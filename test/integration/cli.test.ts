import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import { makeDomains, startWorld, type World } from '../world/world.js';
import { runCli, SOURCES, startCli, tempDir, writeConfig, writeCsv } from './harness.js';

const N = 1000;

describe('mxpress CLI', () => {
  let world: World;
  let domains: string[];

  before(async () => {
    const spec = makeDomains(10, 4);
    domains = Object.keys(spec.domains);
    world = await startWorld(spec);
  });

  after(async () => {
    await world.close();
  });

  function recipients(prefix: string, n: number) {
    return Array.from({ length: n }, (_, i) => ({ email: `${prefix}${i}@${domains[i % domains.length]}`, name: `Name${i}` }));
  }

  function receivedCounts(prefix: string): Map<string, number> {
    const counts = new Map<string, number>();
    for (const m of world.received()) for (const r of m.rcptTo) if (r.startsWith(prefix)) counts.set(r, (counts.get(r) ?? 0) + 1);
    return counts;
  }

  test('send delivers 1,000 recipients over 10 domains from 3 sources, exactly once each', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, world);
    const rows = recipients('once', N);
    const csv = writeCsv(dir, rows);
    writeFileSync(join(dir, 'body.html'), '<p>Dear {{name}},</p><p>news</p>');
    const res = await runCli(['send', '--config', config, '--csv', csv, '--from', 'News <news@sender.test>', '--subject', 'Hello {{name}}', '--html', join(dir, 'body.html'), '--json']);
    assert.equal(res.code, 0, res.stderr);
    const summary = JSON.parse(res.stdout);
    assert.equal(summary.recipients, N);
    assert.equal(summary.delivered, N);
    assert.equal(summary.deferred.count + summary.bounced.count + summary.expired.count + summary.invalid.count, 0);

    const counts = receivedCounts('once');
    assert.equal(counts.size, N, 'every recipient received');
    assert.ok([...counts.values()].every((c) => c === 1), 'no recipient received twice');
    const mine = world.received().filter((m) => m.rcptTo[0]!.startsWith('once'));
    const seenSources = new Set(mine.map((m) => m.remoteAddress));
    assert.deepEqual([...seenSources].sort(), SOURCES, 'all three sources used, nothing else');
    for (const m of mine) {
      const i = Number(/^once(\d+)@/.exec(m.rcptTo[0]!)![1]);
      assert.match(m.data.toString(), new RegExp(`Subject: Hello Name${i}\\r\\n`));
      assert.match(m.data.toString(), new RegExp(`Dear Name${i},`));
    }
    assert.equal(summary.delivered, mine.length, 'the summary matches what the sinks received');
  });

  test('kill -9 of send midway, then start: nothing lost, duplicates counted', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, world);
    const csv = writeCsv(dir, recipients('crash', N));
    const send = startCli(['send', '--config', config, '--csv', csv, '--from', 'news@sender.test', '--subject', 'Crash {{name}}', '--text', csv]);
    const deadline = Date.now() + 30_000;
    while (receivedCounts('crash').size < N / 4 && Date.now() < deadline) await sleep(5);
    send.child.kill('SIGKILL');
    const killed = await send.done;
    assert.equal(killed.signal, 'SIGKILL');
    const beforeRestart = receivedCounts('crash').size;
    assert.ok(beforeRestart < N, `killed midway (${beforeRestart} of ${N} received)`);

    const daemon = startCli(['start', '--config', config]);
    while (receivedCounts('crash').size < N && Date.now() < deadline + 30_000) await sleep(20);
    daemon.child.kill('SIGTERM');
    const stopped = await daemon.done;
    assert.equal(stopped.code, 0, stopped.stderr);

    const counts = receivedCounts('crash');
    const duplicates = [...counts.values()].reduce((n, c) => n + c - 1, 0);
    assert.equal(counts.size, N, 'every recipient received at least once');
    const store = openSqliteStore(join(dir, 'queue.db'));
    const status = store.queueStatus(Date.now());
    store.close();
    assert.equal(status.byStatus.delivered, N);
    assert.equal(status.inFlight, 0);
    // docs/guarantees.md bounds duplicates by what was in flight at the kill.
    assert.ok(duplicates <= 5000, `duplicates ${duplicates}`);
    console.log(`# kill -9 after ${beforeRestart} received: lost 0, duplicates ${duplicates}`);
  });

  test('bad input: exit code, the file/line/field named, nothing stored', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, world);
    const html = join(dir, 'b.html');
    writeFileSync(html, '<p>{{name}}</p>');
    const good = writeCsv(dir, recipients('bad', 3));
    const badCsv = join(dir, 'broken.csv');
    writeFileSync(badCsv, 'email,name\na@d0.test,"unterminated\n');
    const noEmail = join(dir, 'noemail.csv');
    writeFileSync(noEmail, 'mail,name\na@d0.test,x\n');
    const badTemplate = join(dir, 't.html');
    writeFileSync(badTemplate, '<p>\n{{name</p>');
    const badConfig = join(dir, 'bad.toml');
    writeFileSync(badConfig, '[delivery]\nport = 70000\n');
    const send = (...extra: string[]) => ['send', '--config', config, '--from', 'news@sender.test', '--subject', 'S', ...extra];
    const cases: [string[], number, RegExp][] = [
      [send('--csv', badCsv, '--html', html), 4, /broken\.csv.*(quote|Quote)/],
      [send('--csv', noEmail, '--html', html), 4, /noemail\.csv:1: no "email" column/],
      [send('--csv', join(dir, 'nope.csv'), '--html', html), 4, /nope\.csv: cannot read: ENOENT/],
      [send('--csv', good, '--html', badTemplate), 4, /t\.html:2: unclosed/],
      [send('--csv', good, '--html', html, '--pool', 'nosuch'), 4, /--pool: no pool "nosuch"/],
      [['send', '--config', config, '--csv', good, '--from', 'not an address', '--subject', 'S', '--html', html], 4, /--from/],
      [send('--csv', good), 2, /--html FILE/],
      [send('--csv', good, '--html', html, '--max-wait', 'soon'), 2, /--max-wait/],
      [send('--csv', good, '--html', html, '--bogus'), 2, /bogus/],
      [['send', '--config', badConfig, '--csv', good, '--from', 'a@b.test', '--subject', 'S', '--html', html], 3, /bad\.toml:2: delivery\.port/],
      [['send', '--config', join(dir, 'missing.toml'), '--csv', good, '--from', 'a@b.test', '--subject', 'S', '--html', html], 3, /missing\.toml/],
      [['frobnicate'], 2, /unknown command/],
    ];
    for (const [args, code, message] of cases) {
      const res = await runCli(args);
      assert.equal(res.code, code, `${args.join(' ')}\n${res.stderr}`);
      assert.match(res.stderr, message, args.join(' '));
    }
    const store = openSqliteStore(join(dir, 'queue.db'));
    const status = store.queueStatus(Date.now());
    store.close();
    assert.equal(Object.values(status.byStatus).reduce((a, b) => a + b, 0), 0, 'no recipient half-stored');
  });

  test('status reports the queue by state and domain', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, world);
    const csv = writeCsv(dir, [...recipients('st', 5), { email: 'broken', name: 'x' }]);
    const sent = await runCli(['send', '--config', config, '--csv', csv, '--from', 'news@sender.test', '--subject', 'S', '--text', csv, '--json']);
    assert.equal(sent.code, 0, sent.stderr);
    assert.deepEqual(JSON.parse(sent.stdout).invalid.rows, [{ line: 7, value: 'broken', reason: 'missing local part or domain' }]);
    const res = await runCli(['status', '--config', config, '--json']);
    assert.equal(res.code, 0, res.stderr);
    const status = JSON.parse(res.stdout);
    assert.equal(status.byStatus.delivered, 5);
    assert.equal(status.byDomain.reduce((n: number, d: { delivered: number }) => n + d.delivered, 0), 5);
    const text = await runCli(['status', '--config', config]);
    assert.match(text.stdout, /delivered\s+5/);
  });
});
