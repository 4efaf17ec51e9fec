import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SubmissionConfigError, submissionTls } from '../../engine/submission/tls.js';

test('no certificate configured: a self-signed one for the hostname is made once, kept, and reused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mxpress-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const made = await submissionTls({ cert: null, key: null }, join(dir, 'tls'), 'mx.sender.test');
  assert.equal(made.generated, true);
  const x509 = new X509Certificate(made.cert);
  assert.match(x509.subject, /CN=mx\.sender\.test/);
  assert.equal(x509.subjectAltName, 'DNS:mx.sender.test');
  assert.ok(x509.checkPrivateKey(createPrivateKey(made.key)), 'the key is the certificate\'s');
  assert.equal(createPrivateKey(made.key).asymmetricKeyDetails?.modulusLength, 2048);
  const years = (Date.parse(x509.validTo) - Date.parse(x509.validFrom)) / (365.25 * 24 * 3600 * 1000);
  assert.ok(years > 9.9 && years < 10.1, `valid for ${years} years`);
  assert.ok(Date.parse(x509.validFrom) <= Date.now());
  assert.equal(statSync(join(dir, 'tls', 'submission.key')).mode & 0o777, 0o600);

  const again = await submissionTls({ cert: null, key: null }, join(dir, 'tls'), 'mx.sender.test');
  assert.equal(again.generated, false);
  assert.deepEqual(again.cert, made.cert);
  assert.deepEqual(again.key, made.key);
});

test('a configured certificate that cannot be read: an error naming the key', async () => {
  await assert.rejects(submissionTls({ cert: '/nonexistent/c.pem', key: '/nonexistent/k.pem' }, tmpdir(), 'h.test'), (err: Error) => {
    assert.ok(err instanceof SubmissionConfigError);
    assert.match(err.message, /^submission\.tls_(key|cert): cannot read \/nonexistent\//);
    return true;
  });
});
