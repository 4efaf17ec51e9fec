import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { greylistOnce } from '../world/sink.js';
import { startWorld, type World } from '../world/world.js';
import { deliver, SOURCES, tempDir, writeConfig, writeCsv } from './harness.js';

/**
 * One world for the delivery paths of issue #2. Each domain exercises one behaviour; each test sends
 * its own campaign to its own domain, so the tests do not see each other's mail.
 */
const DOMAINS = {
  'ok.test': { mx: ['mx.ok.test'] },
  'grey.test': { mx: ['mx.grey.test'] },
  'hard.test': { mx: ['mx.hard.test'] },
  'refuse421.test': { mx: ['mx1.refuse421.test', 'mx2.refuse421.test'] },
  'deadprimary.test': { mx: ['mx1.deadprimary.test', 'mx2.deadprimary.test'] },
  'alldead.test': { mx: ['mx1.alldead.test'] },
  'partial.test': { mx: ['mx.partial.test'] },
  'drop.test': { mx: ['mx.drop.test'] },
  'tls.test': { mx: ['mx.tls.test'] },
  'nomx.test': { records: { a: ['127.0.0.40'] } },
  'nullmx.test': { records: { nullMx: true } },
  'servfail.test': { records: { servfail: true } },
};

const HOSTS = {
  'mx.ok.test': '127.0.0.31',
  'mx.grey.test': '127.0.0.32',
  'mx.hard.test': '127.0.0.33',
  'mx1.refuse421.test': '127.0.0.34',
  'mx2.refuse421.test': '127.0.0.35',
  'mx2.deadprimary.test': '127.0.0.37',
  'mx.partial.test': '127.0.0.38',
  'mx.drop.test': '127.0.0.39',
  'nomx.test': '127.0.0.40',
  'mx.tls.test': '127.0.0.41',
};

// Sessions in the main thread and in a delivery thread (engine/delivery/thread-host.ts) alike.
for (const deliveryThreads of [0, 1]) {
  describe(`delivery over real sockets (delivery threads: ${deliveryThreads})`, () => {
    let world: World;
    let dir: string;
    /** Each test gets its own queue: deferred recipients of one test must not be retried in another's run. */
    const fresh = () => writeConfig(tempDir(), world, { deliveryThreads });

    before(async () => {
      world = await startWorld({
        domains: DOMAINS,
        hosts: HOSTS,
        scripts: {
          'mx.grey.test': { rcpt: greylistOnce() },
          'mx.hard.test': { rcpt: (a) => (a.startsWith('gone') ? { code: 550, message: '5.1.1 <' + a + '>: Recipient address rejected: User unknown' } : 'accept') },
          'mx1.refuse421.test': { greeting: { code: 421, message: 'mx1.refuse421.test Service not available, closing channel' } },
          'mx.partial.test': { rcpt: (a) => (a.startsWith('no') ? { code: 550, message: '5.1.1 No such user' } : 'accept') },
          'mx.drop.test': { data: (ctx) => (ctx.attempt === 1 ? 'drop' : 'accept') },
          'mx.tls.test': { starttls: true },
        },
      });
      // Dead hosts: resolvable, but nothing listens there.
      world.dns.set('mx1.deadprimary.test', { a: ['127.0.0.36'] });
      world.dns.set('mx1.alldead.test', { a: ['127.0.0.42'] });
      dir = tempDir();
    });

    after(async () => {
      await world.close();
    });

    const csvFor = (name: string, emails: string[]) => writeCsv(dir, emails.map((email, i) => ({ email, name: `N${i}` })), `${name}.csv`);
    const receivedBy = (host: string) => world.sinkFor(host).received;

    test('delivered: merge tags filled, source bound, one message per recipient', async () => {
      const run = await deliver(fresh(), csvFor('ok', ['a@ok.test', 'b@ok.test', 'c@ok.test']));
      assert.equal(run.count('delivered'), 3);
      const got = receivedBy('mx.ok.test');
      assert.equal(got.length, 3);
      for (const m of got) {
        assert.ok(SOURCES.includes(m.remoteAddress), `sink saw source ${m.remoteAddress}`);
        assert.equal(m.mailFrom, 'news@sender.test');
        const i = ['a@ok.test', 'b@ok.test', 'c@ok.test'].indexOf(m.rcptTo[0]!);
        assert.match(m.data.toString(), new RegExp(`Subject: Hello N${i}\\r\\n`));
      }
      const events = run.store.events(run.imported.campaignId, 10);
      assert.ok(events.every((e) => e.status === 'delivered' && e.code === 250 && e.mxHost === 'mx.ok.test' && SOURCES.includes(e.sourceIp!)));
      run.store.close();
    });

    test('4xx (greylisting) is deferred, then delivered on retry from the same source', async () => {
      const run = await deliver(fresh(), csvFor('grey', ['g1@grey.test', 'g2@grey.test']));
      assert.equal(run.count('delivered'), 2);
      const events = run.store.events(run.imported.campaignId, 10);
      for (const email of ['g1@grey.test', 'g2@grey.test']) {
        const mine = events.filter((e) => e.email === email);
        assert.deepEqual(mine.map((e) => e.status), ['deferred', 'delivered'], email);
        assert.equal(mine[0]!.category, 'greylisted');
        assert.equal(mine[0]!.sourceIp, mine[1]!.sourceIp, 'retry comes from the same source IP');
      }
      run.store.close();
    });

    test('5xx at RCPT is bounced with its category', async () => {
      const run = await deliver(fresh(), csvFor('hard', ['gone@hard.test', 'here@hard.test']));
      assert.equal(run.count('bounced', 'invalid-recipient'), 1);
      assert.equal(run.count('delivered'), 1);
      const bounce = run.store.events(run.imported.campaignId, 10).find((e) => e.status === 'bounced')!;
      assert.equal(bounce.code, 550);
      assert.match(bounce.text, /User unknown/);
      run.store.close();
    });

    test('a 421 greeting moves on to the next MX', async () => {
      const run = await deliver(fresh(), csvFor('r421', ['x@refuse421.test']));
      assert.equal(run.count('delivered'), 1);
      assert.equal(receivedBy('mx2.refuse421.test').length, 1);
      assert.equal(receivedBy('mx1.refuse421.test').length, 0);
      run.store.close();
    });

    test('a dead primary MX falls back to the secondary', async () => {
      const run = await deliver(fresh(), csvFor('dead', ['x@deadprimary.test']));
      assert.equal(run.count('delivered'), 1);
      assert.equal(receivedBy('mx2.deadprimary.test').length, 1);
      run.store.close();
    });

    test('no MX: the domain address record is the implicit MX', async () => {
      const run = await deliver(fresh(), csvFor('nomx', ['x@nomx.test']));
      assert.equal(run.count('delivered'), 1);
      assert.equal(receivedBy('nomx.test').length, 1);
      run.store.close();
    });

    test('null MX and NXDOMAIN bounce at once as bad-domain; SERVFAIL and unreachable sites defer', async () => {
      // A long first retry: the deferred ones must not fall due while the others are still being tried
      // (render workers starting up on a loaded machine can take longer than a 1 s retry).
      const config = writeConfig(tempDir(), world, { retry: ['10m'], deliveryThreads });
      const run = await deliver(config, csvFor('dns', ['x@nullmx.test', 'y@nxdomain.test', 'z@servfail.test', 'w@alldead.test']), {}, 0);
      assert.equal(run.count('bounced', 'bad-domain'), 2);
      assert.equal(run.count('deferred', 'dns'), 1);
      assert.equal(run.count('deferred', 'network'), 1);
      const events = run.store.events(run.imported.campaignId, 10);
      assert.equal(events.length, 4, 'one attempt each, no retries within --max-wait 0');
      run.store.close();
    });

    test('partial acceptance: one transaction, each recipient its own outcome', async () => {
      const emails = ['yes1@partial.test', 'no1@partial.test', 'yes2@partial.test', 'no2@partial.test'];
      const csv = writeCsv(dir, emails.map((email) => ({ email })), 'partial.csv');
      // One source, so all four share one egress path and one transaction.
      const single = writeConfig(tempDir(), world, { sources: ['127.0.1.4'], deliveryThreads });
      const run = await deliver(single, csv, { subject: 'Same for all', html: '<p>static</p>', text: 'static' }, 0);
      assert.equal(run.count('delivered'), 2);
      assert.equal(run.count('bounced', 'invalid-recipient'), 2);
      const got = receivedBy('mx.partial.test');
      assert.equal(got.length, 1, 'one DATA for the accepted recipients');
      assert.deepEqual([...got[0]!.rcptTo].sort(), ['yes1@partial.test', 'yes2@partial.test']);
      run.store.close();
    });

    test('a connection dropped mid-DATA is deferred, then delivered once', async () => {
      const run = await deliver(fresh(), csvFor('drop', ['d@drop.test']));
      assert.equal(run.count('delivered'), 1);
      const events = run.store.events(run.imported.campaignId, 10);
      assert.deepEqual(events.map((e) => e.status), ['deferred', 'delivered']);
      assert.equal(events[0]!.category, 'network');
      assert.equal(receivedBy('mx.drop.test').length, 1, 'the dropped attempt is not a delivery');
      run.store.close();
    });

    test('STARTTLS with a self-signed certificate delivers and records unverified TLS', async () => {
      const run = await deliver(fresh(), csvFor('tls', ['t@tls.test']));
      assert.equal(run.count('delivered'), 1);
      assert.equal(receivedBy('mx.tls.test')[0]!.tls, true);
      assert.equal(run.store.events(run.imported.campaignId, 1)[0]!.tls, 'unverified');
      run.store.close();
    });
  });
}
