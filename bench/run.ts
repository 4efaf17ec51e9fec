/**
 * `npm run bench [-- --quick] [-- --only W1,compare-postfix] [-- --profile] [-- --node-sink] [-- --delivery-threads N] [-- --nice N]`
 * Runs the workloads of issue 4 against a loopback world (DNS + sinks), each in its own process,
 * prints a table and writes bench/results/run-<time>.json. Every process and port is freed at the end.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { benchArgs, wholeNumberOption } from './args.js';
import { comparePostfix, SMTP_SOURCE, type PostfixResult } from './compare-postfix.js';
import { POSTFIX } from './postfix.js';
import { startBenchWorld, type BenchWorld } from './world.js';
import type { WorkloadResult, WorkloadSpec } from './workload.js';

const RESULTS = 'bench/results';
const DOMAINS = 50;
const SITES = 5;
const SOURCES = Array.from({ length: 8 }, (_, i) => `127.0.1.${i + 1}`);

interface Sizes {
  deliver: number;
  importRows: number;
  big: number;
  postfix: number;
}
const FULL: Sizes = { deliver: 100_000, importRows: 1_000_000, big: 1_000_000, postfix: 100_000 };
const QUICK: Sizes = { deliver: 2_000, importRows: 20_000, big: 20_000, postfix: 2_000 };

interface Row {
  id: string;
  what: string;
  result?: WorkloadResult;
  postfix?: PostfixResult;
  error?: string;
}

function workloads(s: Sizes): { id: string; what: string; spec: Omit<WorkloadSpec, 'dns' | 'port'> }[] {
  const base = { kind: 'deliver' as const, domains: DOMAINS, sources: SOURCES };
  return [
    { id: 'W1', what: `${s.deliver} rcpts, 10 KB, RSA-2048`, spec: { ...base, recipients: s.deliver, kb: 10, dkim: ['rsa-sha256'] } },
    { id: 'W2', what: `${s.deliver} rcpts, 10 KB, Ed25519`, spec: { ...base, recipients: s.deliver, kb: 10, dkim: ['ed25519-sha256'] } },
    { id: 'W3', what: `${s.deliver} rcpts, 100 KB, RSA-2048`, spec: { ...base, recipients: s.deliver, kb: 100, dkim: ['rsa-sha256'] } },
    // W1 tracked (21 links and the pixel), the template prepared once, and the same parsed per message.
    { id: 'W1t', what: `${s.deliver} rcpts, 10 KB, RSA-2048, tracked`, spec: { ...base, recipients: s.deliver, kb: 10, dkim: ['rsa-sha256'], tracking: 'prepared' } },
    { id: 'W1u', what: `${s.deliver} rcpts, 10 KB, RSA-2048, tracked, not prepared`, spec: { ...base, recipients: s.deliver, kb: 10, dkim: ['rsa-sha256'], tracking: 'per-message' } },
    { id: 'W4', what: `import ${s.importRows} CSV rows`, spec: { ...base, kind: 'import', recipients: s.importRows, kb: 10, dkim: [] } },
    { id: 'W5', what: `${s.big} rcpts, 10 KB, RSA-2048 (peak RSS)`, spec: { ...base, recipients: s.big, kb: 10, dkim: ['rsa-sha256'] } },
  ];
}

/** How `npm start` runs the engine (package.json; docs/operations.md, memory): the workloads run the same way. */
const ENGINE_NODE_FLAGS = ['--max-semi-space-size=4'];
const ENGINE_ENV = { MALLOC_ARENA_MAX: '2' };

/**
 * `--built`: the workloads run compiled (dist/, as `npm start` runs the engine), not through tsx,
 * which otherwise loads its compiler into the engine and into every render worker.
 */
function buildWorkload(): string {
  // The build npm start uses (with its copy of the bounce rules), then the workload beside it.
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.bench.json'], { stdio: 'inherit' });
  return 'dist/bench/workload.js';
}

function runWorkload(spec: WorkloadSpec, profileDir: string | null, built: string | null): Promise<WorkloadResult> {
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const entry = built ? [built] : ['--import', 'tsx', 'bench/workload.ts'];
  const args = [...ENGINE_NODE_FLAGS, ...profile, ...entry, JSON.stringify(spec)];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...ENGINE_ENV } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) return resolve(JSON.parse(line) as WorkloadResult);
      reject(new Error(`workload exited with ${signal ?? code}: ${out.slice(-500)}`));
    });
  });
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function table(rows: Row[], world: BenchWorld, quick: boolean, built: boolean): string {
  const lines = [`mxpress bench${quick ? ' (quick)' : ''}: engine ${built ? 'built (dist/)' : 'under tsx'}; sink ${world.kind} on ${world.addresses.join(', ')} port ${world.port}; ${cpus().length} cores; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`];
  const w = (id: string) => rows.find((r) => r.id === id)?.result;
  const pf = rows.find((r) => r.id === 'compare-postfix')?.postfix;
  const data: Record<string, string>[] = [];
  for (const r of rows) {
    if (r.error) data.push({ workload: r.id, what: r.what, rate: `error: ${r.error.slice(0, 80)}` });
    else if (r.result) {
      const x = r.result;
      const unit = r.id === 'W4' ? 'rows/s' : 'msg/s';
      const missed = Object.entries(x.notDelivered).map(([k, v]) => `${k}:${v}`).join(' ');
      data.push({
        workload: r.id,
        what: r.what,
        done: fmt(x.count),
        seconds: fmt(x.seconds, 1),
        rate: `${fmt(x.perSecond)} ${unit}`,
        'peak RSS MB': fmt(x.peakRssMb),
        'start RSS MB': x.startRssMb ? fmt(x.startRssMb) : '',
        'CPU ms/msg': x.cpuMsPerMessage ? fmt(x.cpuMsPerMessage, 2) : '',
        'main ms/msg': x.mainCpuMsPerMessage ? fmt(x.mainCpuMsPerMessage, 3) : '',
        'dt': r.id === 'W4' ? '' : String(x.deliveryThreads),
        'nice': r.id === 'W4' ? '' : String(x.nice),
        'msg bytes': x.messageBytes === null ? '' : fmt(x.messageBytes),
        'vs Postfix d-o': pf && r.id !== 'W4' ? `${(x.perSecond / pf.deliveryOnly.perSecond).toFixed(2)}×` : '',
        'vs Postfix e2e': pf && r.id !== 'W4' ? `${(x.perSecond / pf.endToEnd.perSecond).toFixed(2)}×` : '',
        note: missed,
      });
    } else if (r.postfix) {
      for (const [name, p] of [['delivery-only', r.postfix.deliveryOnly], ['end-to-end', r.postfix.endToEnd]] as const) {
        data.push({ workload: `postfix ${name}`, what: r.what, done: fmt(p.messages), seconds: fmt(p.seconds, 1), rate: `${fmt(p.perSecond)} msg/s` });
      }
    }
  }
  const w1 = w('W1');
  const w5 = w('W5');
  const ratio = w1 && w5 ? `W5 peak RSS ÷ W1 peak RSS: ${(w5.peakRssMb / w1.peakRssMb).toFixed(2)}` : '';
  const cols = [...new Set(data.flatMap((d) => Object.keys(d)))];
  const width = cols.map((c) => Math.max(c.length, ...data.map((d) => (d[c] ?? '').length)));
  const render = (cells: string[]) => cells.map((c, i) => c.padEnd(width[i]!)).join(' | ');
  lines.push(render(cols), width.map((n) => '-'.repeat(n)).join('-|-'), ...data.map((d) => render(cols.map((c) => d[c] ?? ''))));
  if (ratio) lines.push(ratio);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const values = benchArgs('npm run bench -- [options]', {
    quick: { type: 'boolean' },
    only: { type: 'string' },
    profile: { type: 'boolean' },
    'node-sink': { type: 'boolean' },
    built: { type: 'boolean' },
    // Overrides of the sizes (e.g. a shorter full run on a busy machine); the table says what ran.
    deliver: { type: 'string' },
    rows: { type: 'string' },
    big: { type: 'string' },
    postfix: { type: 'string' },
    // `[workers] delivery_threads` for the delivery workloads; default: the engine's for this host.
    'delivery-threads': { type: 'string' },
    // `[workers] nice` (the render threads' nice increment); default: the engine's.
    nice: { type: 'string' },
  });
  const quick = values.quick ?? false;
  const only = values.only ? new Set(values.only.split(',')) : null;
  const base = quick ? QUICK : FULL;
  const size = (v: string | undefined, d: number) => (v === undefined ? d : Number(v));
  const sizes: Sizes = { deliver: size(values.deliver, base.deliver), importRows: size(values.rows, base.importRows), big: size(values.big, base.big), postfix: size(values.postfix, base.postfix) };
  for (const [k, v] of Object.entries(sizes)) {
    if (Number.isInteger(v) && v >= 1) continue;
    console.error(`--${k === 'importRows' ? 'rows' : k}: must be a whole number ≥ 1`);
    process.exit(2);
  }
  const deliveryThreads = wholeNumberOption('delivery-threads', values['delivery-threads']);
  const nice = wholeNumberOption('nice', values.nice);
  mkdirSync(RESULTS, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const profileDir = values.profile ? join(RESULTS, `profile-${stamp}`) : null;
  const built = values.built ? buildWorkload() : null;
  const world = await startBenchWorld(DOMAINS, SITES, values['node-sink'] ? 'node' : 'smtp-sink');
  const rows: Row[] = [];
  const stop = () => void world.close().finally(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    for (const { id, what, spec } of workloads(sizes)) {
      if (only && !only.has(id)) continue;
      process.stderr.write(`${id}: ${what} …\n`);
      const full: WorkloadSpec = { ...spec, deliveryThreads, nice, dns: world.dns.server, port: world.port };
      const row: Row = { id, what };
      try {
        row.result = await runWorkload(full, profileDir ? join(profileDir, id) : null, built);
      } catch (err) {
        row.error = (err as Error).message;
      }
      rows.push(row);
    }
    if (!only || only.has('compare-postfix')) {
      const what = `${sizes.postfix} msgs, 10 KB, unsigned, relay to sink`;
      const row: Row = { id: 'compare-postfix', what };
      if (!existsSync(POSTFIX) || !existsSync(SMTP_SOURCE)) row.error = 'Postfix not installed';
      else {
        process.stderr.write(`compare-postfix: ${what} …\n`);
        try {
          row.postfix = await comparePostfix({ address: world.addresses[0]!, port: world.port }, sizes.postfix, 10);
        } catch (err) {
          row.error = (err as Error).message;
        }
      }
      rows.push(row);
    }
  } finally {
    await world.close();
  }
  const text = table(rows, world, quick, built !== null);
  console.log(text);
  const file = join(RESULTS, `run-${stamp}.json`);
  writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), quick, built: built !== null, sink: world.kind, cores: cpus().length, cpu: cpus()[0]?.model, sizes, rows, profileDir }, null, 2));
  console.log(`\nJSON: ${file}${profileDir ? `\nCPU profiles (one folder per workload): ${profileDir}` : ''}`);
}

await main();
