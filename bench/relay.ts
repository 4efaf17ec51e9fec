/**
 * `npm run bench:relay [-- --n 5000] [-- --kb 10]`: SMTP relay end to end, mxpress against Postfix
 * in the same run (issue 6). Postfix's smtp-source injects `n` messages of `kb` KB into each over 20
 * parallel sessions; both relay to the same smtp-sink. Time: from the first connection to the last
 * message delivered. mxpress takes the mail on its submission listener (relay network 127.0.0.1/32,
 * no AUTH, as Postfix's mynetworks), commits each message before its 250, and delivers it.
 * Prints a table and writes bench/results/relay-<time>.json.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { pino } from 'pino';
import { apiKeySubmitter } from '../admin/auth/session.js';
import { loadConfig } from '../engine/config/load.js';
import { createEngine } from '../engine/runtime.js';
import { Intake } from '../engine/submission/intake.js';
import { startConfiguredSubmission } from '../engine/submission/start.js';
import { openSqliteStore } from '../storage/sqlite/store.js';
import { comparePostfix, SMTP_SOURCE } from './compare-postfix.js';
import { configToml } from './config-toml.js';
import { startBenchWorld } from './world.js';

const run = promisify(execFile);
const SESSIONS = 20;
const SOURCES = ['127.0.1.1', '127.0.1.2', '127.0.1.3', '127.0.1.4'];

interface Measured {
  messages: number;
  /** smtp-source start → its exit: every message acknowledged. */
  acceptSeconds: number;
  /** smtp-source start → the last message delivered. */
  seconds: number;
  perSecond: number;
}

async function mxpressRelay(world: { dns: string; port: number }, n: number, kb: number): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'mxpress-relay-'));
  try {
    const configPath = join(dir, 'mxpress.toml');
    const submission = ['[submission]', 'enabled = true', 'listen = "127.0.0.1:0"', 'rate = "1000000/s"', 'relay_networks = ["127.0.0.1/32"]', 'relay_user = "bench@sender.test"'].join('\n');
    writeFileSync(configPath, configToml(dir, { kind: 'deliver', recipients: n, domains: 1, kb, dkim: ['rsa-sha256'], sources: SOURCES, dns: world.dns, port: world.port }, submission));
    const config = loadConfig(configPath, {});
    const store = openSqliteStore(config.storage.path);
    store.addUser('bench@sender.test', 'sender', null, Date.now());
    const log = pino({ level: 'warn' });
    const engine = createEngine(config, store, log);
    const server = await startConfiguredSubmission(config, store, log, { verify: apiKeySubmitter(store), intake: new Intake(store, config.submission.rate, () => engine.scheduler.wake()) });
    try {
      const delivered = () => store.recipientCountsByStatus().delivered;
      const t0 = performance.now();
      let acceptSeconds = 0;
      const source = smtpSource(server.port, n, kb).then(() => (acceptSeconds = (performance.now() - t0) / 1000));
      await engine.scheduler.run(({ inFlight }) => inFlight === 0 && delivered() >= n);
      const seconds = (performance.now() - t0) / 1000;
      await source;
      return { messages: delivered(), acceptSeconds, seconds, perSecond: delivered() / seconds };
    } finally {
      await server.close();
      await engine.close();
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function smtpSource(port: number, n: number, kb: number): Promise<unknown> {
  // -d: keep the connection for the next message; -l: payload bytes; -m: messages in all.
  const args = ['-4', '-d', '-s', String(SESSIONS), '-l', String(kb * 1024), '-m', String(n), '-f', 'news@sender.test', '-t', 'user0@d0.test', `127.0.0.1:${port}`];
  return run(SMTP_SOURCE, args, { maxBuffer: 16 * 2 ** 20 });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { n: { type: 'string', default: '5000' }, kb: { type: 'string', default: '10' } } });
  const n = Number(values.n);
  const kb = Number(values.kb);
  const world = await startBenchWorld(1, 1);
  try {
    const sink = { address: world.addresses[0]!, port: world.port };
    process.stderr.write(`relay: ${n} × ${kb} KB, ${SESSIONS} smtp-source sessions, sink ${world.kind}; mxpress …\n`);
    const mx = await mxpressRelay({ dns: world.dns.server, port: world.port }, n, kb);
    process.stderr.write('relay: postfix …\n');
    const pf = await comparePostfix(sink, n, kb);
    const rows = [
      ['mxpress (submission → queue → sink)', mx.acceptSeconds, mx.seconds, mx.perSecond],
      ['postfix (smtpd → queue → sink)', null, pf.endToEnd.seconds, pf.endToEnd.perSecond],
    ] as const;
    const lines = [
      `| system | accepted all (s) | end to end (s) | msg/s |`,
      `|---|---|---|---|`,
      ...rows.map(([name, accept, secs, rate]) => `| ${name} | ${accept === null ? '-' : accept.toFixed(1)} | ${secs.toFixed(1)} | ${rate.toFixed(0)} |`),
      '',
      `mxpress / postfix end to end: ${(mx.perSecond / pf.endToEnd.perSecond).toFixed(2)}× (target 3×); ${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)} at the end.`,
    ];
    console.log(lines.join('\n'));
    mkdirSync('bench/results', { recursive: true });
    writeFileSync(join('bench/results', `relay-${Date.now()}.json`), JSON.stringify({ n, kb, mxpress: mx, postfix: pf }, null, 2));
  } finally {
    await world.close();
  }
}

await main();
