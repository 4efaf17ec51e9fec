import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { startWorld, type World } from '../world/world.js';
import { runCli, tempDir, writeConfig } from './harness.js';

/**
 * Bad input the earlier CLI test (cli.test.ts) does not cover: each case exits with its code and a
 * message naming the file, line or flag, and leaves the database without a trace of it: no
 * campaign, no recipient, no invalid row.
 */
describe('bad input leaves nothing behind', () => {
  let world: World;

  before(async () => {
    world = await startWorld({ domains: { 'in.test': { mx: ['mx.in.test'] } }, hosts: { 'mx.in.test': '127.0.0.142' } });
  });

  after(async () => {
    await world.close();
  });

  function counts(dbPath: string): { campaigns: number; recipients: number; invalid: number } {
    const db = new Database(dbPath, { readonly: true });
    try {
      const n = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
      return { campaigns: n('campaigns'), recipients: n('recipients'), invalid: n('invalid_rows') };
    } finally {
      db.close();
    }
  }

  test('CSV, CLI flags and TOML', { timeout: 240_000 }, async () => {
    const dir = tempDir('mxpress-bad-');
    const config = writeConfig(dir, world);
    const file = (name: string, content: string | Buffer) => {
      const p = join(dir, name);
      writeFileSync(p, content);
      return p;
    };
    const html = file('b.html', '<p>{{name}}</p>');
    const good = file('good.csv', 'email,name\na@in.test,A\n');
    // 6,000 good rows, then broken quoting: the first batches are already stored when it fails.
    const lateBreak = file('late.csv', `email,name\n${Array.from({ length: 6000 }, (_, i) => `r${i}@in.test,N${i}`).join('\n')}\nx@in.test,"open\n`);
    const aDir = join(dir, 'adir.csv');
    mkdirSync(aDir);
    const send = (...extra: string[]) => ['send', '--config', config, '--from', 'news@sender.test', '--subject', 'S', '--max-wait', '1s', ...extra];
    const toml = (name: string, text: string) => file(name, text);

    const cases: { name: string; args: string[]; code: number; message: RegExp }[] = [
      { name: 'header only', args: send('--csv', file('h.csv', 'email,name\n'), '--html', html), code: 4, message: /h\.csv:2: the file has a header but no rows/ },
      { name: 'a directory', args: send('--csv', aDir, '--html', html), code: 4, message: /adir\.csv: cannot read: EISDIR/ },
      { name: 'a binary file', args: send('--csv', file('bin.csv', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 10, 0, 0, 0xff, 10])), '--html', html), code: 4, message: /bin\.csv:1: no "email" column/ },
      { name: 'broken quoting after 6,000 stored rows', args: send('--csv', lateBreak, '--html', html), code: 4, message: /late\.csv.*[Qq]uote/ },
      { name: 'empty html file with a bad tag', args: send('--csv', good, '--html', file('t.html', '{{ }}')), code: 4, message: /t\.html:1: bad merge tag/ },
      { name: 'subject with a bad tag', args: ['send', '--config', config, '--from', 'news@sender.test', '--subject', 'Hi {{name', '--csv', good, '--html', html], code: 4, message: /--subject/ },
      { name: 'missing --csv', args: ['send', '--config', config, '--from', 'a@b.test', '--subject', 'S', '--html', html], code: 2, message: /--csv is required/ },
      { name: 'start with a positional argument', args: ['start', 'now', '--config', config], code: 2, message: /Unexpected argument 'now'/ },
      { name: 'status with an unknown flag', args: ['status', '--config', config, '--verbose'], code: 2, message: /--verbose/ },
      { name: 'drain_timeout zero', args: ['start', '--config', toml('z.toml', '[shutdown]\ndrain_timeout = "0s"\n')], code: 3, message: /z\.toml:2: shutdown\.drain_timeout: "0s" must be longer than zero/ },
      { name: 'drain_timeout a bare number', args: ['start', '--config', toml('n.toml', '[shutdown]\ndrain_timeout = 30\n')], code: 3, message: /n\.toml:2: shutdown\.drain_timeout: must be a duration string/ },
      { name: 'unknown key in [shutdown]', args: ['start', '--config', toml('u.toml', '[shutdown]\ntimeout = "5s"\n')], code: 3, message: /u\.toml:2: shutdown\.timeout: unknown key/ },
      { name: 'a key given twice', args: ['start', '--config', toml('d.toml', '[delivery]\nport = 25\nport = 26\n')], code: 3, message: /d\.toml:3: TOML syntax error/ },
      { name: 'TOML that is not TOML', args: ['start', '--config', toml('j.toml', '{"delivery": {"port": 25}}\n')], code: 3, message: /j\.toml:1: TOML syntax error/ },
    ];
    for (const c of cases) {
      const res = await runCli(c.args);
      assert.equal(res.code, c.code, `${c.name}: ${res.stderr}`);
      assert.match(res.stderr, c.message, c.name);
      assert.doesNotMatch(res.stderr, /internal error/, c.name);
    }
    assert.deepEqual(counts(join(dir, 'queue.db')), { campaigns: 0, recipients: 0, invalid: 0 }, 'nothing half-stored');
  });
});
