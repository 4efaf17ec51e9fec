import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inBackoff } from '../../engine/cli/status.js';
import type { PathState } from '../../storage/store.js';

const base: PathState = { sourceIp: '127.0.1.1', site: 's', state: 'normal', backoffUntil: null, connections: 0, queued: 0, sent: 0, throttles: 0, messageRate: null, lastReply: null, updatedAt: 0 };

test('status lists a path as in backoff only while its backoff lasts', () => {
  const now = 1_000_000;
  const cases: { name: string; p: Partial<PathState>; listed: boolean }[] = [
    { name: 'normal', p: {}, listed: false },
    { name: 'backoff, ends later', p: { state: 'backoff', backoffUntil: now + 1 }, listed: true },
    { name: 'backoff, ends now', p: { state: 'backoff', backoffUntil: now }, listed: false },
    { name: 'backoff, ended (engine stopped meanwhile)', p: { state: 'backoff', backoffUntil: now - 60_000 }, listed: false },
    { name: 'backoff without an end time', p: { state: 'backoff', backoffUntil: null }, listed: false },
    { name: 'normal with a stale end time', p: { state: 'normal', backoffUntil: now + 60_000 }, listed: false },
  ];
  for (const c of cases) assert.equal(inBackoff([{ ...base, ...c.p }], now).length, c.listed ? 1 : 0, c.name);
});
