import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseReply, retryHintMs } from '../../engine/outcome/reply.js';
import type { SmtpStage } from '../../engine/outcome/types.js';

type Parsed = { code: number; enhanced?: string; text: string };

test('parses single-line replies', () => {
  const cases: [string, Parsed][] = [
    ['250 2.0.0 OK  1700000000 a1-20020a05 - gsmtp', { code: 250, enhanced: '2.0.0', text: 'OK  1700000000 a1-20020a05 - gsmtp' }],
    ['250 Ok: queued as 4F1AB2C3D4', { code: 250, text: 'Ok: queued as 4F1AB2C3D4' }],
    ['550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown in virtual mailbox table', {
      code: 550, enhanced: '5.1.1', text: '<nobody@example.test>: Recipient address rejected: User unknown in virtual mailbox table',
    }],
    ['550 No Such User Here', { code: 550, text: 'No Such User Here' }],
    ['554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org', {
      code: 554, enhanced: '5.7.1', text: 'Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org',
    }],
    ['550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup', {
      code: 550, enhanced: '5.1.10', text: 'RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup',
    }],
    ['451 4.7.500 Server busy. Please try again later from [192.0.2.7]. (S77714)', {
      code: 451, enhanced: '4.7.500', text: 'Server busy. Please try again later from [192.0.2.7]. (S77714)',
    }],
    ['421', { code: 421, text: '' }],
    ['550 5.1.1', { code: 550, enhanced: '5.1.1', text: '' }],
    ['  452 4.5.3 Error: too many recipients  \r\n', { code: 452, enhanced: '4.5.3', text: 'Error: too many recipients' }],
  ];
  for (const [raw, expected] of cases) assertParsed(raw, expected);
});

test('an enhanced code counts only right after the reply code', () => {
  const cases: [string, Parsed][] = [
    ['550 Mailbox unavailable (see 5.1.1 in RFC 3463)', { code: 550, text: 'Mailbox unavailable (see 5.1.1 in RFC 3463)' }],
    ['550 5.1.1.4 odd', { code: 550, text: '5.1.1.4 odd' }],
    ['550 5.1.1: no such user', { code: 550, text: '5.1.1: no such user' }],
    ['550 3.1.1 not a valid class', { code: 550, text: '3.1.1 not a valid class' }],
    ['550 5.1234.1 too many digits', { code: 550, text: '5.1234.1 too many digits' }],
    ['550 5.7.606 Access denied, banned sending IP [192.0.2.7]', { code: 550, enhanced: '5.7.606', text: 'Access denied, banned sending IP [192.0.2.7]' }],
  ];
  for (const [raw, expected] of cases) assertParsed(raw, expected);
});

test('joins multi-line replies and strips the code from every line', () => {
  const gmail = [
    '550-5.1.1 The email account that you tried to reach does not exist. Please try',
    '550-5.1.1 double-checking the recipient\'s email address for typos or',
    '550-5.1.1 unnecessary spaces. For more information, go to',
    '550 5.1.1  https://support.google.com/mail/?p=NoSuchUser a1si123456 - gsmtp',
  ];
  const outlook = ['550-5.7.1 Unfortunately, messages from [192.0.2.7] weren\'t sent.', '550 5.7.1 Please contact your Internet service provider (S3150)'];
  const exim = ['451-The server has reached its limit for processing requests from your host.', '451 Please try again later.'];
  const cases: [string, Parsed][] = [
    [gmail.join('\r\n'), {
      code: 550,
      enhanced: '5.1.1',
      text: 'The email account that you tried to reach does not exist. Please try double-checking the recipient\'s email address for typos or unnecessary spaces. For more information, go to https://support.google.com/mail/?p=NoSuchUser a1si123456 - gsmtp',
    }],
    [outlook.join('\n'), { code: 550, enhanced: '5.7.1', text: 'Unfortunately, messages from [192.0.2.7] weren\'t sent. Please contact your Internet service provider (S3150)' }],
    [exim.join('\r\n') + '\r\n', { code: 451, text: 'The server has reached its limit for processing requests from your host. Please try again later.' }],
    ['250-mx.example.test\r\n250-SIZE 52428800\r\n250 STARTTLS', { code: 250, text: 'mx.example.test SIZE 52428800 STARTTLS' }],
    ['550-\r\n550 5.1.1 user unknown', { code: 550, enhanced: '5.1.1', text: 'user unknown' }],
    // Continuation text some servers send without repeating the code: keep it.
    ['550-5.7.1 Message rejected\r\n  as spam\r\n550 5.7.1 bye', { code: 550, enhanced: '5.7.1', text: 'Message rejected as spam bye' }],
    ['421-4.7.0 first\r421 4.7.0 second', { code: 421, enhanced: '4.7.0', text: 'first second' }],
  ];
  for (const [raw, expected] of cases) assertParsed(raw, expected);
});

test('garbage gives code 0 and keeps the text instead of throwing', () => {
  const cases: [string, Parsed][] = [
    ['', { code: 0, text: '' }],
    ['   \r\n  ', { code: 0, text: '' }],
    ['HTTP/1.1 400 Bad Request', { code: 0, text: 'HTTP/1.1 400 Bad Request' }],
    ['SSH-2.0-OpenSSH_9.6', { code: 0, text: 'SSH-2.0-OpenSSH_9.6' }],
    ['2024 was a year', { code: 0, text: '2024 was a year' }],
    ['55 short', { code: 0, text: '55 short' }],
    ['600 beyond SMTP', { code: 0, text: '600 beyond SMTP' }],
    ['099 leading zero', { code: 0, text: '099 leading zero' }],
    ['000', { code: 0, text: '000' }],
    ['\u0000\u0001\ufffd binary', { code: 0, text: '\u0000\u0001\ufffd binary' }],
    ['+OK POP3 server ready\r\n-ERR', { code: 0, text: '+OK POP3 server ready -ERR' }],
  ];
  for (const [raw, expected] of cases) assertParsed(raw, expected);
});

test('keeps the stage it is given', () => {
  const stages: SmtpStage[] = ['connect', 'ehlo', 'starttls', 'mail', 'rcpt', 'data', 'message'];
  for (const stage of stages) assert.equal(parseReply('250 ok', stage).stage, stage);
  assert.equal(parseReply('250 ok', 'rcpt').kind, 'reply');
});

test('finds retry hints in the wordings receivers use', () => {
  const s = 1000;
  const cases: [string, number][] = [
    ['Greylisted, please try again in 300 seconds', 300 * s],
    ['rate limited, retry in 5 minutes', 5 * 60 * s],
    ['too busy, try again later in 2 hours', 2 * 3600 * s],
    ['Please try again after 60s', 60 * s],
    ['Try again in 15 min.', 15 * 60 * s],
    ['TRY AGAIN IN 1 HOUR', 3600 * s],
    ['retry after 90 secs', 90 * s],
    ['try later in 10m', 10 * 60 * s],
    ['please retry in 1.5 hours', 1.5 * 3600 * s],
    ['try again in 3 hrs', 3 * 3600 * s],
    ['4.7.1 <x@example.test>: Recipient address rejected: Greylisted for 5 minutes', 5 * 60 * s],
    ['Greylisting in action, please come back in 00:05:00', 5 * 60 * s],
    ['Message deferred for 120 seconds', 120 * s],
    ['try again in 24 hours', 24 * 3600 * s],
  ];
  for (const [text, ms] of cases) assert.equal(retryHintMs(text), ms, text);
});

test('ignores absent, zero, negative-looking and over-long hints', () => {
  const cases: string[] = [
    'Please try again later',
    'try again in a few minutes',
    'try again in 0 seconds',
    'try again in 25 hours',
    'try again in 100000 minutes',
    'come back in 99:00:00',
    'come back in 00:00:00',
    'retry in -5 minutes',
    'the 300 seconds rule',
    'try again in 5 days',
    'entry in 5 minutes',
    '',
  ];
  for (const text of cases) assert.equal(retryHintMs(text), undefined, text);
});

function assertParsed(raw: string, expected: Parsed): void {
  const got = parseReply(raw, 'rcpt');
  const want: Record<string, unknown> = { kind: 'reply', stage: 'rcpt', code: expected.code, text: expected.text };
  if (expected.enhanced !== undefined) want.enhanced = expected.enhanced;
  assert.deepEqual(got, want, JSON.stringify(raw));
}
