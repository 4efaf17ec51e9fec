/**
 * The crash test (issue #7): a campaign is imported, then `mxpress start` (a child process, real
 * sockets, the test world's sinks) is killed with SIGKILL at random moments, restarted each time,
 * and finally left to finish. What the sinks received is compared with what was queued.
 *
 * Kill moments are random but reproducible (a seeded generator; the seed is printed): most land
 * after a random share of the campaign has been received plus a random delay, some at a random
 * moment right after the start (while the engine takes its lock, releases the dead one's leases,
 * claims its first batches).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { QueueStatus } from '../../storage/store.js';
import { makeDomains, startWorld, type World } from '../world/world.js';
import { importRows, queueStatusOf, startCli, tempDir, writeConfig, type CliResult } from './harness.js';

export interface CrashOptions {
  recipients: number;
  kills: number;
  seed: number;
  /** Progress line per kill (the test prints them). */
  log: (line: string) => void;
}

export interface Kill {
  no: number;
  /** `early`: a random moment after the start; `midway`: after a random share was received. */
  mode: 'early' | 'midway';
  /** Milliseconds from the engine's spawn to the SIGKILL. */
  afterMs: number;
  /** Messages received by all sinks at the moment of the kill (duplicates included). */
  receivedAtKill: number;
}

export interface CrashResult {
  recipients: number;
  kills: Kill[];
  /** Distinct recipients received at least once. */
  received: number;
  lost: number;
  /** Messages beyond the first per recipient. */
  duplicates: number;
  /** The bound docs/guarantees.md states for one crash, with this run's settings. */
  boundPerCrash: number;
  final: QueueStatus;
  finalExit: CliResult;
  elapsedMs: number;
}

/** mulberry32: small, seeded, good enough to pick kill moments. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The engine's own settings (runtime.ts, config defaults) that bound what a crash can duplicate.
const RECORDER_BATCH = 500;
const MAX_CONNECTIONS = 200;
const EARLY_SHARE = 0.2;
const EARLY_MAX_MS = 2_000;
const MIDWAY_DELAY_MAX_MS = 300;
/** Longest a cycle may go without the sinks seeing progress: a hung engine fails the test. */
const STALL_MS = 120_000;

function messagesReceived(world: World): number {
  let n = 0;
  for (const sink of world.sinks.values()) n += sink.received.length;
  return n;
}

function receivedCounts(world: World): Map<string, number> {
  const counts = new Map<string, number>();
  for (const sink of world.sinks.values()) for (const m of sink.received) for (const r of m.rcptTo) counts.set(r, (counts.get(r) ?? 0) + 1);
  return counts;
}

async function waitFor(world: World, target: number, child: ReturnType<typeof startCli>): Promise<void> {
  let last = messagesReceived(world);
  let lastProgress = Date.now();
  while (last < target) {
    if (child.child.exitCode !== null || child.child.signalCode !== null) {
      const r = await child.done;
      throw new Error(`engine exited by itself (code ${r.code}, signal ${r.signal}): ${r.stderr.slice(-2000)}`);
    }
    await sleep(10);
    const now = messagesReceived(world);
    if (now > last) [last, lastProgress] = [now, Date.now()];
    if (Date.now() - lastProgress > STALL_MS) throw new Error(`no progress for ${STALL_MS} ms at ${last} of ${target} messages`);
  }
}

async function killOnce(world: World, config: string, no: number, target: number, rnd: () => number): Promise<Kill> {
  const spawnedAt = Date.now();
  const engine = startCli(['start', '--config', config]);
  // The first kill always lands mid-delivery, so even the short version kills a busy engine.
  const mode: Kill['mode'] = no > 1 && rnd() < EARLY_SHARE ? 'early' : 'midway';
  if (mode === 'early') await sleep(Math.floor(rnd() * EARLY_MAX_MS));
  else {
    await waitFor(world, target, engine);
    await sleep(Math.floor(rnd() * MIDWAY_DELAY_MAX_MS));
  }
  engine.child.kill('SIGKILL');
  const afterMs = Date.now() - spawnedAt;
  const receivedAtKill = messagesReceived(world);
  const r = await engine.done;
  if (r.signal !== 'SIGKILL') throw new Error(`kill ${no}: engine had already exited (code ${r.code}): ${r.stderr.slice(-2000)}`);
  return { no, mode, afterMs, receivedAtKill };
}

async function untilSettled(config: string, engine: ReturnType<typeof startCli>): Promise<void> {
  const deadline = Date.now() + STALL_MS;
  for (;;) {
    const s = queueStatusOf(config);
    if (s.byStatus.queued + s.byStatus.deferred === 0 && s.inFlight === 0) return;
    if (Date.now() > deadline) return;
    if (engine.child.exitCode !== null) return;
    await sleep(200);
  }
}

export async function crashCampaign(o: CrashOptions): Promise<CrashResult> {
  const started = Date.now();
  const rnd = seeded(o.seed);
  const spec = makeDomains(40, 8);
  const world = await startWorld({ ...spec, keepData: false });
  try {
    const dir = tempDir('mxpress-crash-');
    const config = writeConfig(dir, world);
    const domains = Object.keys(spec.domains);
    await importRows(config, dir, Array.from({ length: o.recipients }, (_, i) => ({ email: `c${i}@${domains[i % domains.length]}`, name: `N${i}` })), 'crash');
    const kills: Kill[] = [];
    for (let i = 1; i <= o.kills; i++) {
      // Midway kills spread over the campaign: the i-th after about i/(kills+1) of it.
      const target = Math.floor((o.recipients * (i - 0.5 + rnd())) / (o.kills + 1));
      const kill = await killOnce(world, config, i, target, rnd);
      kills.push(kill);
      o.log(`kill ${String(i).padStart(2)}: ${kill.mode.padEnd(6)} after ${String(kill.afterMs).padStart(6)} ms, ${kill.receivedAtKill} messages received`);
    }
    const engine = startCli(['start', '--config', config]);
    let counts = receivedCounts(world);
    while (counts.size < o.recipients) {
      // Stalled with recipients missing: stop and report them as lost rather than wait forever.
      const progressed = await waitFor(world, messagesReceived(world) + (o.recipients - counts.size), engine).then(() => true, (err: Error) => {
        if (!err.message.startsWith('no progress')) throw err;
        return false;
      });
      counts = receivedCounts(world);
      if (!progressed) break;
    }
    // Received is not finished: a recipient whose reply was lost after the server took the message
    // (a timeout on a loaded machine) is deferred and will be sent again. Wait for the queue to settle.
    await untilSettled(config, engine);
    engine.child.kill('SIGTERM');
    const finalExit = await engine.done;
    const final = queueStatusOf(config);
    const messages = [...counts.values()].reduce((a, b) => a + b, 0);
    return {
      recipients: o.recipients,
      kills,
      received: counts.size,
      lost: o.recipients - counts.size,
      duplicates: messages - counts.size,
      // Every recipient gets its own message (the campaign has merge tags): one recipient per transaction.
      boundPerCrash: RECORDER_BATCH + MAX_CONNECTIONS * 1,
      final,
      finalExit,
      elapsedMs: Date.now() - started,
    };
  } finally {
    await world.close();
  }
}
