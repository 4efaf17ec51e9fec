import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { RenderInput } from './message.js';
import type { CampaignSource, Rendered, Renderer } from './renderer.js';
import type { RenderReply, RenderTask, WorkerSetup } from './worker.js';

export interface PoolOptions {
  /** DKIM keys (PEM text) and fixed headers: every worker builds its signer from these once. */
  setup: WorkerSetup;
  /** Worker threads; default: the cores this process may use. */
  threads?: number;
  /**
   * A task not answered this long after it was handed to the pool is aborted; when it is running,
   * piscina ends its thread and starts a new one, so a worker stuck in a loop cannot hold its place
   * (or its recipients) for ever. The time includes the wait in the pool's queue, which the render
   * budget keeps short (`[workers] max_rendered`).
   */
  taskTimeoutMs?: number;
  /** The worker module; default: worker.ts beside this file (worker.js in the build). Tests swap it. */
  filename?: string;
}

const DEFAULT_TASK_TIMEOUT_MS = 30_000;

export class RenderError extends Error {
  readonly code = 'RENDER_FAILED';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RenderError';
  }
}

/** Under tsx the sources run as .ts, in the build as .js: the worker file has the same extension as this one. */
export function defaultWorkerFile(): string {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./worker${ext}`, import.meta.url).href;
}

/**
 * Renders in a piscina pool of worker threads (template, MIME and signing are CPU work; the main
 * thread keeps the sockets). A task names its campaign by id; a worker that has not compiled it yet
 * answers `unknown-campaign` and the task is sent again with the row (at most once per worker and
 * campaign), which is cheaper than cloning the templates into every task (docs/benchmarks.md).
 * piscina replaces a worker that dies; the task it was running fails and its recipients go back to
 * the queue through the scheduler's release path.
 */
export class PiscinaRenderer implements Renderer {
  private readonly pool: Piscina<RenderTask, RenderReply>;
  private readonly taskTimeoutMs: number;

  constructor(o: PoolOptions) {
    this.taskTimeoutMs = o.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS;
    const threads = o.threads ?? availableParallelism();
    this.pool = new Piscina({
      filename: o.filename ?? defaultWorkerFile(),
      workerData: o.setup,
      minThreads: threads,
      maxThreads: threads,
      // Workers are kept for the life of the engine: their compiled campaigns (and keys) are the point.
      idleTimeout: Number.MAX_SAFE_INTEGER,
    });
  }

  get threads(): number {
    return this.pool.options.maxThreads;
  }

  async render(source: CampaignSource, recipient: RenderInput): Promise<Rendered> {
    const campaignId = source.campaign.id;
    let reply = await this.run({ campaignId, source: null, recipient });
    if (reply.kind === 'unknown-campaign') reply = await this.run({ campaignId, source, recipient });
    if (reply.kind === 'unknown-campaign') throw new RenderError(`worker did not accept campaign ${campaignId}`);
    const m = reply.message;
    return { message: Buffer.from(m.buffer, m.byteOffset, m.byteLength), missing: reply.missing };
  }

  /** Workers drop campaigns least recently used; there is no message to every worker to send. */
  forget(): void {}

  async close(): Promise<void> {
    await this.pool.destroy();
  }

  private async run(task: RenderTask): Promise<RenderReply> {
    try {
      return await this.pool.run(task, { signal: AbortSignal.timeout(this.taskTimeoutMs) });
    } catch (err) {
      throw new RenderError(`render worker failed: ${(err as Error).message}`, { cause: err });
    }
  }
}
