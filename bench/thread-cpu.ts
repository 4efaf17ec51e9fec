import { readFileSync } from 'node:fs';

/** The main thread's CPU time in ms (Linux: its task's utime and stime, in clock ticks of 10 ms); null elsewhere. */
export function mainThreadCpuMs(): { user: number; system: number } | null {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'latin1');
    // Fields after the parenthesized command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]) * 10, system: Number(fields[12]) * 10 };
  } catch {
    return null;
  }
}
