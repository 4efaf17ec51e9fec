/**
 * Stats endpoint latency on a 1,000,000-recipient campaign while delivery writes are ongoing.
 * The writer runs in the server's own event loop (engine and admin API share one process), claiming
 * and recording outcomes as the engine's recorder does (at 2,000/s, 4,000/s, then flat out); a client in another process
 * asks for GET /api/v1/campaigns/:id/stats (admin server, API key) one request after another over keep-alive.
 * `npm run bench:stats [-- --quick]`; prints a table, writes bench/results/stats.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { newApiKey } from '../admin/auth/session.js';
import { buildAdminServer } from '../admin/server.js';
import { defaultConfig } from '../engine/config/load.js';
import { openSqliteStore } from '../storage/sqlite/store.js';
import type { AttemptRecord, AttemptStatus, ClaimedRecipient, Store } from '../storage/store.js';

const quick = process.argv.includes('--quick');
const RECIPIENTS = quick ? 100_000 : 1_000_000;
const REQUESTS = quick ? 300 : 2000;
const BATCH = 500;
const DOMAINS = 2000;
const SOURCES = ['127.0.1.1', '127.0.1.2', '127.0.1.3', '127.0.1.4'];

function seed(store: Store): { campaignId: number; ms: number } {
  const start = performance.now();
  const id = store.beginImport({ name: 'bench', from: 'a@sender.test', mailFrom: 'a@sender.test', subject: 's', html: null, text: 't', pool: 'default' }, Date.now());
  for (let i = 0; i < RECIPIENTS; i += 10_000) {
    const rows = Array.from({ length: Math.min(10_000, RECIPIENTS - i) }, (_, j) => {
      const n = i + j;
      const domain = `d${n % DOMAINS}.test`;
      return { email: `u${n}@${domain}`, domain, attrs: { name: `U${n}` } };
    });
    store.addRecipients(id, rows, [], Date.now());
  }
  store.finishImport(id);
  return { campaignId: id, ms: performance.now() - start };
}

/** Outcome mix of a real campaign: mostly delivered, some deferred, a few bounced and expired. */
function outcome(n: number): { status: AttemptStatus; category: string | null; code: number } {
  const r = n % 100;
  if (r < 90) return { status: 'delivered', category: null, code: 250 };
  if (r < 96) return { status: 'deferred', category: 'greylisted', code: 451 };
  if (r < 99) return { status: 'bounced', category: 'invalid-recipient', code: 550 };
  return { status: 'expired', category: 'network', code: 421 };
}

function record(r: ClaimedRecipient, n: number, now: number): AttemptRecord {
  const o = outcome(n);
  return {
    recipientId: r.id,
    campaignId: r.campaignId,
    status: o.status,
    nextAttemptAt: o.status === 'deferred' ? now + 3_600_000 : null,
    category: o.category,
    sourceIp: SOURCES[n % SOURCES.length]!,
    mxHost: `mx.${r.domain}`,
    code: o.code,
    enhanced: null,
    text: o.code === 250 ? '250 2.0.0 Ok: queued' : `${o.code} reply`,
    durationMs: 20,
    tls: 'none',
    at: now,
  };
}

/**
 * Delivery writes as the engine makes them: claims of 500, outcomes recorded in one transaction
 * every 50 ms (the recorder's flush). `rate` outcomes/s, or null: flat out, yielding between batches.
 */
function startWriter(store: Store, rate: number | null): { stop: () => Promise<{ written: number; ms: number }> } {
  let running = true;
  let written = 0;
  let claimed: ClaimedRecipient[] = [];
  const start = performance.now();
  const step = (n: number): boolean => {
    const now = Date.now();
    if (claimed.length < n) claimed = claimed.concat(store.claimDue(now, BATCH, now + 600_000));
    const batch = claimed.splice(0, n);
    if (batch.length === 0) return false;
    store.recordAttempts(batch.map((r, i) => record(r, written + i, now)));
    written += batch.length;
    return true;
  };
  const done = (async () => {
    while (running) {
      const tick = performance.now();
      if (!step(rate === null ? BATCH : Math.round(rate / 20))) break;
      const wait = rate === null ? 0 : Math.max(0, 50 - (performance.now() - tick));
      await new Promise((res) => (wait > 0 ? setTimeout(res, wait) : setImmediate(res)));
    }
    return { written, ms: performance.now() - start };
  })();
  return {
    stop: () => {
      running = false;
      return done;
    },
  };
}

const CLIENT = `
const [url, n, key] = [process.argv[1], Number(process.argv[2]), process.argv[3]];
const lat = [];
for (let i = 0; i < n + 50; i++) {
  const t = performance.now();
  const res = await fetch(url, { headers: { authorization: 'Bearer ' + key } });
  if (res.status !== 200) { console.error('status ' + res.status); process.exit(1); }
  await res.arrayBuffer();
  if (i >= 50) lat.push(performance.now() - t);
}
process.stdout.write(JSON.stringify(lat));
`;

function runClient(url: string, n: number, key: string): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CLIENT, url, String(n), key], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`client exited ${code}`))));
  });
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mxpress-bench-stats-'));
  const store = openSqliteStore(join(dir, 'q.db'));
  const seeded = seed(store);
  console.log(`seeded ${RECIPIENTS.toLocaleString()} recipients over ${DOMAINS} domains in ${(seeded.ms / 1000).toFixed(1)} s`);
  // The whole admin server, with its API-key check on every request, as a program would call it.
  const user = store.addUser('bench@sender.test', 'admin', null, Date.now());
  const key = newApiKey();
  store.setApiKey(user.id, key.hash);
  const app = await buildAdminServer({ store, config: defaultConfig(), log: pino({ level: 'silent' }), registry: new Registry() });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `${address}/api/v1/campaigns/${seeded.campaignId}/stats`;

  const phases: { name: string; latencies: number[]; writer: { written: number; ms: number } | null }[] = [];
  phases.push({ name: 'idle', latencies: await runClient(url, Math.min(REQUESTS, 500), key.key), writer: null });
  for (const rate of [2000, 4000, null]) {
    const writer = startWriter(store, rate);
    const latencies = await runClient(url, REQUESTS, key.key);
    phases.push({ name: rate === null ? 'writing flat out' : `writing ${rate.toLocaleString()}/s`, latencies, writer: await writer.stop() });
  }
  const stats = (await (await fetch(url, { headers: { authorization: `Bearer ${key.key}` } })).json()) as { recipients: number; byState: Record<string, number>; domains: unknown[] };
  await app.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });

  const rows = phases.map(({ name, latencies, writer }) => {
    const l = [...latencies].sort((a, b) => a - b);
    return {
      phase: name,
      requests: l.length,
      'p50 ms': quantile(l, 0.5).toFixed(2),
      'p95 ms': quantile(l, 0.95).toFixed(2),
      'p99 ms': quantile(l, 0.99).toFixed(2),
      'max ms': l.at(-1)!.toFixed(2),
      'outcomes/s written': writer ? Math.round(writer.written / (writer.ms / 1000)) : 0,
    };
  });
  console.log(`GET /api/v1/campaigns/:id/stats on ${RECIPIENTS.toLocaleString()} recipients (${DOMAINS} domains, 4 sources); writes in this process`);
  console.table(rows);
  console.log(`final counters: ${stats.recipients.toLocaleString()} recipients, delivered ${stats.byState.delivered!.toLocaleString()}, per-domain rows ${stats.domains.length}`);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/stats.json',
    JSON.stringify({ at: new Date().toISOString(), recipients: RECIPIENTS, domains: DOMAINS, batch: BATCH, seedMs: seeded.ms, rows }, null, 2),
  );
}

await main();
