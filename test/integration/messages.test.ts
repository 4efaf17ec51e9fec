import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { simpleParser } from 'mailparser';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { parseVerp } from '../../engine/bounce/verp.js';
import { dkimDnsRecord, generateDkimKey } from '../../engine/dkim/keys.js';
import { startWorld, type World } from '../world/world.js';
import { deliver, ROOT, tempDir, writeConfig, writeCsv } from './harness.js';

const run = promisify(execFile);
const PDF = Buffer.from('%PDF-1.4\n% mxpress test attachment\n');
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

/**
 * Issue #3's proof: a campaign with attachments, a UTF-8 subject and both DKIM algorithms arrives
 * parseable, and every signature verifies with mailauth and with dkimpy, keys from the world's DNS.
 */
describe('messages: MIME, headers, VERP, DKIM against real sockets', () => {
  let world: World;
  let dir: string;
  const keys = {
    r1: { algorithm: 'rsa-sha256' as const, ...generateDkimKey('rsa-sha256') },
    e1: { algorithm: 'ed25519-sha256' as const, ...generateDkimKey('ed25519-sha256') },
  };

  before(async () => {
    const txt = Object.fromEntries(
      Object.entries(keys).map(([selector, k]) => {
        const r = dkimDnsRecord('sender.test', selector, k.algorithm, k.publicKey);
        return [r.name, { records: { txt: [r.value] } }];
      }),
    );
    world = await startWorld({
      domains: { 'inbox.test': { mx: ['mx.inbox.test'] }, 'other.test': { mx: ['mx.inbox.test'] }, ...txt },
      hosts: { 'mx.inbox.test': '127.0.0.60' },
    });
    dir = tempDir();
  });
  after(() => world.close());

  test('20 recipients: parse cleanly, VERP maps back, both signatures pass mailauth and dkimpy, no header injection', async () => {
    const dkimToml = Object.entries(keys)
      .map(([selector, k]) => {
        writeFileSync(join(dir, `${selector}.pem`), k.privateKeyPem, { mode: 0o600 });
        return `[[dkim]]\ndomain = "sender.test"\nselector = "${selector}"\nalgorithm = "${k.algorithm}"\nprivate_key = "${selector}.pem"\n`;
      })
      .join('\n');
    const config = writeConfig(dir, world, { extraToml: `${dkimToml}\n[bounce]\ndomain = "bounces.sender.test"\n` });
    const rows = Array.from({ length: 20 }, (_, i) => ({ email: `user${i}@${i % 2 ? 'inbox' : 'other'}.test`, name: i === 3 ? 'Eve\r\nBcc: victim@evil.test\r\nX-Injected: yes' : `Zoë ${i}` }));
    const csv = writeCsv(dir, rows);
    const { store, count } = await deliver(config, csv, {
      subject: 'Grüße an {{name}} — Ihr Angebot ✓',
      html: '<p>Hallo {{name}}, <img src="cid:logo@sender.test"> <a href="https://shop.test/x">Angebot</a></p>',
      text: null,
      replyTo: 'Kundenservice <help@sender.test>',
      headers: { 'X-Campaign': 'winter' },
      attachments: [
        { filename: 'Preisliste.pdf', contentType: 'application/pdf', content: PDF, cid: null },
        { filename: 'logo.png', contentType: 'image/png', content: PNG, cid: 'logo@sender.test' },
      ],
    });
    assert.equal(count('delivered'), 20);
    const received = world.received();
    assert.equal(received.length, 20);

    const resolver = new Resolver();
    resolver.setServers([world.dns.server]);
    const verpKey = store.secret('verp');
    const emls: string[] = [];
    for (const [i, r] of received.entries()) {
      const id = parseVerp(r.mailFrom, { key: verpKey, domain: 'bounces.sender.test' });
      assert.ok(id !== null, `VERP envelope ${r.mailFrom}`);
      assert.deepEqual([store.getRecipient(id)?.email], r.rcptTo);

      const parsed = await simpleParser(r.data);
      const row = rows.find((x) => x.email === r.rcptTo[0])!;
      const flat = row.name.replace(/[\r\n]+/g, ' ');
      assert.equal(parsed.subject, `Grüße an ${flat} — Ihr Angebot ✓`);
      const files = parsed.attachments.map((a) => `${a.filename} ${a.contentType} ${a.content.length} ${a.cid ?? '-'}`).sort();
      assert.deepEqual(files, [`Preisliste.pdf application/pdf ${PDF.length} -`, `logo.png image/png ${PNG.length} logo@sender.test`]);
      // In the text body the value stays as given (line breaks are harmless there).
      assert.ok((parsed.text ?? '').includes(`Hallo ${row.name.replace(/\r\n/g, '\n')}, Angebot [https://shop.test/x]`), parsed.text);
      assert.equal(parsed.headers.get('x-campaign'), 'winter');
      assert.deepEqual(parsed.replyTo?.value.map((a) => a.address), ['help@sender.test']);
      assert.equal(parsed.headers.has('bcc'), false);
      assert.equal(parsed.headers.has('x-injected'), false);
      const header = r.data.toString('latin1').split('\r\n\r\n')[0]!;
      assert.doesNotMatch(header, /^(Bcc|X-Injected):/im);
      assert.ok(r.data.toString('latin1').split('\r\n').every((l) => l.length <= 998));

      const v = await dkimVerify(r.data, { resolver: (name: string, type: string) => (type === 'TXT' ? resolver.resolveTxt(name) : Promise.reject(new Error(type))) } as unknown as Parameters<typeof dkimVerify>[1]);
      assert.deepEqual(v.results.map((x) => `${x.selector}:${x.status.result}`).sort(), ['e1:pass', 'r1:pass'], `message ${i}`);
      const file = join(dir, `msg${i}.eml`);
      writeFileSync(file, r.data);
      emls.push(file);
    }
    assert.ok(received.some((r) => r.rcptTo[0] === 'user3@inbox.test'), 'the CRLF recipient was delivered');

    const [host, port] = world.dns.server.split(':');
    const { stdout } = await run('/usr/bin/python3', [join(ROOT, 'test/world/dkim_verify.py'), host!, port!, ...emls], { timeout: 60_000 });
    const results = stdout.trim().split('\n').map((l) => JSON.parse(l) as { results: { s: string; a: string; ok: boolean }[] });
    assert.equal(results.length, 20);
    for (const r of results) assert.deepEqual(r.results.map((x) => `${x.s}:${x.a}:${x.ok}`).sort(), ['e1:ed25519-sha256:true', 'r1:rsa-sha256:true']);
    store.close();
  });
});
