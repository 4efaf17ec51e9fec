import type { CampaignSummary, ImportResult, InvalidRow } from '../../storage/store.js';

export interface CategoryCount {
  count: number;
  byCategory: Record<string, number>;
}

/** What `mxpress send` reports, as text or (`--json`) as this object. */
export interface SendSummary {
  campaign: { id: number; name: string };
  recipients: number;
  duplicates: number;
  delivered: number;
  queued: number;
  deferred: CategoryCount & { nextAttemptAt: string | null };
  bounced: CategoryCount;
  expired: CategoryCount;
  suppressed: number;
  invalid: { count: number; rows: InvalidRow[] };
  missingTags: Record<string, number>;
  elapsedMs: number;
}

export function buildSummary(
  name: string,
  imported: ImportResult,
  s: CampaignSummary,
  invalidRows: InvalidRow[],
  missingTags: Record<string, number>,
  elapsedMs: number,
): SendSummary {
  const of = (status: string): CategoryCount => {
    const rows = s.counts.filter((c) => c.status === status);
    const byCategory: Record<string, number> = {};
    for (const r of rows) byCategory[r.category ?? 'other'] = (byCategory[r.category ?? 'other'] ?? 0) + r.count;
    return { count: rows.reduce((n, r) => n + r.count, 0), byCategory };
  };
  return {
    campaign: { id: s.campaignId, name },
    recipients: imported.accepted,
    duplicates: imported.duplicates,
    delivered: of('delivered').count,
    queued: of('queued').count,
    deferred: { ...of('deferred'), nextAttemptAt: s.nextAttemptAt === null ? null : new Date(s.nextAttemptAt).toISOString() },
    bounced: of('bounced'),
    expired: of('expired'),
    suppressed: of('suppressed').count,
    invalid: { count: s.invalid, rows: invalidRows },
    missingTags,
    elapsedMs,
  };
}

export function formatSummary(x: SendSummary): string {
  const cats = (c: CategoryCount) => {
    const parts = Object.entries(c.byCategory).map(([k, v]) => `${k} ${v}`);
    return parts.length ? `  (${parts.join(', ')})` : '';
  };
  const lines = [
    `campaign ${x.campaign.id} "${x.campaign.name}": ${x.recipients} recipients${x.duplicates ? `, ${x.duplicates} duplicates dropped` : ''}`,
    `  delivered   ${x.delivered}`,
    `  deferred    ${x.deferred.count}${cats(x.deferred)}${x.deferred.nextAttemptAt ? `  next attempt ${x.deferred.nextAttemptAt}` : ''}`,
    `  bounced     ${x.bounced.count}${cats(x.bounced)}`,
    `  expired     ${x.expired.count}${cats(x.expired)}`,
    `  suppressed  ${x.suppressed}`,
    `  invalid     ${x.invalid.count}`,
  ];
  if (x.queued) lines.push(`  queued      ${x.queued} (not attempted yet)`);
  for (const r of x.invalid.rows) lines.push(`    line ${r.line}: ${JSON.stringify(r.value)}: ${r.reason}`);
  if (x.invalid.count > x.invalid.rows.length) lines.push(`    … ${x.invalid.count - x.invalid.rows.length} more`);
  const missing = Object.entries(x.missingTags);
  if (missing.length) lines.push(`  warnings: merge tags without a value: ${missing.map(([k, n]) => `{{${k}}} ×${n}`).join(', ')}`);
  if (x.deferred.count + x.queued > 0) lines.push(`  ${x.deferred.count + x.queued} recipients stay queued; \`mxpress start\` delivers them.`);
  lines.push(`  elapsed     ${(x.elapsedMs / 1000).toFixed(1)} s`);
  return lines.join('\n');
}
