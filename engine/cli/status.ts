import { parseArgs } from 'node:util';
import type { PathState, QueueStatus } from '../../storage/store.js';
import { openStore, readConfig } from './common.js';
import { EXIT } from './exit.js';

const OPTIONS = { config: { type: 'string' }, json: { type: 'boolean', default: false } } as const;

/** What `status --json` prints: the queue, and the egress paths in backoff now. */
export interface StatusReport extends QueueStatus {
  backoff: PathState[];
}

export function statusCommand(argv: string[], out: NodeJS.WritableStream): number {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  const config = readConfig(values.config);
  const store = openStore(config);
  try {
    const now = Date.now();
    const report: StatusReport = { ...store.queueStatus(now), backoff: inBackoff(store.pathStates(), now) };
    out.write(values.json ? `${JSON.stringify(report)}\n` : formatStatus(report));
    return EXIT.ok;
  } finally {
    store.close();
  }
}

/**
 * Paths the engine last published as in backoff whose backoff has not ended yet. The table keeps
 * what the engine wrote when it stopped, so an ended backoff is left out by its time, not its flag.
 */
export function inBackoff(paths: PathState[], now: number): PathState[] {
  return paths.filter((p) => p.state === 'backoff' && p.backoffUntil !== null && p.backoffUntil > now);
}

function formatStatus(s: StatusReport): string {
  const lines = ['queue by state:'];
  for (const [state, n] of Object.entries(s.byStatus)) lines.push(`  ${state.padEnd(11)} ${n}`);
  lines.push(`in flight (leased)  ${s.inFlight}`);
  lines.push(`due now             ${s.dueNow}`);
  lines.push(`due within 1 h      ${s.dueWithinHour}`);
  lines.push(`next due            ${s.nextDueAt === null ? '-' : new Date(s.nextDueAt).toISOString()}`);
  if (s.byDomain.length) {
    lines.push('', `${'domain'.padEnd(32)} ${'queued'.padStart(8)} ${'deferred'.padStart(8)} ${'delivered'.padStart(9)} ${'bounced'.padStart(8)}`);
    for (const d of s.byDomain) {
      lines.push(`${d.domain.padEnd(32)} ${String(d.queued).padStart(8)} ${String(d.deferred).padStart(8)} ${String(d.delivered).padStart(9)} ${String(d.bounced).padStart(8)}`);
    }
  }
  lines.push('', ...formatBackoff(s.backoff));
  return `${lines.join('\n')}\n`;
}

function formatBackoff(paths: PathState[]): string[] {
  if (paths.length === 0) return ['egress paths in backoff: none'];
  const lines = [`egress paths in backoff: ${paths.length}`, `  ${'source'.padEnd(16)} ${'site'.padEnd(32)} ${'until'.padEnd(24)} ${'throttles'.padStart(9)} ${'rate'.padEnd(10)} last reply`];
  for (const p of paths) {
    const until = new Date(p.backoffUntil!).toISOString();
    lines.push(`  ${p.sourceIp.padEnd(16)} ${p.site.padEnd(32)} ${until.padEnd(24)} ${String(p.throttles).padStart(9)} ${(p.messageRate ?? '-').padEnd(10)} ${p.lastReply ?? ''}`);
  }
  return lines;
}
