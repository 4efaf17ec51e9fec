/**
 * Which render task may go to the pool now. Two kinds:
 * - **pipelined** (a batch): up to `perThread` per thread, so a thread has its next task at hand
 *   when it finishes one instead of waiting for the main thread to take the result and send more;
 * - **exclusive** (one message tried alone after its batch failed): it must have a thread to itself,
 *   so that its timeout times its own running and a failure is its own. It goes only when no
 *   pipelined task is out, and while one waits or runs no pipelined task goes.
 * Within a kind, first come first served.
 */
export class TaskGate {
  private pipelined = 0;
  private exclusive = 0;
  private readonly queue: { exclusive: boolean; go: () => void }[] = [];

  constructor(
    private readonly threads: number,
    private readonly perThread: number,
  ) {
    if (!Number.isInteger(threads) || threads < 1 || !Number.isInteger(perThread) || perThread < 1) {
      throw new RangeError(`task gate needs whole numbers ≥ 1, got ${threads} threads and ${perThread} per thread`);
    }
  }

  /** Tasks out now, by kind. */
  get out(): { pipelined: number; exclusive: number } {
    return { pipelined: this.pipelined, exclusive: this.exclusive };
  }

  /** Resolves when the task may go; call `leave` with the same kind once it settled. */
  enter(exclusive: boolean): Promise<void> {
    return new Promise((go) => {
      this.queue.push({ exclusive, go });
      this.admit();
    });
  }

  leave(exclusive: boolean): void {
    if (exclusive) this.exclusive--;
    else this.pipelined--;
    this.admit();
  }

  private admit(): void {
    const exclusiveWaits = this.queue.some((w) => w.exclusive);
    for (let i = 0; i < this.queue.length; ) {
      const w = this.queue[i]!;
      if (!this.allows(w.exclusive, exclusiveWaits)) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      if (w.exclusive) this.exclusive++;
      else this.pipelined++;
      w.go();
    }
  }

  private allows(exclusive: boolean, exclusiveWaits: boolean): boolean {
    if (exclusive) return this.pipelined === 0 && this.exclusive < this.threads;
    return !exclusiveWaits && this.exclusive === 0 && this.pipelined < this.threads * this.perThread;
  }
}
