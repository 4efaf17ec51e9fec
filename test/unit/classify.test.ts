import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classify, defaultRules, loadRules, NO_RULE_MATCHED, RulesError } from '../../engine/outcome/classify.js';
import { parseReply } from '../../engine/outcome/reply.js';
import type { AttemptResult, Category, FailureKind, SmtpStage, Verdict } from '../../engine/outcome/types.js';

const rules = defaultRules();

const reply = (stage: SmtpStage, ...lines: string[]): AttemptResult => parseReply(lines.join('\r\n'), stage);
const failure = (kind: FailureKind, dnsCode?: string): AttemptResult => {
  const f: AttemptResult = { kind: 'failure', failure: kind, message: `${kind} ${dnsCode ?? ''}`.trim() };
  if (dnsCode !== undefined) f.dnsCode = dnsCode;
  return f;
};

/** [what, input, "outcome category", deciding rule, retryAfterMs when the verdict carries one] */
type Row = [label: string, input: AttemptResult, expect: string, rule: string, retryAfterMs?: number];

const TABLE: Row[] = [
  // ---- success
  ['gmail accepted', reply('message', '250 2.0.0 OK  1700000000 a1si1234567qkb.12 - gsmtp'), 'delivered', 'delivered'],
  ['postfix queued', reply('message', '250 2.0.0 Ok: queued as 4F1AB2C3D4'), 'delivered', 'delivered'],
  ['exim accepted', reply('message', '250 OK id=1rAbCd-0001Xy-2Z'), 'delivered', 'delivered'],
  ['outlook queued', reply('message', '250 2.6.0 <a1@mx.test> [InternalId=123, Hostname=BN8PR.prod.outlook.com] Queued mail for delivery'), 'delivered', 'delivered'],
  ['2xx before the message was sent', reply('rcpt', '250 2.1.5 Ok'), 'deferred protocol', 'success-before-message'],

  // ---- failures without a reply
  ['NXDOMAIN', failure('dns', 'ENOTFOUND'), 'bounced bad-domain', 'dns-no-such-domain'],
  ['no MX and no address', failure('dns', 'ENODATA'), 'bounced bad-domain', 'dns-no-such-domain'],
  ['null MX', failure('dns', 'NULLMX'), 'bounced bad-domain', 'dns-null-mx'],
  ['SERVFAIL', failure('dns', 'ESERVFAIL'), 'deferred dns', 'dns-temporary'],
  ['resolver timeout', failure('dns', 'ETIMEOUT'), 'deferred dns', 'dns-temporary'],
  ['resolver refused', failure('dns', 'ECONNREFUSED'), 'deferred dns', 'dns-temporary'],
  ['MX hosts without addresses', failure('dns', 'ENOADDR'), 'deferred dns', 'dns-temporary'],
  ['dns failure without a code', failure('dns'), 'deferred dns', 'dns-temporary'],
  ['connection reset', failure('network'), 'deferred network', 'network-failure'],
  ['timeout', failure('timeout'), 'deferred network', 'network-timeout'],
  ['tls handshake', failure('tls'), 'deferred tls', 'tls-failure'],
  ['protocol', failure('protocol'), 'deferred protocol', 'protocol-failure'],
  ['http server on port 25', reply('connect', 'HTTP/1.1 400 Bad Request'), 'deferred protocol', 'not-smtp'],
  ['empty reply', reply('rcpt', ''), 'deferred protocol', 'not-smtp'],
  ['garbage that mentions a 5xx', reply('rcpt', 'oops 550 5.1.1 user unknown'), 'deferred protocol', 'not-smtp'],
  ['6xx is not SMTP', reply('rcpt', '600 out of range'), 'deferred protocol', 'not-smtp'],
  ['starttls refused', reply('starttls', '454 4.7.0 TLS not available due to local problem'), 'deferred tls', 'starttls-refused'],
  ['starttls not implemented', reply('starttls', '502 5.5.1 Error: command not implemented'), 'deferred tls', 'starttls-refused'],

  // ---- 4xx
  ['yahoo TSS09', reply('connect', '421 4.7.0 [TSS09] All messages from 192.0.2.7 will be permanently deferred; Retrying will NOT succeed. See https://postmaster.yahooinc.com/error-codes'), 'deferred spam-block', 'temporary-block-yahoo'],
  ['gmail 4.7.28', reply('rcpt',
    '421-4.7.28 [192.0.2.7      15] Our system has detected an unusual rate of',
    '421-4.7.28 unsolicited mail originating from your IP address. To protect our',
    '421 4.7.28 users from spam, mail sent from your IP address has been rate limited. - gsmtp'), 'deferred rate-limited', 'rate-limited-by-code'],
  ['postfix too many recipients', reply('rcpt', '452 4.5.3 Error: too many recipients'), 'deferred rate-limited', 'rate-limited-by-code'],
  ['outlook server busy', reply('rcpt', '451 4.7.500 Server busy. Please try again later from [192.0.2.7]. (S77714) [DM6NAM12FT034.eop-nam12.prod.protection.outlook.com]'), 'deferred rate-limited', 'rate-limited-by-code'],
  ['outlook ip reputation', reply('mail', '421 4.7.650 The mail server [192.0.2.7] has been temporarily rate limited due to IP reputation.'), 'deferred rate-limited', 'rate-limited-by-code'],
  ['yahoo TSS04', reply('mail', '421 4.7.0 [TSS04] Messages from 192.0.2.7 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes'), 'deferred rate-limited', 'rate-limited-by-text'],
  ['postfix too many connections', reply('connect', '421 4.7.0 mx.example.test Error: too many connections from 192.0.2.7'), 'deferred rate-limited', 'rate-limited-by-text'],
  ['exim ratelimit', reply('rcpt', '451-The server has reached its limit for processing requests from your host.', '451 Please try again later.'), 'deferred rate-limited', 'rate-limited-by-text'],
  ['exim concurrency', reply('connect', '421 Too many concurrent SMTP connections; please try again later.'), 'deferred rate-limited', 'rate-limited-by-text'],
  ['gmail recipient rate', reply('rcpt',
    '450-4.2.1 The user you are trying to contact is receiving mail at a rate that',
    '450-4.2.1 prevents additional messages from being delivered. Please resend your',
    '450 4.2.1 message at a later point. - gsmtp'), 'deferred rate-limited', 'rate-limited-by-text'],
  ['gmail unauthenticated rate limit', reply('rcpt', '421-4.7.26 This mail has been rate limited because it is unauthenticated.', '421 4.7.26 Gmail requires all senders to authenticate with either SPF or DKIM. - gsmtp'), 'deferred rate-limited', 'rate-limited-by-text'],
  ['rate limit with hint', reply('mail', '421 4.7.0 Rate limit exceeded, retry in 5 minutes'), 'deferred rate-limited', 'rate-limited-by-text', 300_000],
  ['postgrey', reply('rcpt', '450 4.2.0 <a@example.test>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.test.html'), 'deferred greylisted', 'greylisted-by-text'],
  ['greylisted for 5 minutes', reply('rcpt', '451 4.7.1 <a@example.test>: Recipient address rejected: Greylisted for 5 minutes'), 'deferred greylisted', 'greylisted-by-text', 300_000],
  ['milter-greylist', reply('rcpt', '451 4.7.1 Greylisting in action, please come back in 00:05:00'), 'deferred greylisted', 'greylisted-by-text', 300_000],
  ['exim greylist hint', reply('rcpt', '451 Greylisted, please try again in 300 seconds'), 'deferred greylisted', 'greylisted-by-text', 300_000],
  ['temporary spamhaus', reply('connect', '450 4.7.1 Client host [192.0.2.7] blocked using zen.spamhaus.org'), 'deferred spam-block', 'temporary-spam-block'],
  ['temporary barracuda', reply('rcpt', '451 4.7.1 Service unavailable; Client host [192.0.2.7] listed by b.barracudacentral.org'), 'deferred spam-block', 'temporary-spam-block'],
  ['rspamd greylist wording', reply('data', '451 4.7.1 Try again later'), 'deferred greylisted', 'greylisted-by-wording'],
  ['sqlgrey wording', reply('rcpt', '450 4.7.1 Temporarily rejected, come back later'), 'deferred greylisted', 'greylisted-by-wording'],
  ['gmail over quota temp', reply('rcpt',
    '452-4.2.2 The email account that you tried to reach is over quota. Please direct',
    '452 4.2.2 the recipient to https://support.google.com/mail/?p=OverQuotaTemp - gsmtp'), 'deferred mailbox-full', 'mailbox-full-temporary'],
  ['exim mailbox full temp', reply('rcpt', '452 <a@example.test> Mailbox is full'), 'deferred mailbox-full', 'mailbox-full-temporary-by-text'],
  ['dmarc temp error', reply('message', '451 4.7.26 Message rejected: DMARC record lookup failed temporarily'), 'deferred policy', 'temporary-auth-policy'],
  ['postfix queue file error', reply('message', '451 4.3.0 Error: queue file write error'), 'deferred other', 'temporary-other'],
  ['insufficient system storage', reply('mail', '452 4.3.1 Insufficient system storage'), 'deferred other', 'temporary-other'],
  ['4xx user unknown is never a bounce', reply('rcpt', '450 4.1.1 <a@example.test>: Recipient address rejected: User unknown in local recipient table'), 'deferred other', 'temporary-other'],
  ['4xx domain not found', reply('rcpt', '450 4.1.2 <a@nx.example.test>: Recipient address rejected: Domain not found'), 'deferred other', 'temporary-other'],
  ['exim local problem', reply('rcpt', '451 Temporary local problem - please try later'), 'deferred other', 'temporary-other'],
  ['closing channel', reply('connect', '421 4.3.2 Service not available, closing transmission channel'), 'deferred other', 'temporary-other'],
  ['4xx with later hint', reply('mail', '451 4.3.0 Temporary failure, try again in 2 hours'), 'deferred other', 'temporary-other', 7_200_000],

  // ---- 5xx that are really temporary
  ['5xx with 4.x.x enhanced', reply('rcpt', '550 4.2.2 Mailbox temporarily over quota'), 'deferred other', 'permanent-code-temporary-enhanced'],
  ['5xx message expired 4.4.7', reply('message', '554 4.4.7 Message expired: unable to deliver in 840 minutes'), 'deferred other', 'permanent-code-temporary-enhanced'],
  ['5xx temporary, no enhanced', reply('message', '554 Transaction failed: temporary error, please try again later'), 'deferred other', 'permanent-code-temporary-text'],
  ['5xx temporary, 5.0.0', reply('rcpt', '550 5.0.0 Temporarily unable to process, try again in 10 minutes'), 'deferred other', 'permanent-code-temporary-text', 600_000],

  // ---- 5xx
  ['postfix sender domain', reply('mail', '553 5.1.8 <bounce@ours.test>: Sender address rejected: Domain not found'), 'bounced policy', 'sender-rejected'],
  ['sender syntax', reply('mail', '550 5.1.7 Invalid sender address syntax'), 'bounced policy', 'sender-rejected'],
  ['recipient null MX', reply('rcpt', '556 5.1.10 <a@nomail.test>: Recipient address rejected: Domain nomail.test does not accept mail (nullMX)'), 'bounced bad-domain', 'recipient-null-mx'],
  ['gmail no such user', reply('rcpt',
    '550-5.1.1 The email account that you tried to reach does not exist. Please try',
    '550-5.1.1 double-checking the recipient\'s email address for typos or',
    '550-5.1.1 unnecessary spaces. For more information, go to',
    '550 5.1.1  https://support.google.com/mail/?p=NoSuchUser a1si123 - gsmtp'), 'bounced invalid-recipient', 'invalid-recipient-by-code'],
  ['outlook recipient not found', reply('rcpt', '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient a@example.test not found by SMTP address lookup'), 'bounced invalid-recipient', 'invalid-recipient-by-code'],
  ['postfix virtual unknown', reply('rcpt', '550 5.1.1 <a@example.test>: Recipient address rejected: User unknown in virtual mailbox table'), 'bounced invalid-recipient', 'invalid-recipient-by-code'],
  ['gmail disabled account', reply('rcpt', '550 5.2.1 The email account that you tried to reach is disabled. - gsmtp'), 'bounced invalid-recipient', 'invalid-recipient-by-code'],
  ['user unknown after data', reply('message', '550 5.1.1 <a@example.test>... User unknown'), 'bounced invalid-recipient', 'invalid-recipient-by-code'],
  ['outlook DBEB', reply('rcpt', '550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [BN8NAM11FT066.eop-nam11.prod.protection.outlook.com]'), 'bounced invalid-recipient', 'invalid-recipient-microsoft-dbeb'],
  ['postfix domain not found', reply('rcpt', '550 5.1.2 <a@nx.example.test>: Recipient address rejected: Domain not found'), 'bounced bad-domain', 'bad-domain-by-code'],
  ['unable to route', reply('rcpt', '554 5.4.4 Unable to route to the recipient domain'), 'bounced bad-domain', 'bad-domain-by-code'],
  ['gmail over quota and inactive', reply('rcpt', '552-5.2.2 The email account that you tried to reach is over quota and inactive.', '552 5.2.2 https://support.google.com/mail/?p=OverQuotaPerm - gsmtp'), 'bounced mailbox-full', 'mailbox-full'],
  ['gmail size limit', reply('message', '552-5.3.4 Your message exceeded Google\'s message size limits. Please visit', '552 5.3.4 https://support.google.com/mail/?p=MaxSizeError - gsmtp'), 'bounced message-too-large', 'message-too-large'],
  ['postfix size limit', reply('message', '552 5.3.4 Message size exceeds fixed limit'), 'bounced message-too-large', 'message-too-large'],
  ['size limit 5.2.3', reply('data', '552 5.2.3 Message length exceeds administrative limit'), 'bounced message-too-large', 'message-too-large'],
  ['gmail unauthenticated', reply('message',
    '550-5.7.26 This mail has been blocked because the sender is unauthenticated.',
    '550-5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM.',
    '550 5.7.26 https://support.google.com/mail/answer/81126#authentication - gsmtp'), 'bounced policy', 'auth-policy-by-code'],
  ['gmail no PTR', reply('message', '550-5.7.25 [192.0.2.7] The IP address sending this message does not have a', '550 5.7.25 PTR record setup, or the corresponding forward DNS entry does not point to the sending IP.'), 'bounced policy', 'auth-policy-by-code'],
  ['sender null MX', reply('mail', '550 5.7.27 Sender address has null MX'), 'bounced policy', 'auth-policy-by-code'],
  ['outlook auth level', reply('message', '550 5.7.515 Access denied, sending domain example.test doesn\'t meet the required authentication level.'), 'bounced policy', 'auth-policy-by-text'],
  ['dmarc reject', reply('message', '550 5.7.1 Email rejected per DMARC policy for example.test'), 'bounced policy', 'auth-policy-by-text'],
  ['postfix spamhaus', reply('rcpt', '554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.7'), 'bounced spam-block', 'spam-block'],
  ['outlook S3150', reply('mail', '550 5.7.1 Unfortunately, messages from [192.0.2.7] weren\'t sent. Please contact your Internet service provider since part of their network is on our block list (S3150).'), 'bounced spam-block', 'spam-block'],
  ['gmail unsolicited', reply('message',
    '550-5.7.1 [192.0.2.7] Our system has detected that this message is likely',
    '550-5.7.1 unsolicited mail. To reduce the amount of spam sent to Gmail, this',
    '550 5.7.1 message has been blocked. - gsmtp'), 'bounced spam-block', 'spam-block'],
  ['outlook banned ip', reply('connect', '550 5.7.606 Access denied, banned sending IP [192.0.2.7]. To request removal from this list please visit https://sender.office.com/'), 'bounced spam-block', 'spam-block'],
  ['cpanel spamcop', reply('rcpt', '550 Rejected: 192.0.2.7 is listed at bl.spamcop.net'), 'bounced spam-block', 'spam-block'],
  ['spam with boilerplate retry wording', reply('message', '550 5.7.1 Message rejected as spam, try again later'), 'bounced spam-block', 'spam-block'],
  ['rfc standard text with reason', reply('rcpt', '550 Requested action not taken: mailbox unavailable (blocked)'), 'bounced spam-block', 'spam-block'],
  ['exim no such user', reply('rcpt', '550 No Such User Here'), 'bounced invalid-recipient', 'invalid-recipient-by-text'],
  ['yahoo no account', reply('rcpt', '554 delivery error: dd This user doesn\'t have a yahoo.com account (a@yahoo.com) [0] - mta1234.mail.ne1.yahoo.com'), 'bounced invalid-recipient', 'invalid-recipient-by-text'],
  ['exim unrouteable', reply('rcpt', '550 Unrouteable address'), 'bounced invalid-recipient', 'invalid-recipient-by-text'],
  ['rfc mailbox unavailable', reply('rcpt', '550 Requested action not taken: mailbox unavailable'), 'bounced invalid-recipient', 'invalid-recipient-by-text'],
  ['sendmail user unknown', reply('rcpt', '550 <a@example.test>... User unknown'), 'bounced invalid-recipient', 'invalid-recipient-by-text'],
  ['domain not found text', reply('rcpt', '550 <a@nx.example.test>: domain not found'), 'bounced bad-domain', 'bad-domain-by-text'],
  ['no such domain text', reply('rcpt', '554 No such domain at this location'), 'bounced bad-domain', 'bad-domain-by-text'],
  ['yahoo size', reply('message', '554 30 Sorry, your message size exceeds 41943040 bytes.'), 'bounced message-too-large', 'message-too-large-by-text'],
  ['exim size', reply('message', '552 Message size exceeds maximum permitted'), 'bounced message-too-large', 'message-too-large-by-text'],
  ['mailbox full text', reply('rcpt', '552 <a@example.test>: mailbox is full'), 'bounced mailbox-full', 'mailbox-full-by-text'],
  ['over quota text', reply('message', '550 Mailbox over quota'), 'bounced mailbox-full', 'mailbox-full-by-text'],
  ['yahoo policy', reply('message', '554 5.7.9 Message not accepted for policy reasons.  See https://postmaster.yahooinc.com/error-codes'), 'bounced policy', 'policy-by-code'],
  ['relay denied', reply('rcpt', '554 5.7.1 <a@example.test>: Relay access denied'), 'bounced policy', 'policy-by-code'],
  ['starttls required', reply('mail', '530 5.7.0 Must issue a STARTTLS command first'), 'bounced policy', 'policy-by-code'],
  ['exim prohibition', reply('rcpt', '550 Administrative prohibition'), 'bounced other', 'permanent-other'],
  ['5xx greeting', reply('connect', '554 mx.example.test ESMTP not accepting messages'), 'bounced other', 'permanent-other'],
  ['5xx user-unknown wording at MAIL', reply('mail', '550 User unknown'), 'bounced other', 'permanent-other'],
  ['unexpected 354', reply('data', '354 End data with <CR><LF>.<CR><LF>'), 'deferred other', 'unexpected'],
  ['1xx', reply('rcpt', '199 what'), 'deferred other', 'unexpected'],
  ['hand-built odd code', { kind: 'reply', stage: 'message', code: 7, text: 'ok' }, 'deferred other', 'unexpected'],
];

test('classifies real-world replies and failures', () => {
  for (const [label, input, expect, rule, retryAfterMs] of TABLE) {
    assert.deepEqual(classify(input, rules), verdict(expect, rule, retryAfterMs), label);
  }
});

test('every rule in rules.toml is exercised by the table', () => {
  const exercised = new Set(TABLE.map((row) => row[3]));
  const untested = rules.map((r) => r.name).filter((name) => !exercised.has(name));
  assert.deepEqual(untested, [], `rules without a test case: ${untested.join(', ')}`);
  const unknown = [...exercised].filter((name) => !rules.some((r) => r.name === name));
  assert.deepEqual(unknown, [], 'table rows name rules that do not exist');
});

test('a 4xx is never a bounce and only a 2xx at the message stage is delivered', () => {
  const texts = [...new Set(TABLE.flatMap(([, input]) => (input.kind === 'reply' ? [input.text] : [])))];
  const stages: SmtpStage[] = ['connect', 'ehlo', 'starttls', 'mail', 'rcpt', 'data', 'message'];
  const enhanced = [undefined, '5.1.1', '5.7.1', '4.7.1', '2.0.0'];
  // Every code parseReply can produce: 0 for non-SMTP input, else 100..599.
  for (const code of [0, ...Array.from({ length: 500 }, (_, i) => 100 + i)]) {
    for (const stage of stages) {
      for (const text of texts) {
        for (const e of enhanced) {
          const input: AttemptResult = { kind: 'reply', stage, code, text };
          if (e !== undefined) input.enhanced = e;
          const v = classify(input, rules);
          if (code < 500) assert.notEqual(v.outcome, 'bounced', `${code} ${e ?? ''} ${text}`);
          if (v.outcome === 'delivered') assert.ok(code >= 200 && code < 300 && stage === 'message', `${stage} ${code}`);
        }
      }
    }
  }
});

test('retry hints ride only on deferrals from replies', () => {
  const hinted = 'try again in 300 seconds';
  assert.equal(retryAfter(classify(reply('rcpt', `451 4.3.0 ${hinted}`), rules)), 300_000);
  assert.equal(retryAfter(classify(reply('rcpt', `451 4.3.0 try again in 30 hours`), rules)), undefined);
  assert.deepEqual(classify(reply('rcpt', `550 5.1.1 no such user, ${hinted}`), rules), verdict('bounced invalid-recipient', 'invalid-recipient-by-code'));
  const f: AttemptResult = { kind: 'failure', failure: 'network', message: hinted };
  assert.deepEqual(classify(f, rules), verdict('deferred network', 'network-failure'));
});

test('the first matching rule wins, and no match defers rather than bounces', () => {
  const custom = loadRules(`
    [[rule]]
    name = "first"
    code = "^55"
    outcome = "bounced"
    category = "policy"

    [[rule]]
    name = "second"
    code = "^550$"
    outcome = "bounced"
    category = "other"
  `);
  assert.deepEqual(classify(reply('rcpt', '550 no'), custom), verdict('bounced policy', 'first'));
  assert.deepEqual(classify(reply('rcpt', '451 later'), custom), verdict('deferred other', NO_RULE_MATCHED));
  assert.deepEqual(classify(failure('dns', 'ENOTFOUND'), custom), verdict('deferred other', NO_RULE_MATCHED));
});

test('an absent enhanced code or dns code is matched as the empty string', () => {
  const custom = loadRules(`
    [[rule]]
    name = "no-enhanced"
    code = "^5"
    enhanced = "^$"
    outcome = "bounced"
    category = "other"

    [[rule]]
    name = "no-dns-code"
    failure = "dns"
    dns_code = "^$"
    outcome = "deferred"
    category = "dns"
  `);
  assert.equal(classify(reply('rcpt', '550 nope'), custom).rule, 'no-enhanced');
  assert.equal(classify(reply('rcpt', '550 5.1.1 nope'), custom).rule, NO_RULE_MATCHED);
  assert.equal(classify(failure('dns'), custom).rule, 'no-dns-code');
  assert.equal(classify(failure('dns', 'ESERVFAIL'), custom).rule, NO_RULE_MATCHED);
});

test('loadRules compiles regexes once, text case-insensitively; defaultRules shares nothing', () => {
  const [rule] = loadRules('[[rule]]\nname = "x"\ntext = "user unknown"\noutcome = "deferred"\ncategory = "other"\n');
  assert.ok(rule?.text instanceof RegExp && rule.text.flags === 'i');
  assert.ok(rule.text.test('USER UNKNOWN'));
  const a = defaultRules();
  const b = defaultRules();
  assert.notEqual(a, b);
  assert.notEqual(a[0], b[0]);
  assert.equal(a.length, b.length);
});

test('bad rules files fail with RULES_INVALID naming the rule and the field', () => {
  const ok = 'outcome = "deferred"\ncategory = "other"';
  const cases: [label: string, toml: string, index: number | undefined, name: string | undefined, field: string | undefined, message: RegExp][] = [
    ['bad text regex', `[[rule]]\nname = "a"\ntext = "(unclosed"\n${ok}`, 0, 'a', 'text', /rule\[0\] "a": text: bad regular expression/],
    ['bad code regex', `[[rule]]\nname = "a"\n${ok}\n[[rule]]\nname = "b"\ncode = "[4"\n${ok}`, 1, 'b', 'code', /rule\[1\] "b": code:/],
    ['bad enhanced regex', `[[rule]]\nname = "a"\nenhanced = "*"\n${ok}`, 0, 'a', 'enhanced', /enhanced: bad regular expression/],
    ['bad dns_code regex', `[[rule]]\nname = "a"\nfailure = "dns"\ndns_code = "+"\n${ok}`, 0, 'a', 'dns_code', /dns_code: bad regular expression/],
    ['regex not a string', `[[rule]]\nname = "a"\ncode = 550\n${ok}`, 0, 'a', 'code', /code: a regular expression/],
    ['unknown outcome', `[[rule]]\nname = "a"\noutcome = "rejected"\ncategory = "other"`, 0, 'a', 'outcome', /outcome: required, one of delivered, deferred, bounced/],
    ['missing outcome', `[[rule]]\nname = "a"\ncategory = "other"`, 0, 'a', 'outcome', /outcome/],
    ['unknown category', `[[rule]]\nname = "a"\noutcome = "deferred"\ncategory = "spam"`, 0, 'a', 'category', /category: required, one of/],
    ['missing category', `[[rule]]\nname = "a"\noutcome = "deferred"`, 0, 'a', 'category', /category/],
    ['delivered matching a stray 2', `[[rule]]\nname = "a"\ncode = "^2"\noutcome = "delivered"`, 0, 'a', 'code', /must match only 2xx replies \(matches 2\)/],
    ['category on delivered', `[[rule]]\nname = "a"\ncode = "^2"\noutcome = "delivered"\ncategory = "other"`, 0, 'a', 'category', /not used with outcome "delivered"/],
    ['unknown key', `[[rule]]\nname = "a"\ncodes = "^5"\n${ok}`, 0, 'a', 'codes', /rule\[0\] "a": codes: unknown field/],
    ['duplicate name', `[[rule]]\nname = "a"\n${ok}\n[[rule]]\nname = "b"\n${ok}\n[[rule]]\nname = "a"\n${ok}`, 2, 'a', 'name', /rule\[2\] "a": name: used by an earlier rule/],
    ['name not kebab-case', `[[rule]]\nname = "Bad_Name"\n${ok}`, 0, 'Bad_Name', 'name', /kebab-case/],
    ['missing name', `[[rule]]\n${ok}`, 0, undefined, 'name', /^rule\[0\]: name: required/],
    ['stage not a list', `[[rule]]\nname = "a"\nstage = "rcpt"\n${ok}`, 0, 'a', 'stage', /stage: a non-empty list/],
    ['empty stage list', `[[rule]]\nname = "a"\nstage = []\n${ok}`, 0, 'a', 'stage', /stage: a non-empty list/],
    ['unknown stage', `[[rule]]\nname = "a"\nstage = ["rcpt", "quit"]\n${ok}`, 0, 'a', 'stage', /unknown stage "quit"/],
    ['unknown failure', `[[rule]]\nname = "a"\nfailure = "smtp"\n${ok}`, 0, 'a', 'failure', /failure: one of network/],
    ['dns_code without dns failure', `[[rule]]\nname = "a"\ndns_code = "^E"\n${ok}`, 0, 'a', 'dns_code', /needs failure = "dns"/],
    ['failure mixed with reply conditions', `[[rule]]\nname = "a"\nfailure = "network"\ncode = "^4"\n${ok}`, 0, 'a', 'failure', /cannot be combined/],
    ['bounced without code', `[[rule]]\nname = "a"\ntext = "user unknown"\noutcome = "bounced"\ncategory = "invalid-recipient"`, 0, 'a', 'code', /needs a code that excludes 4xx/],
    ['bounced matching 4xx', `[[rule]]\nname = "a"\ncode = "^[45]"\noutcome = "bounced"\ncategory = "other"`, 0, 'a', 'code', /must not match 4xx replies \(matches 400\)/],
    ['bounced matching code 0', `[[rule]]\nname = "a"\ncode = "^[05]"\noutcome = "bounced"\ncategory = "other"`, 0, 'a', 'code', /unparseable replies/],
    ['delivered without code', `[[rule]]\nname = "a"\noutcome = "delivered"`, 0, 'a', 'code', /needs a code that matches only 2xx/],
    ['delivered matching 5xx', `[[rule]]\nname = "a"\ncode = "^[25]\\\\d\\\\d$"\noutcome = "delivered"`, 0, 'a', 'code', /must match only 2xx replies \(matches 500\)/],
    ['delivered failure', `[[rule]]\nname = "a"\nfailure = "network"\noutcome = "delivered"`, 0, 'a', 'failure', /a failure cannot be delivered/],
    ['rule not a table', 'rule = [1, 2]', 0, undefined, undefined, /rule\[0\]: expected a table/],
    ['not TOML', '[[rule]\nname = ', undefined, undefined, undefined, /not valid TOML/],
    ['no rules', '# nothing here\n', undefined, undefined, 'rule', /one or more \[\[rule\]\]/],
    ['unknown top-level key', `version = 2\n[[rule]]\nname = "a"\n${ok}`, undefined, undefined, 'version', /version: unknown top-level key/],
  ];
  for (const [label, toml, index, name, field, message] of cases) {
    assert.throws(
      () => loadRules(toml),
      (err: unknown) => {
        assert.ok(err instanceof RulesError, `${label}: ${String(err)}`);
        assert.equal(err.code, 'RULES_INVALID', label);
        assert.equal(err.ruleIndex, index, `${label}: index`);
        assert.equal(err.ruleName, name, `${label}: name`);
        assert.equal(err.field, field, `${label}: field`);
        assert.match(err.message, message, label);
        return true;
      },
      label,
    );
  }
});

function verdict(expect: string, rule: string, retryAfterMs?: number): Verdict {
  const [outcome, category] = expect.split(' ') as [Verdict['outcome'], Category | undefined];
  if (outcome === 'delivered') return { outcome, rule };
  assert.ok(category, `table row for ${rule} needs a category`);
  if (outcome === 'bounced') return { outcome, category, rule };
  const v: Verdict = { outcome, category, rule };
  if (retryAfterMs !== undefined) v.retryAfterMs = retryAfterMs;
  return v;
}

function retryAfter(v: Verdict): number | undefined {
  return v.outcome === 'deferred' ? v.retryAfterMs : undefined;
}
