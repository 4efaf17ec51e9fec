/**
 * How a render thread takes its tasks: one after the other, each announced as it begins, and a task
 * that throws answered with its error instead of rejected. Kept apart from worker.ts, which builds
 * its thread's state on import, so it can be tested in any thread.
 */
import { parentPort, threadId } from 'node:worker_threads';
import type { RenderReply, RenderTask } from './worker.js';

/**
 * Posted (through piscina's 'message' event) as a task begins on a thread: the task's clock starts
 * then, and the thread is the one to end if it runs too long.
 */
export interface TaskStarted {
  renderStarted: number;
  threadId: number;
}

/**
 * piscina hands a thread its next task while one runs (pool.ts); they still run one after the other,
 * each announced as it begins, so that a task's running time is its own and a thread ended for
 * running too long was running that task.
 */
export function oneAtATime(run: (task: RenderTask) => Promise<RenderReply>): (task: RenderTask) => Promise<RenderReply> {
  let previous: Promise<unknown> = Promise.resolve();
  return (task) => {
    const next = previous.then(async (): Promise<RenderReply> => {
      parentPort?.postMessage({ renderStarted: task.ticket, threadId } satisfies TaskStarted);
      try {
        return await run(task);
      } catch (err) {
        return { items: [], failed: (err as Error)?.message ?? String(err) };
      }
    });
    previous = next;
    return next;
  };
}
