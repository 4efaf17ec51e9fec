import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseDkimKey } from '../../engine/dkim/keys.js';
import { runCli, tempDir } from './harness.js';

test('dkim generate: writes a 0600 key, prints the TXT record and the config entry, refuses to overwrite', async () => {
  const out = join(tempDir(), 'keys');
  for (const algorithm of ['rsa-sha256', 'ed25519-sha256'] as const) {
    const selector = algorithm === 'rsa-sha256' ? 'r1' : 'e1';
    const r = await runCli(['dkim', 'generate', '--domain', 'Sender.Test', '--selector', selector, '--algorithm', algorithm, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const file = join(out, `sender.test.${selector}.pem`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.ok(parseDkimKey(readFileSync(file, 'utf8'), algorithm).ok);
    assert.match(r.stdout, new RegExp(`${selector}\\._domainkey\\.sender\\.test\\. IN TXT \\( "v=DKIM1; k=${algorithm.split('-')[0]}; p=`));
    assert.ok(r.stdout.includes(`private_key = "${file}"`));
  }
  const again = await runCli(['dkim', 'generate', '--domain', 'sender.test', '--selector', 'r1', '--out', out]);
  assert.equal(again.code, 4);
  assert.match(again.stderr, /exists; keep it, choose another --selector, or replace it with --force/);
});

test('dkim generate: bad flags are usage errors naming the flag', async () => {
  const cases: [string[], RegExp][] = [
    [['dkim', 'generate', '--selector', 's1'], /--domain/],
    [['dkim', 'generate', '--domain', 'sender.test', '--selector', 'a b'], /--selector/],
    [['dkim', 'generate', '--domain', 'sender.test', '--selector', 's1', '--algorithm', 'rsa-sha1'], /--algorithm: must be one of/],
    [['dkim', 'generate', '--domain', 'sender.test', '--selector', 's1', '--bits', '512'], /--bits/],
    [['dkim', 'rotate'], /usage: mxpress dkim generate/],
  ];
  for (const [args, want] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, want);
  }
});
