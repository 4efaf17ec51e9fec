import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { signerFromKeys, type KeySpec } from '../dkim/keys.js';
import { asBuffer, threadModule } from '../threads.js';
import type { RenderInput } from './message.js';
import type { CampaignSource, Rendered, Renderer } from './renderer.js';
import type { TaskStarted } from './turns.js';
import type { RenderItemReply, RenderReply, RenderTask, WorkerSetup } from './worker.js';

export interface PoolOptions {
  /** DKIM keys (PEM text) and fixed headers: every worker builds its signer from these once. */
  setup: WorkerSetup;
  /** Worker threads; default: the cores this process may use. */
  threads?: number;
  /**
   * How long a task may run, so that a worker stuck in a loop cannot hold its place (or its
   * recipients) for ever. The clock starts when the task begins on its thread (which announces it),
   * not while it waits there behind another, so the time is the task's own: past it the thread is
   * ended, piscina starts a new one, and the failure is blamed on the task's campaign (the scheduler
   * pauses a campaign whose messages keep failing), never on one that only waited behind it.
   */
  taskTimeoutMs?: number;
  /**
   * How much lower the render threads' scheduling priority is than the thread that starts them (a
   * Unix nice increment, 0–19; default 0). The main thread hands out the tasks and takes the
   * results: when every core is busy, render threads at its own priority take the time it needs
   * to do so, and their next tasks wait (docs/benchmarks.md, "Render threads at a lower priority").
   */
  nice?: number;
  /** An error of a thread that held no task (piscina's 'error' event); without a listener it would end the process. */
  onError?: (err: Error) => void;
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
 * Times a task that failed before it began (its thread ended over the task ahead of it) is handed
 * out again as it was, without blame. A bound all the same: a thread that died before its start
 * message got out would otherwise have its task tried for ever.
 */
const MAX_UNSTARTED = 10;
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
  constructor(
    message: string,
    options?: ErrorOptions,
    /** False: the task failed before it began on its thread (the thread ended over another task). */
    readonly started = true,
  ) {
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
 * to the queue through the scheduler's release path. Each thread holds two tasks, runs them in turn
 * and announces each as it begins: its clock starts then, and a task that failed before it began
 * (its thread ended over the one ahead) is handed out again as it was.
 */
export class PiscinaRenderer implements Renderer {
  private readonly pool: Piscina<RenderTask, RenderReply>;
  readonly threads: number;
  private readonly taskTimeoutMs: number;
  private pending: Pending[] = [];
  private flushing: NodeJS.Immediate | null = null;
  private readonly waiting: (() => void)[] = [];
  /**
   * Tasks handed to piscina and not yet settled (at most TASKS_PER_THREAD per thread), by ticket:
   * whether each has begun, and the clock that ends its thread.
   */
  private readonly out = new Map<number, { started: boolean; clock: NodeJS.Timeout | null }>();
  private nextTicket = 1;
  private closed = false;
  private handedAgain = 0;
  /** Revision 0 is the set every worker starts with (workerData). */
  private keys: { revision: number; specs: KeySpec[] };

  constructor(o: PoolOptions) {
    this.taskTimeoutMs = o.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS;
    this.keys = { revision: 0, specs: o.setup.dkim };
    this.threads = o.threads ?? availableParallelism();
    this.pool = new Piscina({
      filename: o.filename ?? defaultWorkerFile(),
      workerData: o.setup,
      minThreads: this.threads,
      maxThreads: this.threads,
      // Workers are kept for the life of the engine: their compiled campaigns (and keys) are the point.
      idleTimeout: Number.MAX_SAFE_INTEGER,
      concurrentTasksPerWorker: TASKS_PER_THREAD,
      // Applied by piscina in each new thread (through its optional @napi-rs/nice module).
      niceIncrement: o.nice ?? 0,
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB, maxOldGenerationSizeMb: OLD_GENERATION_MB },
    });
    this.pool.on('message', (m: unknown) => this.began(m));
    this.pool.on('error', (err: Error) => o.onError?.(err));
  }

  /**
   * Tasks handed to piscina and not settled; of those, the ones piscina holds for want of a thread;
   * and how many batches were handed out again, so far, because their thread ended before they began.
   */
  get load(): { handedOut: number; queued: number; handedAgain: number } {
    return { handedOut: this.out.size, queued: this.pool.queueSize, handedAgain: this.handedAgain };
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
    this.closed = true;
    if (this.flushing) clearImmediate(this.flushing);
    for (const p of this.pending.splice(0)) p.reject(new RenderError('the render pool is closing'));
    for (const task of this.out.values()) if (task.clock) clearTimeout(task.clock);
    await this.pool.destroy();
  }

  /** Splits what is waiting into batches, as even as the threads allow and at most MAX_BATCH each. */
  private flush(): void {
    this.flushing = null;
    const all = this.pending;
    this.pending = [];
    const size = Math.min(MAX_BATCH, Math.ceil(all.length / this.threads));
    for (let i = 0; i < all.length; i += size) void this.settle(all.slice(i, i + size));
  }

  /**
   * `unstarted`: how often this batch failed before it began (each time, not its doing). It is then
   * handed out before anything waiting, or it could land behind the next stuck task again and again.
   */
  private async settle(batch: Pending[], unstarted = 0): Promise<void> {
    let rendered: Rendered[];
    try {
      rendered = await this.renderBatch(batch, unstarted > 0);
    } catch (err) {
      const again = err instanceof RenderError && !err.started && unstarted < MAX_UNSTARTED && !this.closed;
      if (again) {
        this.handedAgain++;
        return this.settle(batch, unstarted + 1);
      }
      if (batch.length === 1 || this.closed) return batch.forEach((p) => p.reject(err as Error));
      // One message that kills or hangs a worker must not fail the others: each again alone.
      for (const p of batch) void this.settle([p]);
      return;
    }
    batch.forEach((p, i) => p.resolve(rendered[i]!));
  }

  private async renderBatch(batch: Pending[], first: boolean): Promise<Rendered[]> {
    const items = batch.map((p) => ({ campaignId: p.source.campaign.id, revision: p.source.campaign.revision ?? 0, recipient: p.recipient }));
    // A submitted message is a campaign of its own, rendered once: its row goes along at once
    // rather than after an `unknown-campaign` answer.
    const submitted = new Map(batch.filter((p) => p.source.raw).map((p) => [p.source.campaign.id, p.source]));
    const replies = (await this.signed({ sources: [...submitted.values()], items }, first)).items;
    const unknown = replies.flatMap((r, i) => (r.kind === 'unknown-campaign' ? [i] : []));
    if (unknown.length > 0) {
      const sources = new Map(unknown.map((i) => [batch[i]!.source.campaign.id, batch[i]!.source]));
      const again = (await this.signed({ sources: [...sources.values()], items: unknown.map((i) => items[i]!) }, first)).items;
      unknown.forEach((at, j) => (replies[at] = again[j]!));
    }
    return replies.map((r, i) => rendered(r, batch[i]!.source.campaign.id));
  }

  /** Runs the task with the current keys; a worker that holds another set gets them and runs it again. */
  private async signed(task: Omit<RenderTask, 'keysRevision' | 'keys' | 'ticket'>, first: boolean): Promise<RenderReply> {
    const keys = this.keys;
    const reply = await this.run({ ...task, keysRevision: keys.revision }, first);
    return reply.unknownKeys ? this.run({ ...task, keysRevision: keys.revision, keys: keys.specs }, first) : reply;
  }

  /** `first`: ahead of every task waiting for a place. */
  private async run(task: Omit<RenderTask, 'ticket'>, first: boolean): Promise<RenderReply> {
    while (this.out.size >= this.threads * TASKS_PER_THREAD) {
      await new Promise<void>((resolve) => (first ? this.waiting.unshift(resolve) : this.waiting.push(resolve)));
    }
    const ticket = this.nextTicket++;
    const state = { started: false, clock: null as NodeJS.Timeout | null };
    this.out.set(ticket, state);
    let reply: RenderReply;
    try {
      reply = await this.pool.run({ ...task, ticket });
    } catch (err) {
      throw new RenderError(`render worker failed: ${(err as Error).message}`, { cause: err }, state.started);
    } finally {
      if (state.clock) clearTimeout(state.clock);
      this.out.delete(ticket);
      this.waiting.shift()?.();
    }
    if (reply.failed !== undefined) throw new RenderError(`render worker failed: ${reply.failed}`);
    return reply;
  }

  /**
   * A thread began a task (as the main thread hears it): its clock starts, and past the timeout
   * that thread is ended. Timers run before the event loop reads new messages, so the task may have
   * finished meanwhile: the thread is ended only if it is still out a turn later.
   */
  private began(m: unknown): void {
    if (!isTaskStarted(m)) return;
    const task = this.out.get(m.renderStarted);
    if (!task) return;
    task.started = true;
    const stillOut = () => this.out.get(m.renderStarted) === task;
    task.clock = setTimeout(() => setImmediate(() => stillOut() && this.endThread(m.threadId)), this.taskTimeoutMs);
  }

  /** piscina fails every task the thread held (the one it ran too long, and any behind it) and starts a new thread. */
  private endThread(threadId: number): void {
    void this.pool.threads.find((t) => t.threadId === threadId)?.terminate();
  }
}

function isTaskStarted(m: unknown): m is TaskStarted {
  return typeof m === 'object' && m !== null && typeof (m as TaskStarted).renderStarted === 'number' && typeof (m as TaskStarted).threadId === 'number';
}

function rendered(r: RenderItemReply, campaignId: number): Rendered {
  if (r.kind === 'unknown-campaign') throw new RenderError(`worker did not accept campaign ${campaignId}`);
  return { message: asBuffer(r.message), missing: r.missing };
}
