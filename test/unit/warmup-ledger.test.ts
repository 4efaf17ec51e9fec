import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { WarmupLedger } from '../../engine/scheduler/warmup.js';
import type { WarmupSchedule } from '../../engine/shaping/policy.js';
import { parseDay } from '../../engine/shaping/warmup.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import type { Store } from '../../storage/store.js';

/** The ledger against a real SQLite file in a temp dir: counts survive a new ledger (a restart). */
const A = '127.0.1.41';
const B = '127.0.1.42';
const DAY1 = parseDay('2026-11-20')!;
const DAY_MS = 86_400_000;
const schedules: WarmupSchedule[] = [{ source: A, startDay: DAY1, perDay: [3, 5] }];

function fixture(): { store: Store; clock: { t: number }; ledger: () => WarmupLedger; path: string } {
  const path = join(mkdtempSync(join(tmpdir(), 'mxpress-warmup-')), 'queue.db');
  const store = openSqliteStore(path);
  const clock = { t: DAY1 + 10 * 3_600_000 };
  return { store, clock, path, ledger: () => new WarmupLedger(schedules, store, () => clock.t) };
}

/** Reserves one at a time while allowed, up to `max`; returns how many were allowed. */
function fill(l: WarmupLedger, source: string, site: string, max = 100): number {
  let n = 0;
  while (n < max && l.allows(source, site)) {
    l.reserve(source, site, 1);
    n++;
  }
  return n;
}

test('warm-up ledger: caps per source and site per day, sources without a schedule unlimited', () => {
  const { store, ledger } = fixture();
  const l = ledger();
  const cases: [source: string, site: string, allowed: number][] = [
    [A, 'site:google', 3],
    [A, 'mx.other.test', 3],
    [A, 'site:google', 0],
    [B, 'site:google', 100],
  ];
  for (const [source, site, want] of cases) assert.equal(fill(l, source, site), want, `${source} → ${site}`);
  l.flush();
  const counts = store.warmupCounts(DAY1).sort((a, b) => a.site.localeCompare(b.site));
  assert.deepEqual(counts, [
    { sourceIp: A, site: 'mx.other.test', count: 3 },
    { sourceIp: A, site: 'site:google', count: 3 },
  ], 'only sources with a schedule are counted');
  store.close();
});

test('warm-up ledger: counts survive a restart; a new UTC day starts from the store', () => {
  const { store, clock, ledger } = fixture();
  const first = ledger();
  assert.equal(fill(first, A, 's', 2), 2);
  first.flush();
  const restarted = ledger();
  assert.equal(fill(restarted, A, 's'), 1, 'day 1 cap 3, two already sent before the restart');
  assert.equal(restarted.reopensAt(), DAY1 + DAY_MS);
  clock.t = DAY1 + DAY_MS + 60_000;
  assert.equal(fill(restarted, A, 's'), 5, 'day 2 cap 5, nothing sent yet that day');
  clock.t = DAY1 + 2 * DAY_MS;
  assert.equal(fill(restarted, A, 's'), 100, 'past the schedule: warm, no cap');
  assert.deepEqual(store.warmupCounts(DAY1).map((c) => c.count), [3], 'rolling the day flushed day 1');
  restarted.flush();
  assert.deepEqual(store.warmupCounts(DAY1 + DAY_MS).map((c) => c.count), [5]);
  store.close();
});

test('warm-up ledger: another engine\'s counts of the same day are seen at the next day roll only', () => {
  const { store, clock, ledger } = fixture();
  const l = ledger();
  assert.equal(l.allows(A, 's'), true); // loads day 1 (empty)
  store.addWarmupCounts(DAY1 + DAY_MS, [{ sourceIp: A, site: 's', count: 4 }]);
  clock.t = DAY1 + DAY_MS;
  assert.equal(fill(l, A, 's'), 1, 'day 2: cap 5, 4 already counted in the store');
  store.close();
});

test('warm-up ledger: unreserve gives back, never below zero, and is written on flush', () => {
  const cases: { name: string; reserve: number; back: number; want: number }[] = [
    { name: 'all back', reserve: 3, back: 3, want: 0 },
    { name: 'some back', reserve: 3, back: 1, want: 2 },
    { name: 'more back than reserved', reserve: 2, back: 5, want: 0 },
    { name: 'nothing reserved', reserve: 0, back: 2, want: 0 },
  ];
  for (const c of cases) {
    const { store, ledger } = fixture();
    const l = ledger();
    l.reserve(A, 's', c.reserve);
    l.unreserve(A, 's', c.back);
    l.flush();
    const stored = store.warmupCounts(DAY1).find((x) => x.site === 's')?.count ?? 0;
    assert.equal(stored, c.want, c.name);
    assert.equal(fill(l, A, 's'), 3 - c.want, `${c.name}: what is left of the cap`);
    store.close();
  }
  const { store, ledger } = fixture();
  const l = ledger();
  l.unreserve(B, 's', 3);
  l.flush();
  assert.deepEqual(store.warmupCounts(DAY1), [], 'a source without a schedule is not counted');
  store.close();
});
