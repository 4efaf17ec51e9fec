/**
 * The render worker (a piscina task function): builds and signs the messages of a task. Each worker
 * parses the DKIM keys once (from workerData, later from the task that brings a new set) and keeps
 * the campaigns it has compiled; the main thread sends a campaign's row, or a new set of keys, only
 * when a worker asks for it.
 */
import { Piscina } from 'piscina';
import { workerData } from 'node:worker_threads';
import { signerFromKeys, type KeySpec } from '../dkim/keys.js';
import { trackingDecorator, type TrackingOptions } from '../tracking/decorator.js';
import { ownedBytes } from '../threads.js';
import type { RenderDeps, RenderInput } from './message.js';
import { CompiledCache, renderCollecting, type CampaignSource } from './renderer.js';
import { oneAtATime } from './turns.js';

/** Plain data, cloned into every worker: what RenderDeps is built from there. */
export interface WorkerSetup {
  dkim: KeySpec[];
  xMailer: string;
  feedbackId: string;
  /** Tracking links and unsubscribe targets; null: none. */
  tracking: TrackingOptions | null;
}

/** One message to build: the campaign by id, the recipient it is for. */
export interface RenderItem {
  campaignId: number;
  /** The campaign's revision: a worker's older compile of it is not used. */
  revision: number;
  recipient: RenderInput;
}

/** Several messages in one task: one postMessage and one wake-up of the worker for all of them. */
export interface RenderTask {
  /** Names the task in the `TaskStarted` message this thread posts as it begins it. */
  ticket: number;
  /**
   * The set of DKIM keys to sign with: 0 is workerData's, each change over the API (a sender domain
   * added or removed) counts up. A worker holding another set answers `unknownKeys`.
   */
  keysRevision: number;
  /** The keys of `keysRevision`, sent only after a worker answered `unknownKeys`. */
  keys?: KeySpec[];
  /** Campaign rows, sent only after a worker answered `unknown-campaign` for them. */
  sources: CampaignSource[];
  items: RenderItem[];
}

export type RenderItemReply = { kind: 'rendered'; message: Uint8Array; missing: string[] } | { kind: 'unknown-campaign' };

/** One reply per item, in the task's order; none when the worker lacks the task's keys or the task failed. */
export interface RenderReply {
  items: RenderItemReply[];
  unknownKeys?: true;
  /**
   * The task threw: the error's message. Answered rather than thrown, so that only a thread that
   * died rejects the task, and by then its start message has been delivered (Node delivers what a
   * thread posted before its 'exit' or 'error'); a thrown task's rejection could overtake it.
   */
  failed?: string;
}

// The state of this worker thread, built once when piscina loads the module in it: a piscina task
// function has only module scope to keep anything between tasks (compiled campaigns, parsed keys).
const setup = workerData as WorkerSetup;
// The key arrives as a Uint8Array (a Buffer does not survive the clone as a Buffer).
const tracking = setup.tracking ? trackingDecorator({ ...setup.tracking, key: Buffer.from(setup.tracking.key) }) : null;
const initial: RenderDeps = { signer: signerFromKeys(setup.dkim), decorator: tracking, xMailer: setup.xMailer, feedbackId: setup.feedbackId };
// Compiling does not use the signer, so compiled campaigns outlive a change of keys.
const cache = new CompiledCache(initial);
const signing = { revision: 0, deps: initial };

export default oneAtATime(renderTask);

export async function renderTask(task: RenderTask): Promise<RenderReply> {
  if (task.keysRevision !== signing.revision) {
    if (!task.keys) return { items: [], unknownKeys: true };
    signing.deps = { ...initial, signer: signerFromKeys(task.keys) };
    signing.revision = task.keysRevision;
  }
  const deps = signing.deps;
  for (const source of task.sources) if (!cache.get(source.campaign.id, source.campaign.revision ?? 0)) cache.add(source);
  const items: RenderItemReply[] = [];
  const transfer: ArrayBuffer[] = [];
  for (const item of task.items) {
    const c = cache.get(item.campaignId, item.revision);
    if (!c) {
      items.push({ kind: 'unknown-campaign' });
      continue;
    }
    const { message, missing } = await renderCollecting(c, item.recipient, deps);
    // Moved, not copied, back to the main thread.
    const own = ownedBytes(message);
    transfer.push(own.buffer as ArrayBuffer);
    items.push({ kind: 'rendered', message: own, missing });
  }
  const reply: RenderReply = { items };
  // piscina's .d.ts names the interface by its private symbols; the documented public ones are these.
  const transferable = { [Piscina.transferableSymbol]: transfer, [Piscina.valueSymbol]: reply } as unknown as Parameters<typeof Piscina.move>[0];
  return Piscina.move(transferable) as unknown as RenderReply;
}
