/**
 * One workload in its own process (so peak RSS is this workload's alone, and `--cpu-prof` profiles
 * just it). Run by bench/run.ts: `node --import tsx bench/workload.ts '<json spec>'`; prints one JSON
 * line with the result on stdout.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../engine/config/load.js';
import type { Config } from '../engine/config/schema.js';
import { generateDkimKey, signerFromKeys } from '../engine/dkim/keys.js';
import { compileCampaign, renderMessage } from '../engine/render/message.js';
import type { DkimAlgorithm } from '../engine/dkim/sign.js';
import { importCampaignCsv } from '../engine/ingress/import.js';
import { createEngine } from '../engine/runtime.js';
import { decoratorFromConfig } from '../engine/tracking/decorator.js';
import { untilQuiet } from '../engine/scheduler/engine.js';
import { openSqliteStore } from '../storage/sqlite/store.js';
import type { Store } from '../storage/store.js';
import { benchCampaign, writeBenchCsv, type BenchTracking } from './content.js';
import { configToml } from './config-toml.js';
import { mainThreadCpuMs } from './thread-cpu.js';

export interface WorkloadSpec {
  kind: 'deliver' | 'import';
  recipients: number;
  domains: number;
  kb: number;
  dkim: DkimAlgorithm[];
  sources: string[];
  /** Tracked links and the open pixel, the template prepared once or parsed per message (bench/content.ts). */
  tracking?: BenchTracking;
  /** `[workers] threads` (render threads); not given: the engine's default for this host. */
  threads?: number;
  /** `[workers] delivery_threads`; not given: the engine's default for this host. */
  deliveryThreads?: number;
  /** `[workers] nice`; not given: the engine's default. */
  nice?: number;
  /** The bench world's DNS server and SMTP port (deliver only). */
  dns?: string;
  port?: number;
}

export interface WorkloadResult {
  /** Recipients delivered (deliver) or rows imported (import). */
  count: number;
  seconds: number;
  perSecond: number;
  importSeconds: number;
  peakRssMb: number;
  /** RSS after the engine's workers started and before the first claim: the engine's fixed cost. */
  startRssMb: number;
  /**
   * CPU time (user + system, this process's threads together) per delivered recipient while
   * delivering, in ms. Less disturbed by other processes on the machine than the rate: it counts
   * only the work this process did.
   */
  cpuMsPerMessage: number | null;
  /** Of it, the main thread's (Linux only): what bounds the rate on a host with cores to spare. */
  mainCpuMsPerMessage: number | null;
  messageBytes: number | null;
  threads: number;
  deliveryThreads: number;
  /** `[workers] nice` the render threads ran at. */
  nice: number;
  notDelivered: Record<string, number>;
}

/** Samples RSS (this process and its worker threads) until stopped. */
function rssSampler(): () => number {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 100);
  return () => {
    clearInterval(timer);
    return Math.max(peak, process.memoryUsage.rss());
  };
}

/** The size of one rendered, signed message of the campaign (what goes over DATA). */
async function sampleSize(config: Config, store: Store, campaignId: number): Promise<number> {
  const m = config.message;
  const deps = { signer: signerFromKeys(m.dkim), decorator: decoratorFromConfig(config.tracking, store), xMailer: m.xMailer, feedbackId: m.feedbackId };
  const c = compileCampaign(store.getCampaign(campaignId)!, [], deps);
  return (await renderMessage(c, { id: 1, email: 'user1@d1.test', attrs: { name: 'Name1', city: 'Lyon' } }, deps)).length;
}

async function run(spec: WorkloadSpec): Promise<WorkloadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'mxpress-bench-'));
  try {
    const configPath = join(dir, 'mxpress.toml');
    writeFileSync(configPath, configToml(dir, spec));
    const config = loadConfig(configPath, {});
    const csv = join(dir, 'recipients.csv');
    await writeBenchCsv(csv, spec.recipients, spec.domains);
    const store = openSqliteStore(config.storage.path);
    const peak = rssSampler();
    const t0 = performance.now();
    const imported = await importCampaignCsv(store, benchCampaign(spec.kb, spec.tracking), csv);
    const importSeconds = (performance.now() - t0) / 1000;
    const base = { importSeconds, threads: config.workers.threads, deliveryThreads: config.workers.deliveryThreads, nice: config.workers.nice, messageBytes: null, notDelivered: {}, startRssMb: 0, cpuMsPerMessage: null, mainCpuMsPerMessage: null };
    if (spec.kind === 'import') {
      store.close();
      return { ...base, count: imported.accepted, seconds: importSeconds, perSecond: imported.accepted / importSeconds, peakRssMb: peak() / 2 ** 20 };
    }
    const messageBytes = await sampleSize(config, store, imported.campaignId);
    const engine = createEngine(config, store, pino({ level: 'warn' }));
    const startRssMb = process.memoryUsage.rss() / 2 ** 20;
    const t1 = performance.now();
    const cpu0 = process.cpuUsage();
    const main0 = mainThreadCpuMs();
    await engine.scheduler.run(untilQuiet(1000)).finally(() => engine.close());
    const seconds = (performance.now() - t1) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const main1 = mainThreadCpuMs();
    const rss = peak();
    const summary = store.campaignSummary(imported.campaignId);
    const delivered = summary.counts.filter((c) => c.status === 'delivered').reduce((n, c) => n + c.count, 0);
    const notDelivered: Record<string, number> = {};
    for (const c of summary.counts) if (c.status !== 'delivered') notDelivered[`${c.status}${c.category ? `/${c.category}` : ''}`] = c.count;
    store.close();
    const cpuMsPerMessage = delivered > 0 ? (cpu.user + cpu.system) / 1000 / delivered : null;
    const mainCpuMsPerMessage = delivered > 0 && main0 && main1 ? (main1.user + main1.system - main0.user - main0.system) / delivered : null;
    return { ...base, startRssMb, messageBytes, cpuMsPerMessage, mainCpuMsPerMessage, count: delivered, seconds, perSecond: delivered / seconds, peakRssMb: rss / 2 ** 20, notDelivered };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const spec = JSON.parse(process.argv[2] ?? '{}') as WorkloadSpec;
const result = await run(spec);
process.stdout.write(`${JSON.stringify(result)}\n`);
