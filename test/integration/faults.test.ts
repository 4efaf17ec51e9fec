import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ZoneRecord } from '../world/dns.js';
import type { RawScript } from '../world/raw.js';
import { greylistOnce, type SinkScript } from '../world/sink.js';
import { startWorld, type World, type WorldSpec } from '../world/world.js';
import { deliver, tempDir, writeConfig, writeCsv, type ConfigOptions, type InProcessRun } from './harness.js';

/**
 * The fault matrix (issue #7): one row per fault, each over real sockets against the test world.
 * A row brings its own piece of the world (zone, MX hosts, sink or raw-server script), the config
 * it needs (small timeouts), and what must come out: the recipient's final state and category,
 * and the status of every attempt in order. docs/guarantees.md tabulates the same rows.
 */
interface Row {
  fault: string;
  /** The recipient is `x@<domain>`. */
  domain: string;
  /** MX host names in preference order, or records for the domain itself. */
  mx?: string[];
  records?: ZoneRecord;
  /** Hosts that get a server: name → address (127.0.0.x or ::1). */
  hosts?: Record<string, string>;
  /** Hosts that resolve but where nothing listens. */
  dead?: Record<string, string>;
  /** Extra zone entries (CNAME targets and the like). */
  zones?: Record<string, ZoneRecord>;
  sink?: Record<string, SinkScript>;
  raw?: Record<string, RawScript>;
  config?: ConfigOptions;
  /** How long the run may wait for a retry: 0 = one attempt only. */
  waitMs?: number;
  final: { status: string; category: string | null };
  /** Status of each attempt (event), in order. */
  attempts: string[];
  /** Category of the first attempt when it differs from the final one. */
  firstCategory?: string;
  check?: (run: InProcessRun, world: World) => void;
}

// Short timeouts: every timeout row finishes in about a second, yet no legitimate exchange on
// loopback comes near them, even on a loaded machine.
const FAST: ConfigOptions['timeouts'] = { connect: '1s', greeting: '1s', command: '1s', dns: '500ms' };
const RETRY_WAIT_MS = 5_000;
const ROW_TIMEOUT_MS = 30_000;

const reply = (code: number, message: string) => ({ code, message });

/** A raw script that answers the first connection's RCPT with `fn` and behaves normally after that. */
const onFirstRcpt = (fn: (s: Parameters<RawScript>[1]) => void): RawScript => (ev, s) => {
  if (ev.kind !== 'command' || ev.verb !== 'RCPT' || s.no !== 1) return false;
  fn(s);
  return true;
};

const LONG_LINE = 'x'.repeat(200);

const ROWS: Row[] = [
  {
    fault: '4xx at RCPT',
    domain: 'temp.test',
    mx: ['mx.temp.test'],
    hosts: { 'mx.temp.test': '127.0.0.101' },
    sink: { 'mx.temp.test': { rcpt: () => reply(451, '4.3.0 Local error in processing') } },
    final: { status: 'deferred', category: 'other' },
    attempts: ['deferred'],
  },
  {
    fault: '5xx at RCPT',
    domain: 'perm.test',
    mx: ['mx.perm.test'],
    hosts: { 'mx.perm.test': '127.0.0.102' },
    sink: { 'mx.perm.test': { rcpt: (a) => reply(550, `5.1.1 <${a}>: Recipient address rejected: User unknown`) } },
    final: { status: 'bounced', category: 'invalid-recipient' },
    attempts: ['bounced'],
  },
  {
    fault: '421 at RCPT, then close',
    domain: 'close421.test',
    mx: ['mx.close421.test'],
    hosts: { 'mx.close421.test': '127.0.0.103' },
    sink: { 'mx.close421.test': { rcpt: (_a, { attempt }) => (attempt === 1 ? reply(421, '4.3.2 Service shutting down, closing channel') : 'accept') } },
    waitMs: RETRY_WAIT_MS,
    final: { status: 'delivered', category: null },
    attempts: ['deferred', 'delivered'],
    firstCategory: 'other',
  },
  {
    fault: '421 greeting on the only MX',
    domain: 'greet421.test',
    mx: ['mx.greet421.test'],
    hosts: { 'mx.greet421.test': '127.0.0.104' },
    sink: { 'mx.greet421.test': { greeting: reply(421, 'mx.greet421.test Too busy, closing channel') } },
    final: { status: 'deferred', category: 'other' },
    attempts: ['deferred'],
  },
  {
    fault: 'greylist once',
    domain: 'grey.test',
    mx: ['mx.grey.test'],
    hosts: { 'mx.grey.test': '127.0.0.105' },
    sink: { 'mx.grey.test': { rcpt: greylistOnce() } },
    waitMs: RETRY_WAIT_MS,
    final: { status: 'delivered', category: null },
    attempts: ['deferred', 'delivered'],
    firstCategory: 'greylisted',
    check: (run) => {
      const [first, second] = run.store.events(run.imported.campaignId, 10);
      assert.equal(first!.sourceIp, second!.sourceIp, 'the retry comes from the same source IP');
    },
  },
  {
    fault: 'slow greeting, within greeting_timeout',
    domain: 'slow.test',
    mx: ['mx.slow.test'],
    hosts: { 'mx.slow.test': '127.0.0.106' },
    sink: { 'mx.slow.test': { greetingDelayMs: 1_500 } },
    config: { timeouts: { ...FAST, greeting: '10s' } },
    final: { status: 'delivered', category: null },
    attempts: ['delivered'],
  },
  {
    fault: 'greeting slower than greeting_timeout',
    domain: 'mute.test',
    mx: ['mx.mute.test'],
    hosts: { 'mx.mute.test': '127.0.0.107' },
    sink: { 'mx.mute.test': { greetingDelayMs: 60_000 } },
    final: { status: 'deferred', category: 'network' },
    attempts: ['deferred'],
  },
  {
    fault: 'reply stalls mid-line (command_timeout)',
    domain: 'stall.test',
    mx: ['mx.stall.test'],
    hosts: { 'mx.stall.test': '127.0.0.108' },
    raw: { 'mx.stall.test': onFirstRcpt((s) => s.write('250 2.1.5 O')) },
    final: { status: 'deferred', category: 'network' },
    attempts: ['deferred'],
  },
  {
    fault: 'reply that never ends (continuation lines forever)',
    domain: 'endless.test',
    mx: ['mx.endless.test'],
    hosts: { 'mx.endless.test': '127.0.0.109' },
    raw: { 'mx.endless.test': onFirstRcpt((s) => s.every(100, () => s.reply('250-still thinking'))) },
    final: { status: 'deferred', category: 'network' },
    attempts: ['deferred'],
    // The socket never goes quiet: only the reply clock (engine/delivery/watchdog.ts) can end this.
    check: (run) => assert.match(run.store.events(run.imported.campaignId, 1)[0]!.text, /Reply not complete/),
  },
  {
    fault: 'garbage greeting',
    domain: 'junkhello.test',
    mx: ['mx.junkhello.test'],
    hosts: { 'mx.junkhello.test': '127.0.0.110' },
    raw: { 'mx.junkhello.test': (ev, s) => ev.kind === 'greeting' && (s.reply('HTTP/1.1 400 Bad Request'), true) },
    final: { status: 'deferred', category: 'protocol' },
    attempts: ['deferred'],
  },
  {
    fault: 'garbage reply line at RCPT',
    domain: 'junkrcpt.test',
    mx: ['mx.junkrcpt.test'],
    hosts: { 'mx.junkrcpt.test': '127.0.0.111' },
    raw: { 'mx.junkrcpt.test': onFirstRcpt((s) => s.reply('\u0000\u00ff what is this')) },
    final: { status: 'deferred', category: 'protocol' },
    attempts: ['deferred'],
  },
  {
    fault: 'very long multi-line EHLO reply (2,000 lines)',
    domain: 'longehlo.test',
    mx: ['mx.longehlo.test'],
    hosts: { 'mx.longehlo.test': '127.0.0.112' },
    raw: {
      'mx.longehlo.test': (ev, s) => {
        if (ev.kind !== 'command' || ev.verb !== 'EHLO') return false;
        s.reply(...Array.from({ length: 2000 }, (_, i) => `250-X-FILLER-${i} ${LONG_LINE}`), '250 SIZE 10485760');
        return true;
      },
    },
    final: { status: 'delivered', category: null },
    attempts: ['delivered'],
  },
  {
    fault: 'very long multi-line 550 at RCPT (500 lines)',
    domain: 'longno.test',
    mx: ['mx.longno.test'],
    hosts: { 'mx.longno.test': '127.0.0.113' },
    raw: {
      'mx.longno.test': onFirstRcpt((s) => s.reply(...Array.from({ length: 499 }, (_, i) => `550-5.1.1 line ${i} ${LONG_LINE}`), '550 5.1.1 User unknown')),
    },
    final: { status: 'bounced', category: 'invalid-recipient' },
    attempts: ['bounced'],
    check: (run) => {
      const [event] = run.store.events(run.imported.campaignId, 1);
      assert.equal(event!.code, 550);
      assert.ok(event!.text.length <= 2_000, `stored reply text is bounded (${event!.text.length} chars)`);
    },
  },
  {
    fault: 'connection closed after RCPT',
    domain: 'closercpt.test',
    mx: ['mx.closercpt.test'],
    hosts: { 'mx.closercpt.test': '127.0.0.114' },
    raw: { 'mx.closercpt.test': onFirstRcpt((s) => s.close()) },
    waitMs: RETRY_WAIT_MS,
    final: { status: 'delivered', category: null },
    attempts: ['deferred', 'delivered'],
    firstCategory: 'network',
    check: (_run, world) => assert.equal(world.rawFor('mx.closercpt.test').received.length, 1),
  },
  {
    fault: 'connection closed mid-DATA',
    domain: 'drop.test',
    mx: ['mx.drop.test'],
    hosts: { 'mx.drop.test': '127.0.0.115' },
    sink: { 'mx.drop.test': { data: (ctx) => (ctx.attempt === 1 ? 'drop' : 'accept') } },
    waitMs: RETRY_WAIT_MS,
    final: { status: 'delivered', category: null },
    attempts: ['deferred', 'delivered'],
    firstCategory: 'network',
    check: (_run, world) => assert.equal(world.sinkFor('mx.drop.test').received.length, 1, 'the dropped attempt is not a delivery'),
  },
  {
    fault: '5xx after DATA',
    domain: 'spam.test',
    mx: ['mx.spam.test'],
    hosts: { 'mx.spam.test': '127.0.0.116' },
    sink: { 'mx.spam.test': { data: () => reply(554, '5.7.1 Message rejected as spam') } },
    final: { status: 'bounced', category: 'spam-block' },
    attempts: ['bounced'],
  },
  {
    fault: 'STARTTLS offered, handshake fails',
    domain: 'badtls.test',
    mx: ['mx.badtls.test'],
    hosts: { 'mx.badtls.test': '127.0.0.117' },
    raw: {
      'mx.badtls.test': (ev, s) => {
        if (ev.kind !== 'command') return false;
        if (ev.verb === 'EHLO') return s.reply('250-mx.badtls.test', '250-STARTTLS', '250 SIZE 10485760'), true;
        if (ev.verb !== 'STARTTLS') return false;
        // Agrees, then answers the ClientHello with bytes that are not TLS.
        s.reply('220 2.0.0 Ready to start TLS');
        s.write('this is not a TLS record\r\n');
        s.close();
        return true;
      },
    },
    final: { status: 'delivered', category: null },
    attempts: ['delivered'],
    check: (run, world) => {
      assert.equal(run.store.events(run.imported.campaignId, 1)[0]!.tls, 'none', 'delivered in plain text');
      assert.equal(world.rawFor('mx.badtls.test').connections, 2, 'one failed handshake, one plain-text session');
    },
  },
  {
    fault: 'dead MX (primary), secondary alive',
    domain: 'deadone.test',
    mx: ['mx1.deadone.test', 'mx2.deadone.test'],
    dead: { 'mx1.deadone.test': '127.0.0.118' },
    hosts: { 'mx2.deadone.test': '127.0.0.119' },
    final: { status: 'delivered', category: null },
    attempts: ['delivered'],
    check: (run) => assert.equal(run.store.events(run.imported.campaignId, 1)[0]!.mxHost, 'mx2.deadone.test'),
  },
  {
    fault: 'all MX dead',
    domain: 'alldead.test',
    mx: ['mx1.alldead.test', 'mx2.alldead.test'],
    dead: { 'mx1.alldead.test': '127.0.0.120', 'mx2.alldead.test': '127.0.0.121' },
    final: { status: 'deferred', category: 'network' },
    attempts: ['deferred'],
  },
  {
    fault: 'DNS SERVFAIL',
    domain: 'servfail.test',
    records: { servfail: true },
    final: { status: 'deferred', category: 'dns' },
    attempts: ['deferred'],
  },
  {
    fault: 'DNS timeout (no answer)',
    domain: 'dnstimeout.test',
    records: { noAnswer: true },
    final: { status: 'deferred', category: 'dns' },
    attempts: ['deferred'],
  },
  {
    fault: 'NXDOMAIN',
    domain: 'nxdomain.test',
    final: { status: 'bounced', category: 'bad-domain' },
    attempts: ['bounced'],
  },
  {
    fault: 'null MX (RFC 7505)',
    domain: 'nullmx.test',
    records: { nullMx: true },
    final: { status: 'bounced', category: 'bad-domain' },
    attempts: ['bounced'],
  },
  {
    fault: 'MX host does not resolve',
    domain: 'mxnx.test',
    mx: ['mx.nowhere.test'],
    final: { status: 'deferred', category: 'dns' },
    attempts: ['deferred'],
  },
  {
    fault: 'MX pointing at a CNAME',
    domain: 'cname.test',
    mx: ['alias.cname.test'],
    zones: { 'alias.cname.test': { cname: 'real.cname.test' } },
    hosts: { 'real.cname.test': '127.0.0.122' },
    final: { status: 'delivered', category: null },
    attempts: ['delivered'],
    check: (_run, world) => assert.equal(world.sinkFor('real.cname.test').received.length, 1),
  },
  {
    fault: 'IPv6-only MX on ::1, pool with an IPv6 source',
    domain: 'v6.test',
    mx: ['mx.v6.test'],
    hosts: { 'mx.v6.test': '::1' },
    config: { sources: ['127.0.1.1', '::1'] },
    final: { status: 'delivered', category: null },
    attempts: ['delivered'],
    check: (run, world) => {
      assert.equal(world.sinkFor('mx.v6.test').received[0]!.remoteAddress, '::1');
      assert.equal(run.store.events(run.imported.campaignId, 1)[0]!.sourceIp, '::1');
    },
  },
  {
    fault: 'IPv6-only MX on ::1, IPv4-only pool',
    domain: 'v6only.test',
    mx: ['mx.v6.test'],
    config: { sources: ['127.0.1.1'] },
    final: { status: 'deferred', category: 'network' },
    attempts: ['deferred'],
    check: (run) => assert.match(run.store.events(run.imported.campaignId, 1)[0]!.text, /IPv6/),
  },
];

/** Every row's piece of the world in one spec: one DNS server, one port for all sinks. */
function worldSpec(rows: Row[]): { spec: WorldSpec; dead: Record<string, ZoneRecord> } {
  const spec: Required<Pick<WorldSpec, 'domains' | 'hosts' | 'scripts' | 'raw'>> = { domains: {}, hosts: {}, scripts: {}, raw: {} };
  const extra: Record<string, ZoneRecord> = {};
  for (const row of rows) {
    spec.domains[row.domain] = { mx: row.mx, records: row.records };
    Object.assign(spec.hosts, row.hosts, {});
    Object.assign(spec.scripts, row.sink);
    Object.assign(spec.raw, row.raw);
    for (const [host, address] of Object.entries(row.dead ?? {})) extra[host] = { a: [address] };
    Object.assign(extra, row.zones);
  }
  // NXDOMAIN rows need their domain absent from the zones.
  for (const row of rows) if (!row.mx && !row.records) delete spec.domains[row.domain];
  return { spec, dead: extra };
}

// Sessions in the main thread and in a delivery thread (engine/delivery/thread-host.ts) alike.
for (const deliveryThreads of [0, 1]) {
  describe(`fault matrix (delivery threads: ${deliveryThreads})`, () => {
    let world: World;
    let dir: string;

    before(async () => {
      const { spec, dead } = worldSpec(ROWS);
      world = await startWorld(spec);
      for (const [name, rec] of Object.entries(dead)) world.dns.set(name, rec);
      dir = tempDir('mxpress-faults-');
    });

    after(async () => {
      await world.close();
    });

    for (const row of ROWS) {
      test(row.fault, { timeout: ROW_TIMEOUT_MS }, async () => {
        const config = writeConfig(tempDir('mxpress-fault-'), world, { ...row.config, deliveryThreads, timeouts: row.config?.timeouts ?? FAST });
        const csv = writeCsv(dir, [{ email: `x@${row.domain}` }], `${row.domain}.csv`);
        const run = await deliver(config, csv, {}, row.waitMs ?? 0);
        try {
          if (process.env.DBG) console.log(row.fault, JSON.stringify(run.store.events(run.imported.campaignId, 10)));
          const [counted] = run.summary.counts;
          assert.equal(run.summary.counts.length, 1, JSON.stringify(run.summary.counts));
          assert.deepEqual({ status: counted!.status, category: counted!.category }, row.final);
          const events = run.store.events(run.imported.campaignId, 10);
          assert.deepEqual(events.map((e) => e.status), row.attempts, JSON.stringify(events));
          if (row.firstCategory) assert.equal(events[0]!.category, row.firstCategory);
          row.check?.(run, world);
        } finally {
          run.store.close();
        }
      });
    }
  });
}

/**
 * After a rejected transaction the session sends RSET and carries on. The next MAIL must wait for
 * the RSET reply: sent earlier, the client took the RSET reply's effect (envelope cleared) for the
 * new transaction and threw. One source and one connection per path force both messages onto one
 * session, the rejected one first.
 */
for (const deliveryThreads of [0, 1]) {
  describe(`a session reused after a rejected transaction (delivery threads: ${deliveryThreads})`, () => {
    let world: World;

    before(async () => {
      world = await startWorld({
        domains: { 'reuse.test': { mx: ['mx.reuse.test'] } },
        hosts: { 'mx.reuse.test': '127.0.0.123' },
        scripts: { 'mx.reuse.test': { rcpt: (a) => (a.startsWith('a-gone') ? reply(550, '5.1.1 User unknown') : 'accept') } },
      });
    });

    after(async () => {
      await world.close();
    });

    test('waits for RSET before the next MAIL', { timeout: ROW_TIMEOUT_MS }, async () => {
      const dir = tempDir('mxpress-fault-');
      const config = writeConfig(dir, world, { sources: ['127.0.1.1'], timeouts: FAST, extraDelivery: 'max_connections_per_path = 1', deliveryThreads });
      const rows = [{ email: 'a-gone@reuse.test', name: 'A' }, ...Array.from({ length: 5 }, (_, i) => ({ email: `b${i}@reuse.test`, name: `B${i}` }))];
      const run = await deliver(config, writeCsv(dir, rows), {}, 0);
      try {
        assert.equal(run.count('bounced', 'invalid-recipient'), 1);
        assert.equal(run.count('delivered'), 5);
        assert.equal(world.sinkFor('mx.reuse.test').received.length, 5);
      } finally {
        run.store.close();
      }
    });
  });
}
