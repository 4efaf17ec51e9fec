import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { signerFromKeys, type KeySpec } from '../dkim/keys.js';
import { asBuffer, threadModule } from '../threads.js';
import type { RenderInput } from './message.js';
import type { CampaignSource, Rendered, Renderer } from './renderer.js';
import { TaskGate } from './task-gate.js';
import type { RenderItemReply, RenderReply, RenderTask, WorkerSetup } from './worker.js';

export interface PoolOptions {
  /** DKIM keys (PEM text) and fixed headers: every worker builds its signer from these once. */
  setup: WorkerSetup;
  /** Worker threads; default: the cores this process may use. */
  threads?: number;
  /**
   * How long a task may run, so that a worker stuck in a loop cannot hold its place (or its
   * recipients) for ever. A batch goes to its thread while the one before it may still run there
   * (TaskGate), so it is given twice this from being handed over; past that, the whole pool is
   * replaced and every batch it held is tried again one message at a time. A message tried alone
   * has a thread to itself, and this is its own running time: past it piscina ends its thread, and
   * the failure is blamed on its campaign (the scheduler pauses a campaign whose messages keep
   * failing), never on one that only waited behind a slow task.
   */
  taskTimeoutMs?: number;
  /**
   * How much lower the render threads' scheduling priority is than the thread that starts them (a
   * Unix nice increment, 0–19; default 0). The main thread hands out the tasks and takes the
   * results: when every core is busy, render threads at its own priority take the time it needs
   * to do so, and their next tasks wait (docs/benchmarks.md, "Render threads at a lower priority").
   */
  nice?: number;
  /** The worker module; default: worker.ts beside this file (worker.js in the build). Tests swap it. */
  filename?: string;
}

const DEFAULT_TASK_TIMEOUT_MS = 30_000;
/**
 * Batches a thread holds at once: the one it runs and the next, so it does not wait for the main
 * thread to take a result before it gets more work (docs/benchmarks.md, "Two tasks a thread").
 */
const TASKS_PER_THREAD = 2;
/**
 * Most messages in one task. Batching saves a postMessage, a wake-up of the worker and the task
 * bookkeeping per message on both sides (docs/benchmarks.md); a cap keeps one task short next to
 * the task timeout and spreads a burst over every thread.
 */
const MAX_BATCH = 16;
/**
 * A worker allocates fast (every message's text, its encoding, its bytes) and V8 then grows its young
 * generation up to 48 MB; a small one is collected more often at no measurable CPU cost and keeps
 * each worker's memory low (docs/benchmarks.md, memory).
 */
const YOUNG_GENERATION_MB = 12;
/**
 * Without a limit of its own a worker takes the process's (a quarter of the host's memory) and V8
 * lets its old generation grow towards it between full collections, so RSS creeps up all run long.
 * A limit of up to about 1 GB makes V8 collect sooner: W5 at 100,000 messages peaked at 279 MB
 * unlimited, 234–243 MB from 32 to 1024, 278 MB at 2048, at the same throughput. 512 MB holds a
 * campaign at the API's largest template (5,000,000 characters of HTML and the text made from it
 * need 300–360 MB while compiling). Compiled campaigns stay cached, so many such campaigns in one
 * worker can pass it: the worker is then ended and replaced, empty, its task fails and its
 * recipients go back to the queue, as when a worker dies (test/integration/render-pool.test.ts);
 * a campaign whose messages keep doing that is paused (engine/scheduler/build-failures.ts).
 */
const OLD_GENERATION_MB = 512;

interface Pending {
  source: CampaignSource;
  recipient: RenderInput;
  resolve: (r: Rendered) => void;
  reject: (err: Error) => void;
}

export class RenderError extends Error {
  readonly code = 'RENDER_FAILED';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RenderError';
  }
}

/** The render worker module beside this one (worker.ts, or worker.js in the build). */
export function defaultWorkerFile(): string {
  return threadModule(import.meta.url, 'worker');
}

/**
 * Renders in a piscina pool of worker threads (template, MIME and signing are CPU work; the main
 * thread keeps the sockets). The messages asked for in one turn of the event loop go out together,
 * a batch per task. A task names campaigns by id; a worker that has not compiled one yet answers
 * `unknown-campaign` for its items, which are sent again with the row (at most once per worker and
 * campaign): cheaper than cloning the templates into every task (docs/benchmarks.md). piscina
 * replaces a worker that dies; a failed batch is tried again one message per task, so only the
 * message that kills a worker (or hangs it past the task timeout) fails, and its recipients go back
 * to the queue through the scheduler's release path.
 */
export class PiscinaRenderer implements Renderer {
  private pool: Piscina<RenderTask, RenderReply>;
  /** Pools replaced because a batch stuck in them, until their threads have ended. */
  private readonly retiring = new Set<Promise<void>>();
  readonly threads: number;
  private readonly taskTimeoutMs: number;
  private pending: Pending[] = [];
  private flushing: NodeJS.Immediate | null = null;
  private readonly gate: TaskGate;
  /** Revision 0 is the set every worker starts with (workerData). */
  private keys: { revision: number; specs: KeySpec[] };

  constructor(private readonly o: PoolOptions) {
    this.taskTimeoutMs = o.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS;
    this.keys = { revision: 0, specs: o.setup.dkim };
    this.threads = o.threads ?? availableParallelism();
    this.gate = new TaskGate(this.threads, TASKS_PER_THREAD);
    this.pool = this.newPool();
  }

  private newPool(): Piscina<RenderTask, RenderReply> {
    return new Piscina({
      filename: this.o.filename ?? defaultWorkerFile(),
      workerData: this.o.setup,
      minThreads: this.threads,
      maxThreads: this.threads,
      // Workers are kept for the life of the engine: their compiled campaigns (and keys) are the point.
      idleTimeout: Number.MAX_SAFE_INTEGER,
      concurrentTasksPerWorker: TASKS_PER_THREAD,
      // Applied by piscina in each new thread (through its optional @napi-rs/nice module).
      niceIncrement: this.o.nice ?? 0,
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB, maxOldGenerationSizeMb: OLD_GENERATION_MB },
    });
  }

  render(source: CampaignSource, recipient: RenderInput): Promise<Rendered> {
    return new Promise((resolve, reject) => {
      this.pending.push({ source, recipient, resolve, reject });
      this.flushing ??= setImmediate(() => this.flush());
    });
  }

  /**
   * Each worker takes the new set with the first task it gets that finds it holding another one;
   * tasks already handed out finish with the set they started with. The keys are parsed here first,
   * so a bad one throws to the caller and the workers keep the set they have.
   */
  setKeys(specs: KeySpec[]): void {
    signerFromKeys(specs);
    this.keys = { revision: this.keys.revision + 1, specs };
  }

  async close(): Promise<void> {
    if (this.flushing) clearImmediate(this.flushing);
    for (const p of this.pending.splice(0)) p.reject(new RenderError('the render pool is closing'));
    await Promise.all([this.pool.destroy(), ...this.retiring]);
  }

  /** Splits what is waiting into batches, as even as the threads allow and at most MAX_BATCH each. */
  private flush(): void {
    this.flushing = null;
    const all = this.pending;
    this.pending = [];
    const size = Math.min(MAX_BATCH, Math.ceil(all.length / this.threads));
    for (let i = 0; i < all.length; i += size) void this.settle(all.slice(i, i + size));
  }

  /** `alone`: one message tried by itself on a thread of its own, whose failure is final. */
  private async settle(batch: Pending[], alone = false): Promise<void> {
    let rendered: Rendered[];
    try {
      rendered = await this.renderBatch(batch, alone);
    } catch (err) {
      if (alone) return batch[0]!.reject(err as Error);
      // The message that killed or hung the thread, or any other of the tasks that thread held,
      // may be in this batch: each again alone, so only that one fails.
      for (const p of batch) void this.settle([p], true);
      return;
    }
    batch.forEach((p, i) => p.resolve(rendered[i]!));
  }

  private async renderBatch(batch: Pending[], alone: boolean): Promise<Rendered[]> {
    const items = batch.map((p) => ({ campaignId: p.source.campaign.id, revision: p.source.campaign.revision ?? 0, recipient: p.recipient }));
    // A submitted message is a campaign of its own, rendered once: its row goes along at once
    // rather than after an `unknown-campaign` answer.
    const submitted = new Map(batch.filter((p) => p.source.raw).map((p) => [p.source.campaign.id, p.source]));
    const replies = (await this.signed({ sources: [...submitted.values()], items }, alone)).items;
    const unknown = replies.flatMap((r, i) => (r.kind === 'unknown-campaign' ? [i] : []));
    if (unknown.length > 0) {
      const sources = new Map(unknown.map((i) => [batch[i]!.source.campaign.id, batch[i]!.source]));
      const again = (await this.signed({ sources: [...sources.values()], items: unknown.map((i) => items[i]!) }, alone)).items;
      unknown.forEach((at, j) => (replies[at] = again[j]!));
    }
    return replies.map((r, i) => rendered(r, batch[i]!.source.campaign.id));
  }

  /** Runs the task with the current keys; a worker that holds another set gets them and runs it again. */
  private async signed(task: Omit<RenderTask, 'keysRevision' | 'keys'>, alone: boolean): Promise<RenderReply> {
    const keys = this.keys;
    const reply = await this.run({ ...task, keysRevision: keys.revision }, alone);
    return reply.unknownKeys ? this.run({ ...task, keysRevision: keys.revision, keys: keys.specs }, alone) : reply;
  }

  private async run(task: RenderTask, alone: boolean): Promise<RenderReply> {
    await this.gate.enter(alone);
    const pool = this.pool;
    // Abortable: piscina gives such a task only to a thread with nothing else on it.
    const abortable = alone ? { signal: AbortSignal.timeout(this.taskTimeoutMs) } : {};
    const stuck = alone ? null : setTimeout(() => this.replace(pool), this.taskTimeoutMs * TASKS_PER_THREAD);
    try {
      return await pool.run(task, abortable);
    } catch (err) {
      throw new RenderError(`render worker failed: ${(err as Error).message}`, { cause: err });
    } finally {
      if (stuck) clearTimeout(stuck);
      this.gate.leave(alone);
    }
  }

  /**
   * A batch stuck past its time: which thread holds it is piscina's to know, so the whole pool is
   * replaced. Ending its threads fails every task they held; those are tried again alone.
   */
  private replace(stuck: Piscina<RenderTask, RenderReply>): void {
    if (stuck !== this.pool) return;
    this.pool = this.newPool();
    const ended = stuck
      .destroy()
      .catch(() => undefined)
      .finally(() => this.retiring.delete(ended));
    this.retiring.add(ended);
  }
}

function rendered(r: RenderItemReply, campaignId: number): Rendered {
  if (r.kind === 'unknown-campaign') throw new RenderError(`worker did not accept campaign ${campaignId}`);
  return { message: asBuffer(r.message), missing: r.missing };
}
