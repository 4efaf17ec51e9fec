import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Route } from '../../engine/dns/mx.js';
import { EgressPath } from '../../engine/scheduler/path.js';
import type { BackoffPolicy, PathLimits } from '../../engine/shaping/policy.js';
import { parseRate } from '../../engine/shaping/rate.js';

const policy: BackoffPolicy = { categories: ['rate-limited'], durationMs: 10_000, maxConnections: 1, maxMessageRate: parseRate('60/min') };
const limits: PathLimits = {
  maxConnections: 2,
  maxMessagesPerConnection: 100,
  maxMessageRate: parseRate('6/min'),
  maxConnectionRate: parseRate('30/min'),
  idleTimeoutMs: 100,
  maxRecipientsPerTransaction: 10,
};
const route = (site: string): Route => ({ kind: 'route', site, hosts: [{ host: site, preference: 10 }], implicit: false });

function path(l: PathLimits = limits): EgressPath {
  return new EgressPath('127.0.1.1|s', { address: '127.0.1.1', helo: 'h' }, { key: 's', limits: l }, 0);
}

test('an idle path is kept until its token buckets are full again (no fresh burst by forgetting it)', () => {
  const cases: { name: string; msgAt?: number; connAt?: number; now: number; want: boolean }[] = [
    { name: 'never used', now: 0, want: true },
    { name: 'message sent just now (6/min: 10 s per token)', msgAt: 0, now: 1, want: false },
    { name: 'message bucket still refilling', msgAt: 0, now: 9_999, want: false },
    { name: 'message bucket full again', msgAt: 0, now: 10_000, want: true },
    { name: 'connection bucket still refilling (30/min: 2 s per token)', connAt: 0, now: 1_999, want: false },
    { name: 'connection bucket full again', connAt: 0, now: 2_000, want: true },
  ];
  for (const c of cases) {
    const p = path();
    if (c.msgAt !== undefined) assert.equal(p.messages.take(c.msgAt, limits.maxMessageRate), 0);
    if (c.connAt !== undefined) assert.equal(p.connects.take(c.connAt, limits.maxConnectionRate), 0);
    assert.equal(p.disposable(policy, c.now), c.want, c.name);
  }
});

test('a path with queued jobs, open sessions or backoff is never disposable', () => {
  const unlimited = { ...limits, maxMessageRate: null, maxConnectionRate: null };
  const queued = path(unlimited);
  queued.lane(route('mx.a.test')).jobs.push({ mailFrom: '', recipients: [], message: Buffer.alloc(0) });
  assert.equal(queued.disposable(policy, 1e9), false);
  const open = path(unlimited);
  open.sessions = 1;
  assert.equal(open.disposable(policy, 1e9), false);
  const throttled = path(unlimited);
  throttled.throttled(policy, 0, '421 4.7.0 rate limited');
  assert.equal(throttled.disposable(policy, 9_999), false);
  assert.equal(throttled.disposable(policy, 10_000), true);
  const empty = path(unlimited);
  empty.lane(route('mx.a.test'));
  assert.equal(empty.disposable(policy, 0), true, 'an empty lane is dropped with the path');
  assert.equal(empty.lanes.size, 0);
});

test('lanes: one per MX set; a lane without a session gets the next connection', () => {
  const p = path();
  const a = p.lane(route('mx.a.test'));
  const b = p.lane(route('mx.b.test'));
  assert.equal(p.lane(route('mx.a.test')), a);
  const job = { mailFrom: '', recipients: [], message: Buffer.alloc(0) };
  a.jobs.push(job, job, job);
  assert.equal(p.laneToOpen(), a);
  a.sessions = 1;
  b.jobs.push(job);
  assert.equal(p.laneToOpen(), b, 'b has no session yet');
  b.sessions = 1;
  assert.equal(p.laneToOpen(), a, 'a has more jobs than sessions');
  a.sessions = 3;
  assert.equal(p.laneToOpen(), undefined);
  assert.equal(p.queuedJobs, 4);
});
