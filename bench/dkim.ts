/**
 * DKIM signing cost per message: mailauth's dkimSign (parses the PEM key on every call) against
 * engine/dkim's signer (same canonicalization, key parsed once). One thread, ~10 KB multipart message.
 * `npm run bench:dkim [-- --quick]`; prints a table, writes bench/results/dkim.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { generateDkimKey, signerFromKeys } from '../engine/dkim/keys.js';
import { SIGNED_FIELDS, type DkimAlgorithm } from '../engine/dkim/sign.js';

const quick = process.argv.includes('--quick');
const N = quick ? 300 : 3000;

function sampleMessage(): Buffer {
  const para = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore. ';
  const text = Array.from({ length: 48 }, () => para).join('\r\n');
  const html = `<html><body>${Array.from({ length: 48 }, () => `<p>${para}</p>`).join('\r\n')}</body></html>`;
  return Buffer.from(
    [
      'From: News <news@sender.test>', 'To: ann@example.test', 'Subject: Weekly news', 'Date: Mon, 23 Nov 2026 03:00:00 +0000',
      'Message-ID: <1@sender.test>', 'MIME-Version: 1.0', 'Content-Type: multipart/alternative; boundary="b1"', '',
      '--b1', 'Content-Type: text/plain; charset=utf-8', '', text, '--b1', 'Content-Type: text/html; charset=utf-8', '', html, '--b1--', '',
    ].join('\r\n'),
  );
}

async function timeIt(fn: () => unknown | Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(50, N); i++) await fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await fn();
  return Number(process.hrtime.bigint() - start) / 1e6 / N;
}

async function main(): Promise<void> {
  const message = sampleMessage();
  const rows: { algorithm: DkimAlgorithm; mailauthMs: number; cachedMs: number }[] = [];
  for (const algorithm of ['rsa-sha256', 'ed25519-sha256'] as const) {
    const { privateKeyPem } = generateDkimKey(algorithm);
    const spec = { domain: 'sender.test', selector: 's1', algorithm, privateKeyPem };
    const signer = signerFromKeys([spec]);
    const options = { headerList: SIGNED_FIELDS, signatureData: [{ signingDomain: spec.domain, selector: spec.selector, privateKey: privateKeyPem, algorithm, canonicalization: 'relaxed/relaxed' }] };
    const mailauthMs = await timeIt(() => dkimSign(message, options as unknown as Parameters<typeof dkimSign>[1]));
    const cachedMs = await timeIt(() => signer.sign(message, 'sender.test'));
    rows.push({ algorithm, mailauthMs, cachedMs });
  }
  const table = rows.map((r) => ({
    algorithm: r.algorithm,
    'mailauth dkimSign ms/msg': r.mailauthMs.toFixed(3),
    'cached key ms/msg': r.cachedMs.toFixed(3),
    'signatures/s/core (cached)': Math.round(1000 / r.cachedMs),
    speedup: `${(r.mailauthMs / r.cachedMs).toFixed(2)}x`,
  }));
  console.log(`DKIM signing, ${message.length} byte message, ${N} signatures each, one thread`);
  console.table(table);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/dkim.json', JSON.stringify({ at: new Date().toISOString(), bytes: message.length, n: N, rows }, null, 2));
}

await main();
