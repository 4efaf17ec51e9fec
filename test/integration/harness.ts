import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { loadConfig } from '../../engine/config/load.js';
import { importCampaignCsv } from '../../engine/ingress/import.js';
import { createEngine } from '../../engine/runtime.js';
import { untilQuiet } from '../../engine/scheduler/engine.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import type { CampaignInput, CampaignSummary, ImportResult, QueueStatus, Store } from '../../storage/store.js';
import type { World } from '../world/world.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const SOURCES = ['127.0.1.1', '127.0.1.2', '127.0.1.3'];

export function tempDir(prefix = 'mxpress-it-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface ConfigOptions {
  sources?: string[];
  retry?: string[];
  maxAge?: string;
  extraDelivery?: string;
  /** Small timeouts let fault tests run in seconds; defaults are the values below. */
  timeouts?: { connect?: string; greeting?: string; command?: string; dns?: string };
  /** Appended as is: further tables ([[dkim]], [bounce], …). */
  extraToml?: string;
  /** `[workers] delivery_threads`; not given: the default for this host. */
  deliveryThreads?: number;
}

/** A config pointing the engine at the test world: its DNS server, its SMTP port, 127.0.1.x sources. */
export function writeConfig(dir: string, world: World, o: ConfigOptions = {}): string {
  const sources = o.sources ?? SOURCES;
  const toml = [
    '[storage]',
    `path = "${join(dir, 'queue.db')}"`,
    '[dns]',
    `servers = ["${world.dns.server}"]`,
    `timeout = "${o.timeouts?.dns ?? '1s'}"`,
    'tries = 1',
    '[delivery]',
    `port = ${world.port}`,
    `connect_timeout = "${o.timeouts?.connect ?? '2s'}"`,
    `greeting_timeout = "${o.timeouts?.greeting ?? '3s'}"`,
    `command_timeout = "${o.timeouts?.command ?? '5s'}"`,
    'idle_timeout = "300ms"',
    o.extraDelivery ?? '',
    ...sources.flatMap((a, i) => ['[[sources]]', `address = "${a}"`, `helo = "mta${i + 1}.sender.test"`]),
    '[pools.default]',
    `sources = [${sources.map((a) => `"${a}"`).join(', ')}]`,
    '[retry]',
    `schedule = [${(o.retry ?? ['1s']).map((d) => `"${d}"`).join(', ')}]`,
    `max_age = "${o.maxAge ?? '1h'}"`,
    'jitter = 0',
    // Tests never take the fixed admin port: `start` serves the admin API on a free one.
    '[admin]',
    'listen = "127.0.0.1:0"',
    '[log]',
    'level = "warn"',
    o.deliveryThreads === undefined ? '' : `[workers]\ndelivery_threads = ${o.deliveryThreads}`,
    o.extraToml ?? '',
  ].join('\n');
  const path = join(dir, 'mxpress.toml');
  writeFileSync(path, `${toml}\n`);
  return path;
}

export function writeCsv(dir: string, rows: Record<string, string>[], name = 'recipients.csv'): string {
  const cols = Object.keys(rows[0] ?? { email: '' });
  const quote = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const body = [cols.join(','), ...rows.map((r) => cols.map((c) => quote(r[c] ?? '')).join(','))].join('\n');
  const path = join(dir, name);
  writeFileSync(path, `${body}\n`);
  return path;
}

export const CAMPAIGN: CampaignInput = {
  name: 'it',
  from: 'News <news@sender.test>',
  mailFrom: 'news@sender.test',
  subject: 'Hello {{name}}',
  html: '<p>Hi {{name}}</p>',
  text: 'Hi {{name}}',
  pool: 'default',
};

export interface InProcessRun {
  store: Store;
  imported: ImportResult;
  summary: CampaignSummary;
  count: (status: string, category?: string) => number;
}

/** Imports a CSV and runs the engine in this process until quiet: the same path `send` takes. */
export async function deliver(configPath: string, csv: string, campaign: Partial<CampaignInput> = {}, maxWaitMs = 10_000): Promise<InProcessRun> {
  const config = loadConfig(configPath);
  const store = openSqliteStore(config.storage.path);
  const engine = createEngine(config, store, pino({ level: 'silent' }));
  const imported = await importCampaignCsv(store, { ...CAMPAIGN, ...campaign }, csv);
  await engine.scheduler.run(untilQuiet(maxWaitMs)).finally(() => engine.close());
  const summary = store.campaignSummary(imported.campaignId);
  const count = (status: string, category?: string) =>
    summary.counts.filter((c) => c.status === status && (category === undefined || c.category === category)).reduce((n, c) => n + c.count, 0);
  return { store, imported, summary, count };
}

/** Imports a campaign in this process, as `send` would before delivering; `start` then finds it running. */
export async function importRows(configPath: string, dir: string, rows: Record<string, string>[], name = 'campaign'): Promise<ImportResult> {
  const csv = writeCsv(dir, rows, `${name}.csv`);
  const store = openSqliteStore(loadConfig(configPath).storage.path);
  try {
    return await importCampaignCsv(store, { ...CAMPAIGN, name }, csv);
  } finally {
    store.close();
  }
}

/** Reads the queue of a stopped (or running) engine's database. */
export function queueStatusOf(configPath: string): QueueStatus {
  const store = openSqliteStore(loadConfig(configPath).storage.path);
  try {
    return store.queueStatus(Date.now());
  } finally {
    store.close();
  }
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI from source, as `npx mxpress` would run the build. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'engine/cli/main.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((res) => child.on('close', (code, signal) => res({ code, signal, stdout, stderr })));
  return { child, done };
}

/** What `mxpress start` printed up to its banner's last line ("Stop with …"), waiting at most 30 s. */
export async function startBanner(child: ChildProcess): Promise<string> {
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 600 && !/Stop with/.test(out); i++) await sleep(50);
  return out;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<CliResult> {
  const { child, done } = startCli(args, env);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return done.finally(() => clearTimeout(timer));
}
