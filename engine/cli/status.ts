import { parseArgs } from 'node:util';
import type { QueueStatus } from '../../storage/store.js';
import { openStore, readConfig } from './common.js';
import { EXIT } from './exit.js';

const OPTIONS = { config: { type: 'string' }, json: { type: 'boolean', default: false } } as const;

export function statusCommand(argv: string[], out: NodeJS.WritableStream): number {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  const config = readConfig(values.config);
  const store = openStore(config);
  try {
    const status = store.queueStatus(Date.now());
    out.write(values.json ? `${JSON.stringify(status)}\n` : formatStatus(status));
    return EXIT.ok;
  } finally {
    store.close();
  }
}

function formatStatus(s: QueueStatus): string {
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
  return `${lines.join('\n')}\n`;
}
