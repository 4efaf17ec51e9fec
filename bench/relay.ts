/**
 * `npm run bench:relay [-- --n 5000] [-- --rounds R] [-- --kb 10] [-- --profile] [-- --no-postfix]
 * [-- --threads N] [-- --delivery-threads N] [-- --nice N] [-- --no-dkim]`: SMTP relay end to end, mxpress against
 * Postfix in the same run (issue 6). Postfix's smtp-source injects `n` messages of `kb` KB into each
 * over 20 parallel sessions; both relay to the same smtp-sink. Time: from the first connection to
 * the last message delivered. Postfix's rate moves run to run more than ours, so `--rounds R` runs
 * the pair R times, alternated, and prints each round's ratio and their median. mxpress takes the mail on its submission
 * listener (relay network 127.0.0.1/32, no AUTH, as Postfix's mynetworks), commits each message
 * before its 250, and delivers it. CPU per message (this process: all threads, and the main thread
 * alone) is the figure that stays comparable on a loaded machine. `--profile` writes a V8 CPU profile
 * of the main thread during the mxpress run (read it with `tsx bench/profile.ts <file>`).
 * mxpress DKIM-signs each message (RSA-2048) unless `--no-dkim`: Postfix here signs nothing, so
 * `--no-dkim` is the like-for-like comparison, and the default is what a sender domain with a key costs.
 * Prints a table and writes bench/results/relay-<time>.json.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { apiKeySubmitter } from '../admin/auth/session.js';
import { loadConfig } from '../engine/config/load.js';
import { createEngine } from '../engine/runtime.js';
import { Intake } from '../engine/submission/intake.js';
import { startConfiguredSubmission } from '../engine/submission/start.js';
import { openSqliteStore } from '../storage/sqlite/store.js';
import { benchArgs, wholeNumberOption } from './args.js';
import { comparePostfix, SMTP_SOURCE } from './compare-postfix.js';
import { configToml } from './config-toml.js';
import { mainThreadCpuMs } from './thread-cpu.js';
import { startBenchWorld } from './world.js';
import type { WorkloadSpec } from './workload.js';

const run = promisify(execFile);
const SESSIONS = 20;
const SOURCES = ['127.0.1.1', '127.0.1.2', '127.0.1.3', '127.0.1.4'];

interface Measured {
  messages: number;
  /** smtp-source start → its exit: every message acknowledged. */
  acceptSeconds: number;
  /** Messages delivered by the time smtp-source exited: how far delivery kept up with intake. */
  deliveredAtAccept: number;
  /** smtp-source start → the last message delivered. */
  seconds: number;
  perSecond: number;
  /** CPU milliseconds per delivered message: the whole process (main thread, render workers, the DNS server), and the main thread alone. */
  cpuMsPerMessage: number;
  mainCpuMsPerMessage: number | null;
  /** Of that, in the kernel (socket writes, fsync). */
  mainSystemMsPerMessage: number | null;
  /** The `[workers]` settings the engine ran with. */
  threads: number;
  deliveryThreads: number;
  nice: number;
  /** Signed with RSA-2048 (the default), or not (`--no-dkim`). */
  dkim: boolean;
}

/** A V8 CPU profile of this (the main) thread, from start() until the returned stop writes it. */
async function startProfile(): Promise<(file: string) => Promise<void>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async (file) => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

interface RelayRun {
  n: number;
  kb: number;
  workers: Pick<WorkloadSpec, 'threads' | 'deliveryThreads' | 'nice'>;
  dkim: boolean;
}

async function mxpressRelay(world: { dns: string; port: number }, { n, kb, workers, dkim }: RelayRun, profileFile: string | null): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'mxpress-relay-'));
  try {
    const configPath = join(dir, 'mxpress.toml');
    const submission = ['[submission]', 'enabled = true', 'listen = "127.0.0.1:0"', 'rate = "1000000/s"', 'relay_networks = ["127.0.0.1/32"]', 'relay_user = "bench@sender.test"'].join('\n');
    writeFileSync(configPath, configToml(dir, { kind: 'deliver', recipients: n, domains: 1, kb, dkim: dkim ? ['rsa-sha256'] : [], sources: SOURCES, ...workers, dns: world.dns, port: world.port }, submission));
    const config = loadConfig(configPath, {});
    const store = openSqliteStore(config.storage.path);
    store.addUser('bench@sender.test', 'sender', null, Date.now());
    const log = pino({ level: 'warn' });
    // Counted as recorded: a count query in the claim loop's stop test would be the bench's own cost.
    let deliveredSoFar = 0;
    const engine = createEngine(config, store, log, { onRecord: (rec) => void (rec.status === 'delivered' && deliveredSoFar++) });
    const server = await startConfiguredSubmission(config, store, log, { verify: apiKeySubmitter(store), intake: new Intake(store, config.submission.rate, (stored) => engine.submitted(stored)) });
    try {
      const delivered = () => store.recipientCountsByStatus().delivered;
      const stopProfile = profileFile ? await startProfile() : null;
      const cpu0 = process.cpuUsage();
      const main0 = mainThreadCpuMs();
      const t0 = performance.now();
      let acceptSeconds = 0;
      let deliveredAtAccept = 0;
      const source = smtpSource(server.port, n, kb).then(() => {
        acceptSeconds = (performance.now() - t0) / 1000;
        deliveredAtAccept = deliveredSoFar;
      });
      await engine.scheduler.run(({ inFlight }) => inFlight === 0 && deliveredSoFar >= n);
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const main1 = mainThreadCpuMs();
      await stopProfile?.(profileFile!);
      await source;
      const messages = delivered();
      return {
        messages,
        acceptSeconds,
        deliveredAtAccept,
        seconds,
        perSecond: messages / seconds,
        cpuMsPerMessage: (cpu.user + cpu.system) / 1000 / messages,
        mainCpuMsPerMessage: main0 && main1 ? (main1.user + main1.system - main0.user - main0.system) / messages : null,
        mainSystemMsPerMessage: main0 && main1 ? (main1.system - main0.system) / messages : null,
        threads: config.workers.threads,
        deliveryThreads: config.workers.deliveryThreads,
        nice: config.workers.nice,
        dkim,
      };
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
  const values = benchArgs('npm run bench:relay -- [options]', {
    n: { type: 'string', default: '5000' },
    // mxpress then Postfix, this many times over: the ratio of each round, and their median.
    rounds: { type: 'string', default: '1' },
    kb: { type: 'string', default: '10' },
    profile: { type: 'boolean' },
    'no-postfix': { type: 'boolean' },
    // `[workers] threads` (render threads); default: the engine's for this host.
    threads: { type: 'string' },
    // `[workers] delivery_threads`; default: the engine's for this host.
    'delivery-threads': { type: 'string' },
    // `[workers] nice` (the render threads' nice increment); default: the engine's.
    nice: { type: 'string' },
    // No DKIM key for the sender domain: like for like with Postfix, which signs nothing here.
    'no-dkim': { type: 'boolean' },
  });
  const n = Number(values.n);
  const kb = Number(values.kb);
  const rounds = Number(values.rounds);
  for (const [name, v] of [['n', n], ['kb', kb], ['rounds', rounds]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      console.error(`--${name}: must be a whole number ≥ 1`);
      process.exit(2);
    }
  }
  const workers = {
    threads: wholeNumberOption('threads', values.threads),
    deliveryThreads: wholeNumberOption('delivery-threads', values['delivery-threads']),
    nice: wholeNumberOption('nice', values.nice),
  };
  const stamp = Date.now();
  mkdirSync('bench/results', { recursive: true });
  const profileFile = values.profile ? join('bench/results', `relay-${stamp}-main.cpuprofile`) : null;
  const world = await startBenchWorld(1, 1);
  try {
    const sink = { address: world.addresses[0]!, port: world.port };
    const measured: { mxpress: Measured; postfix: PostfixResult | null }[] = [];
    for (let round = 1; round <= rounds; round++) {
      process.stderr.write(`relay: ${n} × ${kb} KB, ${SESSIONS} smtp-source sessions, sink ${world.kind}, round ${round} of ${rounds}; mxpress …\n`);
      const mx = await mxpressRelay({ dns: world.dns.server, port: world.port }, { n, kb, workers, dkim: !values['no-dkim'] }, round === 1 ? profileFile : null);
      const pf = values['no-postfix'] ? null : (process.stderr.write('relay: postfix …\n'), await comparePostfix(sink, n, kb));
      measured.push({ mxpress: mx, postfix: pf });
    }
    console.log(report(measured, profileFile).join('\n'));
    writeFileSync(join('bench/results', `relay-${stamp}.json`), JSON.stringify({ n, kb, rounds: measured }, null, 2));
  } finally {
    await world.close();
  }
}

type PostfixResult = Awaited<ReturnType<typeof comparePostfix>>;

/** The table: a row per system and round, then the ratio of each round and their median. */
function report(measured: { mxpress: Measured; postfix: PostfixResult | null }[], profileFile: string | null): string[] {
  const rows = measured.flatMap(({ mxpress: mx, postfix: pf }, i) => {
    const main = mx.mainCpuMsPerMessage === null ? '?' : `${mx.mainCpuMsPerMessage.toFixed(2)}, of it ${mx.mainSystemMsPerMessage!.toFixed(2)} system`;
    const round = measured.length > 1 ? `, round ${i + 1}` : '';
    return [
      `| mxpress (submission → queue → sink)${round} | ${mx.acceptSeconds.toFixed(1)} | ${mx.seconds.toFixed(1)} | ${mx.perSecond.toFixed(0)} | ${mx.cpuMsPerMessage.toFixed(2)} (main thread ${main}) |`,
      ...(pf ? [`| postfix (smtpd → queue → sink)${round} | - | ${pf.endToEnd.seconds.toFixed(1)} | ${pf.endToEnd.perSecond.toFixed(0)} | - |`] : []),
    ];
  });
  const ratios = measured.flatMap(({ mxpress, postfix }) => (postfix ? [mxpress.perSecond / postfix.endToEnd.perSecond] : []));
  const sorted = [...ratios].sort((a, b) => a - b);
  const median = sorted.length === 0 ? null : (sorted[Math.floor((sorted.length - 1) / 2)]! + sorted[Math.ceil((sorted.length - 1) / 2)]!) / 2;
  const last = measured.at(-1)!.mxpress;
  const ratioLine = median === null ? '' : `mxpress / postfix end to end: ${ratios.map((r) => `${r.toFixed(2)}×`).join(', ')}${ratios.length > 1 ? ` (median ${median.toFixed(2)}×)` : ''} (target 3×); `;
  return [
    `| system | accepted all (s) | end to end (s) | msg/s | CPU ms/msg |`,
    `|---|---|---|---|---|`,
    ...rows,
    '',
    `${ratioLine}${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)} at the end; mxpress ${last.dkim ? 'signing RSA-2048' : 'not signing (--no-dkim)'}, with ${last.threads} render and ${last.deliveryThreads} delivery threads, render threads at nice +${last.nice}.`,
    ...(profileFile ? [`main-thread CPU profile (round 1): ${profileFile}`] : []),
  ];
}

await main();
