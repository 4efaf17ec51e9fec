/**
 * The render worker (a piscina task function): builds and signs one message per task. Each worker
 * parses the DKIM keys once (from workerData) and keeps the campaigns it has compiled; the main
 * thread sends a campaign's row only when a worker asks for it.
 */
import { Piscina } from 'piscina';
import { workerData } from 'node:worker_threads';
import { signerFromKeys, type KeySpec } from '../dkim/keys.js';
import { trackingDecorator, type TrackingOptions } from '../tracking/decorator.js';
import type { RenderDeps, RenderInput } from './message.js';
import { CompiledCache, renderCollecting, type CampaignSource } from './renderer.js';

/** Plain data, cloned into every worker: what RenderDeps is built from there. */
export interface WorkerSetup {
  dkim: KeySpec[];
  xMailer: string;
  feedbackId: string;
  /** Tracking links and unsubscribe targets; null: none. */
  tracking: TrackingOptions | null;
}

export interface RenderTask {
  campaignId: number;
  /** Present on the first task for a campaign a worker did not know, absent otherwise. */
  source: CampaignSource | null;
  recipient: RenderInput;
}

export type RenderReply = { kind: 'rendered'; message: Uint8Array; missing: string[] } | { kind: 'unknown-campaign' };

// The state of this worker thread, built once when piscina loads the module in it.
const setup = workerData as WorkerSetup;
// The key arrives as a Uint8Array (a Buffer does not survive the clone as a Buffer).
const tracking = setup.tracking ? trackingDecorator({ ...setup.tracking, key: Buffer.from(setup.tracking.key) }) : null;
const deps: RenderDeps = { signer: signerFromKeys(setup.dkim), decorator: tracking, xMailer: setup.xMailer, feedbackId: setup.feedbackId };
const cache = new CompiledCache(deps);

export default async function renderTask(task: RenderTask): Promise<RenderReply> {
  const c = cache.get(task.campaignId) ?? (task.source ? cache.add(task.source) : null);
  if (!c) return { kind: 'unknown-campaign' };
  const { message, missing } = await renderCollecting(c, task.recipient, deps);
  // Moved, not copied, back to the main thread. A small Buffer may be a slice of Node's shared pool,
  // which must not be transferred: copy those into their own memory first.
  const own = message.byteOffset === 0 && message.byteLength === message.buffer.byteLength ? message : new Uint8Array(message);
  const reply: RenderReply = { kind: 'rendered', message: own, missing };
  // piscina's .d.ts names the interface by its private symbols; the documented public ones are these.
  const transferable = { [Piscina.transferableSymbol]: own.buffer, [Piscina.valueSymbol]: reply } as unknown as Parameters<typeof Piscina.move>[0];
  return Piscina.move(transferable) as unknown as RenderReply;
}
