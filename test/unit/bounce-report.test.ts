import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { decideInbound, type InboundAction } from '../../engine/bounce/decide.js';
import { parseInbound } from '../../engine/bounce/report.js';
import { defaultRules } from '../../engine/outcome/classify.js';

const rules = defaultRules();
const fixture = (name: string) => readFileSync(new URL(`../fixtures/bounces/${name}`, import.meta.url));

/** [fixture, the address our VERP token names, kind/format, expected action summary, verp hint] */
type Row = [file: string, email: string, kind: string, expect: string, hint: string | null];

const TABLE: Row[] = [
  ['postfix-user-unknown.eml', 'nobody@example.test', 'bounce/dsn', 'bounce hard invalid-recipient 550 5.1.1', 'bounces+2s-1f0e6c9a2b4d@bounces.sender.test'],
  ['postfix-mailbox-full.eml', 'full@example.test', 'bounce/dsn', 'bounce soft mailbox-full 552 5.2.2', 'bounces+2t-0a9b8c7d6e5f@bounces.sender.test'],
  ['postfix-delayed.eml', 'slow@example.test', 'bounce/dsn', 'ignore', null],
  ['exim-plain.eml', 'gone@exim.example.test', 'bounce/heuristic', 'bounce hard invalid-recipient 550 5.1.1', 'bounces+2v-77aa88bb99cc@bounces.sender.test'],
  ['qmail-failure-notice.eml', 'ghost@qmail.example.test', 'bounce/heuristic', 'bounce hard invalid-recipient 550 5.1.1', 'bounces+31-3c3c3c3c3c3c@bounces.sender.test'],
  ['exchange-online-ndr.eml', 'missing@contoso.test', 'bounce/dsn', 'bounce hard invalid-recipient 550 5.1.10', 'bounces+2w-0123456789ab@bounces.sender.test'],
  ['gmail-dsn.eml', 'someone.gone@gmail.test', 'bounce/dsn', 'bounce hard invalid-recipient 550 5.1.1', 'bounces+2x-a1b2c3d4e5f6@bounces.sender.test'],
  ['arf-abuse.eml', 'annoyed@isp.example.test', 'complaint', 'complaint abuse', 'bounces+2y-fedcba987654@bounces.sender.test'],
  ['out-of-office.eml', 'pat@example.test', 'auto-reply', 'ignore', null],
  ['vacation-subject-only.eml', 'sam@example.test', 'auto-reply', 'ignore', null],
];

function summary(a: InboundAction): string {
  if (a.action === 'ignore') return 'ignore';
  if (a.action === 'complaint') return `complaint ${a.feedbackType}`;
  return `bounce ${a.hard ? 'hard' : 'soft'} ${a.category} ${a.reply.code} ${a.reply.enhanced}`;
}

for (const [file, email, kind, expect, hint] of TABLE) {
  test(`${file}: ${expect}`, async () => {
    const report = await parseInbound(fixture(file));
    const got = report.kind === 'bounce' ? `bounce/${report.format}` : report.kind;
    assert.equal(got, kind);
    assert.equal(summary(decideInbound(report, email, rules)), expect);
    if (hint !== null) assert.ok('verpHints' in report && report.verpHints.includes(hint), `VERP hint ${hint} in ${JSON.stringify(report)}`);
  });
}

test('a part whose Content-Type names no type is skipped, not a crash (fast-check found "Content-Type:;message/rfc822")', async () => {
  const raw = fixture('arf-abuse.eml').toString('utf8').replace(/^Content-Type: message\/rfc822/m, 'Content-Type:;message/rfc822');
  assert.notEqual(raw, fixture('arf-abuse.eml').toString('utf8'));
  const report = await parseInbound(raw);
  assert.equal(report.kind, 'complaint');
});

test('a DSN names the failed recipient and the remote reply, unfolded', async () => {
  const report = await parseInbound(fixture('gmail-dsn.eml'));
  assert.equal(report.kind, 'bounce');
  if (report.kind !== 'bounce') return;
  assert.deepEqual(report.recipients.map((r) => [r.address, r.action, r.status]), [['someone.gone@gmail.test', 'failed', '5.1.1']]);
  const a = decideInbound(report, 'someone.gone@gmail.test', rules);
  assert.ok(a.action === 'bounce');
  assert.equal(a.reply.text.includes('550-5.1.1'), false, a.reply.text);
  assert.match(a.reply.text, /does not exist\. Please try double-checking/);
});

test('an ARF report without Original-Rcpt-To takes the recipient from the original message', async () => {
  const report = await parseInbound(fixture('arf-abuse.eml'));
  assert.equal(report.kind === 'complaint' && report.recipient, 'annoyed@isp.example.test');
});

test('a DSN for several recipients is narrowed to the one the token names', async () => {
  const two = fixture('postfix-user-unknown.eml')
    .toString()
    .replace(
      'Final-Recipient: rfc822; nobody@example.test',
      'Final-Recipient: rfc822; other@example.test\nAction: failed\nStatus: 5.2.2\nDiagnostic-Code: smtp; 552 5.2.2 full\n\nFinal-Recipient: rfc822; nobody@example.test',
    );
  const report = await parseInbound(two);
  assert.equal(summary(decideInbound(report, 'nobody@example.test', rules)), 'bounce hard invalid-recipient 550 5.1.1');
  assert.equal(summary(decideInbound(report, 'other@example.test', rules)), 'bounce soft mailbox-full 552 5.2.2');
  // An address the DSN does not name (forwarded, aliased): the first failure decides.
  assert.equal(summary(decideInbound(report, 'alias@example.test', rules)), 'bounce soft mailbox-full 552 5.2.2');
});

test('plain mail that mentions a reply code is neither a bounce nor an auto-reply', async () => {
  const raw = 'From: Alex <alex@example.test>\nTo: bounces+1-0123456789ab@bounces.sender.test\nSubject: re: your offer\n\nOur server said: 550 5.1.1 once, odd.\n';
  const report = await parseInbound(raw);
  assert.equal(report.kind, 'unrecognized');
  assert.equal(decideInbound(report, 'alex@example.test', rules).action, 'ignore');
});

test('a feedback report of type not-spam is not a complaint', async () => {
  const raw = fixture('arf-abuse.eml').toString().replace('Feedback-Type: abuse', 'Feedback-Type: not-spam');
  assert.equal((await parseInbound(raw)).kind, 'unrecognized');
});

test('a DSN with a diagnostic but no reply code is judged by its Status', async () => {
  const raw = fixture('postfix-user-unknown.eml')
    .toString()
    .replace(/Diagnostic-Code: smtp; 550 5\.1\.1 <nobody@example\.test>: Recipient address\n    rejected: User unknown in local recipient table/, 'Diagnostic-Code: X-Postfix; unknown user: "nobody"');
  const a = decideInbound(await parseInbound(raw), 'nobody@example.test', rules);
  assert.equal(summary(a), 'bounce hard invalid-recipient 550 5.1.1');
});
