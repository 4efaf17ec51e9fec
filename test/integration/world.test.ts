import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as dnsPromises } from 'node:dns';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SMTPConnectionOptions, SMTPEnvelope } from 'nodemailer/lib/smtp-connection';
import { chat, openClient as open, send, sendOnce as sendOne, quit, type Target } from '../world/client.js';
import { startDns, type TestDns } from '../world/dns.js';
import { greylistOnce, startSink, type Sink } from '../world/sink.js';
import { makeDomains, startWorld, type World } from '../world/world.js';

const SOURCE = '127.0.1.5';
const MESSAGE = 'From: a@sender.test\r\nTo: b@ok.test\r\nSubject: hi\r\n\r\nhello ünïcode\r\n';

// Every client binds this source address, to show the sink records it.
const bound = (opts: SMTPConnectionOptions = {}): SMTPConnectionOptions => ({ localAddress: SOURCE, ...opts });
const openClient = (t: Target, opts?: SMTPConnectionOptions) => open(t, bound(opts));
const sendOnce = (t: Target, envelope: SMTPEnvelope, opts?: SMTPConnectionOptions) => sendOne(t, envelope, MESSAGE, bound(opts));

/** The resolver code of a rejected lookup, or 'resolved'. */
async function codeOf(lookup: Promise<unknown>): Promise<string> {
  try {
    await lookup;
    return 'resolved';
  } catch (err) {
    return String((err as NodeJS.ErrnoException).code);
  }
}

interface SmtpFailure {
  code?: string;
  responseCode?: number;
  response?: string;
  rejectedErrors?: { responseCode?: number; response?: string }[];
}

/** The error nodemailer rejected with; fails the test if the promise resolved. */
async function failure(attempt: Promise<unknown>): Promise<SmtpFailure> {
  try {
    await attempt;
  } catch (err) {
    return err as SmtpFailure;
  }
  return assert.fail('expected the SMTP client to fail');
}

// ---------------------------------------------------------------- DNS

describe('test DNS server, seen through node:dns', () => {
  const dkim = `v=DKIM1; k=rsa; p=${randomBytes(294).toString('base64')}`; // a 2048-bit key's length
  let dns: TestDns;
  let resolver: InstanceType<typeof dnsPromises.Resolver>;

  before(async () => {
    dns = await startDns({
      'ok.test': { mx: [{ preference: 20, exchange: 'mx2.ok.test' }, { preference: 10, exchange: 'mx1.ok.test' }], txt: ['v=spf1 ip4:127.0.1.0/24 -all'] },
      'mx1.ok.test': { a: ['127.0.0.11', '127.0.0.12'], aaaa: ['::1'], ttl: 60 },
      'mx2.ok.test': { a: ['127.0.0.13'] },
      'sel._domainkey.ok.test': { txt: [dkim] },
      'multi.test': { txt: [['part one ', 'part two'], ['second record']] },
      'big.test': { txt: Array.from({ length: 6 }, (_, i) => `record ${i} ${'x'.repeat(300)}`) },
      'null.test': { nullMx: true, a: ['127.0.0.20'] },
      'broken.test': { servfail: true, a: ['127.0.0.21'] },
      'silent.test': { noAnswer: true },
      'alias.test': { cname: 'ok.test' },
      'hostalias.test': { cname: 'mx1.ok.test' },
      'dangling.test': { cname: 'nowhere.test' },
    });
    resolver = new dnsPromises.Resolver({ timeout: 250, tries: 1 });
    resolver.setServers([dns.server]);
  });

  after(async () => {
    resolver.cancel();
    await dns.close();
  });

  test('binds an ephemeral loopback port and reports it', () => {
    assert.equal(dns.address, '127.0.0.1');
    assert.ok(dns.port > 0);
    assert.equal(dns.server, `127.0.0.1:${dns.port}`);
  });

  test('MX, A, AAAA and TXT answers', async () => {
    const mx = await resolver.resolveMx('ok.test');
    assert.deepEqual([...mx].sort((a, b) => a.priority - b.priority), [
      { exchange: 'mx1.ok.test', priority: 10 },
      { exchange: 'mx2.ok.test', priority: 20 },
    ]);
    assert.deepEqual((await resolver.resolve4('mx1.ok.test')).sort(), ['127.0.0.11', '127.0.0.12']);
    assert.deepEqual(await resolver.resolve6('mx1.ok.test'), ['::1']);
    assert.deepEqual(await resolver.resolveTxt('ok.test'), [['v=spf1 ip4:127.0.1.0/24 -all']]);
    assert.deepEqual((await resolver.resolveTxt('multi.test')).map((r) => r.join('')).sort(), ['part one part two', 'second record']);
  });

  test('names are case-insensitive, a trailing dot is ignored', async () => {
    assert.deepEqual(await resolver.resolve4('MX2.Ok.TEST'), ['127.0.0.13']);
    assert.deepEqual(await resolver.resolve4('mx2.ok.test.'), ['127.0.0.13']);
  });

  test('a DKIM-sized TXT comes back as 255-byte strings that join to the key', async () => {
    assert.ok(dkim.length > 400);
    const [record, ...rest] = await resolver.resolveTxt('sel._domainkey.ok.test');
    assert.equal(rest.length, 0);
    assert.ok(record!.length > 1 && record!.every((s) => Buffer.byteLength(s) <= 255));
    assert.equal(record!.join(''), dkim);
  });

  test('an answer too big for UDP is retried over TCP by the resolver and arrives whole', async () => {
    const records = await resolver.resolveTxt('big.test');
    assert.equal(records.length, 6);
    const viaTcp = dns.queries.filter((q) => q.name === 'big.test');
    assert.equal(viaTcp.length, 2, 'one truncated UDP answer, one TCP query');
  });

  test('TTL: 300 by default, or as set', async () => {
    assert.deepEqual(await resolver.resolve4('mx2.ok.test', { ttl: true }), [{ address: '127.0.0.13', ttl: 300 }]);
    assert.ok((await resolver.resolve4('mx1.ok.test', { ttl: true })).every((r) => r.ttl === 60));
  });

  test('NXDOMAIN is ENOTFOUND, NODATA is ENODATA', async () => {
    assert.equal(await codeOf(resolver.resolveMx('nowhere.test')), 'ENOTFOUND');
    assert.equal(await codeOf(resolver.resolve4('nowhere.test')), 'ENOTFOUND');
    assert.equal(await codeOf(resolver.resolveMx('mx2.ok.test')), 'ENODATA');
    assert.equal(await codeOf(resolver.resolve6('mx2.ok.test')), 'ENODATA');
  });

  test('servfail is ESERVFAIL for every type', async () => {
    assert.equal(await codeOf(resolver.resolve4('broken.test')), 'ESERVFAIL');
    assert.equal(await codeOf(resolver.resolveMx('broken.test')), 'ESERVFAIL');
  });

  test('noAnswer drops the query: ETIMEOUT', async () => {
    const started = Date.now();
    assert.equal(await codeOf(resolver.resolve4('silent.test')), 'ETIMEOUT');
    assert.ok(Date.now() - started < 2000);
  });

  test('null MX: resolveMx gives one record, exchange "" and priority 0; other types unaffected', async () => {
    assert.deepEqual(await resolver.resolveMx('null.test'), [{ exchange: '', priority: 0 }]);
    assert.deepEqual(await resolver.resolve4('null.test'), ['127.0.0.20']);
  });

  test('CNAME: answered, and followed within the zones for A and MX', async () => {
    assert.deepEqual(await resolver.resolveCname('alias.test'), ['ok.test']);
    assert.equal((await resolver.resolveMx('alias.test')).length, 2);
    assert.deepEqual((await resolver.resolve4('hostalias.test')).sort(), ['127.0.0.11', '127.0.0.12']);
    // The target has no A record: node resolves an empty list (the answer holds the CNAME), not ENODATA.
    assert.deepEqual(await resolver.resolve4('alias.test'), []);
    // The target does not exist: NXDOMAIN after the CNAME, as a real resolver answers.
    assert.equal(await codeOf(resolver.resolve4('dangling.test')), 'ENOTFOUND');
  });

  test('set() and remove() apply to the next query; queries are logged by name and type', async () => {
    dns.set('Late.TEST.', { a: ['127.0.0.99'] });
    assert.deepEqual(await resolver.resolve4('late.test'), ['127.0.0.99']);
    dns.remove('late.test');
    assert.equal(await codeOf(resolver.resolve4('late.test')), 'ENOTFOUND');
    assert.deepEqual(dns.queries.filter((q) => q.name === 'late.test'), [
      { name: 'late.test', type: 'A' },
      { name: 'late.test', type: 'A' },
    ]);
  });
});

// ---------------------------------------------------------------- sinks

describe('SMTP sink', () => {
  let sink: Sink;

  before(async () => {
    sink = await startSink({ address: '127.0.0.20', port: 0 });
  });

  after(async () => {
    await sink.close();
  });

  const freshRecords = () => {
    sink.received.length = 0;
    sink.sessions.length = 0;
    sink.script = {};
  };

  test('advertises PIPELINING, 8BITMIME, SMTPUTF8 and SIZE; no AUTH, no STARTTLS by default', async () => {
    freshRecords();
    const replies = await chat(sink, ['EHLO client.test', 'QUIT'], SOURCE);
    assert.match(replies[0]!, /^220 sink-127\.0\.0\.20 ESMTP/);
    const ehlo = replies.filter((l) => l.startsWith('250')).map((l) => l.slice(4));
    for (const ext of ['PIPELINING', '8BITMIME', 'SMTPUTF8']) assert.ok(ehlo.includes(ext), `${ext} in ${ehlo}`);
    assert.ok(ehlo.some((l) => /^SIZE \d+$/.test(l)));
    assert.ok(!ehlo.some((l) => l.startsWith('AUTH') || l === 'STARTTLS'));
  });

  test('records the bound source address, HELO, envelope and data of an accepted message', async () => {
    freshRecords();
    const info = await sendOnce(sink, { from: 'a@sender.test', to: ['b@ok.test', 'C@ok.test'] });
    assert.deepEqual(info.accepted, ['b@ok.test', 'C@ok.test']);
    assert.match(info.response, /^250 /);
    const [got, ...more] = sink.received;
    assert.equal(more.length, 0);
    assert.equal(got!.remoteAddress, SOURCE);
    assert.equal(got!.sinkAddress, '127.0.0.20');
    assert.equal(got!.helo, 'client.test');
    assert.equal(got!.mailFrom, 'a@sender.test');
    assert.deepEqual(got!.rcptTo, ['b@ok.test', 'C@ok.test']);
    assert.equal(got!.data.toString(), MESSAGE);
    assert.equal(got!.size, Buffer.byteLength(MESSAGE));
    assert.equal(got!.tls, false);
    // onClose runs after the socket closes: a bounded wait, however loaded the machine.
    for (let i = 0; i < 100 && sink.sessions[0]?.closedAt === undefined; i++) await sleep(20);
    assert.equal(sink.sessions.length, 1);
    assert.equal(sink.sessions[0]!.remoteAddress, SOURCE);
    assert.equal(sink.sessions[0]!.helo, 'client.test');
    assert.ok(sink.sessions[0]!.closedAt !== undefined);
  });

  test('several messages per session; the null sender is ""', async () => {
    freshRecords();
    const client = await openClient(sink);
    await send(client, { from: '', to: ['x@ok.test'] }, MESSAGE);
    await send(client, { from: 'a@sender.test', to: ['y@ok.test'] }, MESSAGE);
    await quit(client);
    assert.deepEqual(sink.received.map((r) => [r.mailFrom, r.rcptTo[0]]), [['', 'x@ok.test'], ['a@sender.test', 'y@ok.test']]);
    assert.equal(new Set(sink.received.map((r) => r.sessionId)).size, 1);
  });

  test('a 421 greeting refuses the session', async () => {
    freshRecords();
    sink.script = { greeting: { code: 421, message: 'mx.test Service not available, closing channel' } };
    const err = await failure(openClient(sink));
    assert.equal(err.responseCode, 421);
    assert.match(String(err.response), /^421 mx.test Service not available/);
    assert.equal(sink.received.length, 0);
    assert.equal(sink.sessions.length, 1);
  });

  test('greetingDelayMs slows the greeting down', async () => {
    freshRecords();
    sink.script = { greetingDelayMs: 300 };
    const started = Date.now();
    await quit(await openClient(sink));
    assert.ok(Date.now() - started >= 300);
  });

  test('a rcpt script answers per address; greylistOnce counts offers across sessions', async () => {
    freshRecords();
    const grey = greylistOnce();
    sink.script = { rcpt: (a, ctx) => (a.startsWith('gone') ? { code: 550, message: '5.1.1 <' + a + '>: User unknown' } : grey(a, ctx)) };
    const first = await failure(sendOnce(sink, { from: 'a@sender.test', to: ['g@ok.test', 'gone@ok.test'] }));
    assert.equal(first.code, 'EENVELOPE');
    assert.deepEqual(first.rejectedErrors?.map((e) => e.responseCode), [451, 550]);
    const second = await sendOnce(sink, { from: 'a@sender.test', to: ['g@ok.test', 'gone@ok.test'] });
    assert.deepEqual(second.accepted, ['g@ok.test']);
    assert.deepEqual(second.rejected, ['gone@ok.test']);
    assert.equal(second.rejectedErrors?.[0]?.responseCode, 550);
    assert.equal(sink.received.length, 1);
    assert.deepEqual(sink.received[0]!.rcptTo, ['g@ok.test']);
  });

  test('greylistOnce answers 451 4.7.1', async () => {
    freshRecords();
    sink.script = { rcpt: greylistOnce() };
    const err = await failure(sendOnce(sink, { from: 'a@sender.test', to: ['fresh@ok.test'] }));
    assert.equal(err.rejectedErrors?.[0]?.response, '451 4.7.1 Greylisted, try again later');
  });

  test('a data script rejects after DATA; nothing is recorded as received', async () => {
    freshRecords();
    sink.script = { data: (ctx) => (ctx.attempt === 1 ? { code: 554, message: '5.7.1 Message rejected as spam' } : 'accept') };
    const err = await failure(sendOnce(sink, { from: 'a@sender.test', to: ['d@ok.test'] }));
    assert.equal(err.responseCode, 554);
    assert.equal(err.response, '554 5.7.1 Message rejected as spam');
    assert.equal(sink.received.length, 0);
    await sendOnce(sink, { from: 'a@sender.test', to: ['d@ok.test'] });
    assert.equal(sink.received.length, 1);
  });

  test('drop mid-DATA: the connection is cut with no reply; the retry is accepted', async () => {
    freshRecords();
    const seen: { attempt: number; messageNo: number }[] = [];
    sink.script = {
      data: ({ attempt, messageNo }) => {
        seen.push({ attempt, messageNo });
        return attempt === 1 ? 'drop' : 'accept';
      },
    };
    const big = `Subject: big\r\n\r\n${'line of text\r\n'.repeat(20_000)}`;
    const client = await openClient(sink);
    const err = await failure(send(client, { from: 'a@sender.test', to: ['drop@ok.test'] }, big));
    await client.ended;
    // A reset (ESOCKET/ECONNRESET) while the client still writes, or a plain close (ECONNECTION).
    assert.match(String(err.code), /^(ESOCKET|ECONNECTION)$/);
    assert.equal(err.responseCode, undefined, 'no SMTP reply to DATA');
    assert.equal(sink.received.length, 0);
    await sendOnce(sink, { from: 'a@sender.test', to: ['drop@ok.test'] });
    assert.deepEqual(seen, [
      { attempt: 1, messageNo: 1 },
      { attempt: 2, messageNo: 1 },
    ]);
    assert.equal(sink.received.length, 1);
  });

  test('STARTTLS with the built-in self-signed certificate; the sink records tls', async () => {
    freshRecords();
    sink.script = { starttls: true };
    const ehlo = await chat(sink, ['EHLO client.test', 'QUIT'], SOURCE);
    assert.ok(ehlo.includes('250-STARTTLS') || ehlo.includes('250 STARTTLS'));
    await sendOnce(sink, { from: 'a@sender.test', to: ['t@ok.test'] }, { requireTLS: true, tls: { rejectUnauthorized: false } });
    assert.equal(sink.received[0]!.tls, true);
    assert.equal(sink.sessions.at(-1)!.tls, true);
  });

  test('maxConcurrentSessions counts sessions open at once', async () => {
    freshRecords();
    assert.ok(sink.maxConcurrentSessions < 3, 'earlier tests used fewer sessions at once');
    const clients = await Promise.all([1, 2, 3].map(() => openClient(sink)));
    await Promise.all(clients.map(quit));
    assert.equal(sink.maxConcurrentSessions, 3);
  });

  test('keepData: false keeps sizes only', async () => {
    const lean = await startSink({ address: '127.0.0.21', port: 0, keepData: false });
    try {
      await sendOnce(lean, { from: 'a@sender.test', to: ['k@ok.test'] });
      assert.equal(lean.received[0]!.data.length, 0);
      assert.equal(lean.received[0]!.size, Buffer.byteLength(MESSAGE));
    } finally {
      await lean.close();
    }
  });

  test('close() cuts sessions still open after a short grace, even one waiting for its greeting', async () => {
    const other = await startSink({ address: '127.0.0.22', port: 0 });
    const idle = await openClient(other);
    other.script = { greetingDelayMs: 10_000 };
    const waiting = openClient(other, { greetingTimeout: 20_000 }).then(
      () => 'greeted',
      () => 'cut',
    );
    await sleep(150); // past smtp-server's 100 ms early-talker pause, so the delay timer is running
    const started = Date.now();
    await other.close();
    assert.ok(Date.now() - started < 1000, `close took ${Date.now() - started} ms`);
    await idle.ended;
    assert.equal(await waiting, 'cut');
  });
});

// ---------------------------------------------------------------- world

describe('world', () => {
  let world: World;
  let resolver: InstanceType<typeof dnsPromises.Resolver>;

  before(async () => {
    world = await startWorld({
      domains: {
        'ok.test': { mx: ['mx1.ok.test', 'mx2.ok.test'] },
        'shared.test': { mx: ['mx.shared.test'] },
        'nomx.test': { records: { a: ['127.0.0.42'] } },
        'null.test': { records: { nullMx: true } },
      },
      hosts: { 'mx1.ok.test': '127.0.0.40', 'mx2.ok.test': '127.0.0.41', 'mx.shared.test': '127.0.0.41', 'nomx.test': '127.0.0.42' },
      scripts: { 'mx1.ok.test': { greeting: { code: 421, message: 'busy' } } },
    });
    resolver = new dnsPromises.Resolver({ timeout: 250, tries: 1 });
    resolver.setServers([world.dns.server]);
  });

  after(async () => {
    resolver.cancel();
    await world.close();
  });

  test('one sink per distinct address, all on the same port', () => {
    assert.deepEqual([...world.sinks.keys()].sort(), ['127.0.0.40', '127.0.0.41', '127.0.0.42']);
    for (const sink of world.sinks.values()) assert.equal(sink.port, world.port);
    assert.equal(world.sinkFor('mx.shared.test'), world.sinkFor('mx2.ok.test'));
    assert.throws(() => world.sinkFor('unknown.test'), /no sink/);
  });

  test('MX in preference order 10, 20; hosts get A records; records merge with host addresses', async () => {
    const mx = (await resolver.resolveMx('ok.test')).sort((a, b) => a.priority - b.priority);
    assert.deepEqual(mx, [
      { exchange: 'mx1.ok.test', priority: 10 },
      { exchange: 'mx2.ok.test', priority: 20 },
    ]);
    assert.deepEqual(await resolver.resolve4('mx2.ok.test'), ['127.0.0.41']);
    assert.deepEqual(await resolver.resolve4('nomx.test'), ['127.0.0.42']);
    assert.equal(await codeOf(resolver.resolveMx('nomx.test')), 'ENODATA');
    assert.deepEqual(await resolver.resolveMx('null.test'), [{ exchange: '', priority: 0 }]);
  });

  test('scripts apply by host name; received() gathers every sink', async () => {
    await assert.rejects(openClient({ address: '127.0.0.40', port: world.port }), (e: { responseCode?: number }) => e.responseCode === 421);
    await sendOnce({ address: '127.0.0.41', port: world.port }, { from: 'a@sender.test', to: ['w@ok.test'] });
    await sendOnce({ address: '127.0.0.42', port: world.port }, { from: 'a@sender.test', to: ['w@nomx.test'] });
    assert.deepEqual(world.received().map((r) => [r.sinkAddress, r.rcptTo[0], r.remoteAddress]), [
      ['127.0.0.41', 'w@ok.test', SOURCE],
      ['127.0.0.42', 'w@nomx.test', SOURCE],
    ]);
    assert.equal(world.sinkFor('mx1.ok.test').received.length, 0);
  });

  test('rejects a sink address outside 127.0.0.2-250 and conflicting scripts', async () => {
    await assert.rejects(startWorld({ domains: {}, hosts: { 'mx.test': '127.0.1.9' } }), /outside/);
    await assert.rejects(
      startWorld({ domains: {}, hosts: { 'a.test': '127.0.0.50', 'b.test': '127.0.0.50' }, scripts: { 'a.test': {}, 'b.test': {} } }),
      /both have a script/,
    );
  });
});

test('makeDomains spreads n domains over sites', () => {
  const spec = makeDomains(10, 4);
  assert.deepEqual(Object.keys(spec.domains), Array.from({ length: 10 }, (_, i) => `d${i}.test`));
  assert.deepEqual(spec.domains['d5.test'], { mx: ['mx0.site1.test'] });
  assert.deepEqual(spec.hosts, { 'mx0.site0.test': '127.0.0.10', 'mx0.site1.test': '127.0.0.11', 'mx0.site2.test': '127.0.0.12', 'mx0.site3.test': '127.0.0.13' });
});

test('a whole makeDomains world starts and stops', async () => {
  const world = await startWorld({ ...makeDomains(10, 4), starttls: true });
  assert.equal(world.sinks.size, 4);
  await sendOnce({ address: '127.0.0.13', port: world.port }, { from: 'a@sender.test', to: ['x@d3.test'] }, { requireTLS: true, tls: { rejectUnauthorized: false } });
  assert.equal(world.sinkFor('mx0.site3.test').received[0]!.tls, true);
  await world.close();
});

test('nothing is left listening or connected', async () => {
  await sleep(50); // handles finish closing on the next turns of the loop
  const left = process.getActiveResourcesInfo().filter((r) => /TCP|UDP|Timeout/.test(r));
  assert.deepEqual(left, []);
});
