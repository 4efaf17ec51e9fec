import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toAttemptResult } from '../../engine/delivery/session.js';
import { ReplyTracker } from '../../engine/delivery/watchdog.js';
import { classify, defaultRules } from '../../engine/outcome/classify.js';

const rules = defaultRules();

type ClientError = Parameters<typeof toAttemptResult>[0];
const err = (fields: Partial<ClientError>): ClientError => Object.assign(new Error(fields.message ?? 'x'), fields);

test('client errors map to what classification reads', () => {
  const cases: { name: string; e: ClientError; want: string }[] = [
    { name: '550 at RCPT', e: err({ code: 'EENVELOPE', command: 'RCPT TO', response: '550 5.1.1 User unknown', responseCode: 550 }), want: 'bounced invalid-recipient' },
    // A reply line with no code: the server does not speak SMTP there. Not a network failure.
    { name: 'garbage at RCPT', e: err({ code: 'EENVELOPE', command: 'RCPT TO', response: '\u0000\u00ff what is this' }), want: 'deferred protocol' },
    { name: 'garbage greeting', e: err({ code: 'EPROTOCOL', command: 'CONN', response: 'HTTP/1.1 400 Bad Request' }), want: 'deferred protocol' },
    { name: 'socket timeout', e: err({ code: 'ETIMEDOUT', command: 'CONN' }), want: 'deferred network' },
    { name: 'reset', e: err({ code: 'ECONNECTION', command: 'CONN' }), want: 'deferred network' },
    { name: 'TLS', e: err({ code: 'ETLS', command: 'CONN' }), want: 'deferred tls' },
  ];
  for (const c of cases) {
    const v = classify(toAttemptResult(c.e, 'rcpt'), rules);
    assert.equal(v.outcome === 'delivered' ? 'delivered' : `${v.outcome} ${v.category}`, c.want, c.name);
  }
});

test('reply tracker: a reply is open until its last line ends', () => {
  // Each case: chunks fed in order, and whether a reply is open after each one.
  const cases: { name: string; chunks: string[]; open: boolean[]; completed: number }[] = [
    { name: 'one line', chunks: ['250 OK\r\n'], open: [false], completed: 1 },
    { name: 'line split across chunks', chunks: ['25', '0 O', 'K\r\n'], open: [true, true, false], completed: 1 },
    { name: 'multi-line', chunks: ['250-a\r\n250-b\r\n', '250 c\r\n'], open: [true, false], completed: 1 },
    { name: 'code split from hyphen', chunks: ['250', '-a\r\n', '250 b\r\n'], open: [true, true, false], completed: 1 },
    { name: 'continuation forever', chunks: ['250-x\r\n', '250-x\r\n', '250-x\r\n'], open: [true, true, true], completed: 0 },
    { name: 'two replies in one chunk', chunks: ['250 a\r\n354 go\r\n'], open: [false], completed: 2 },
    { name: 'one ends, the next begins', chunks: ['250 a\r\n550-b\r\n'], open: [true], completed: 1 },
    { name: 'blank line changes nothing', chunks: ['250-a\r\n', '\r\n', '250 b\r\n'], open: [true, true, false], completed: 1 },
    { name: 'bare LF endings', chunks: ['250-a\n250 b\n'], open: [false], completed: 1 },
    { name: 'garbage line ends a reply', chunks: ['\u0000 what\r\n'], open: [false], completed: 1 },
  ];
  for (const c of cases) {
    const t = new ReplyTracker();
    assert.deepEqual(c.chunks.map((ch) => t.feed(ch)), c.open, c.name);
    assert.equal(t.completed, c.completed, `${c.name}: completed`);
  }
});
