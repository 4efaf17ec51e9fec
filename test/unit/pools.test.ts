import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Pools } from '../../engine/scheduler/pools.js';

const sources = [
  { address: '127.0.1.1', helo: 'a.test' },
  { address: '127.0.1.2', helo: 'b.test' },
];

test('weighted pick follows the weights', () => {
  let i = 0;
  const seq = [0.0, 0.24, 0.26, 0.99];
  const pools = new Pools(sources, { default: { sources: [{ address: '127.0.1.1', weight: 1 }, { address: '127.0.1.2', weight: 3 }] } }, () => seq[i++]!);
  assert.deepEqual(seq.map(() => pools.pick('default', null)?.address), ['127.0.1.1', '127.0.1.1', '127.0.1.2', '127.0.1.2']);
});

test('a retry keeps its source while the pool still has it', () => {
  const pools = new Pools(sources, { default: { sources: [{ address: '127.0.1.1', weight: 1 }] } }, () => 0.99);
  assert.equal(pools.pick('default', '127.0.1.1')?.address, '127.0.1.1');
  assert.equal(pools.pick('default', '127.0.1.9')?.address, '127.0.1.1', 'a source gone from the pool is replaced');
});

test('no sources configured: the host default (null)', () => {
  const pools = new Pools([], {});
  assert.equal(pools.has('default'), true);
  assert.equal(pools.pick('default', null), null);
  assert.equal(pools.has('other'), false);
});

test('choose: sticky unless in backoff (greylisted stays), capped sources never, blocked when none is left', () => {
  const pool = { default: { sources: [{ address: '127.0.1.1', weight: 1 }, { address: '127.0.1.2', weight: 1 }] } };
  const pools = new Pools(sources, pool, () => 0);
  const backoff1 = (a: string) => a === '127.0.1.1';
  const cases: { name: string; sticky: string | null; avoid?: (a: string) => boolean; blocked?: (a: string) => boolean; keepSticky?: boolean; want: string | null }[] = [
    { name: 'sticky kept', sticky: '127.0.1.2', want: '127.0.1.2' },
    { name: 'sticky in backoff moves', sticky: '127.0.1.1', avoid: backoff1, want: '127.0.1.2' },
    { name: 'greylisted keeps its source in backoff', sticky: '127.0.1.1', avoid: backoff1, keepSticky: true, want: '127.0.1.1' },
    { name: 'new recipient avoids backoff', sticky: null, avoid: backoff1, want: '127.0.1.2' },
    { name: 'all in backoff: still sends', sticky: null, avoid: () => true, want: '127.0.1.1' },
    { name: 'capped sticky moves even when greylisted', sticky: '127.0.1.1', blocked: backoff1, keepSticky: true, want: '127.0.1.2' },
    { name: 'all capped', sticky: null, blocked: () => true, want: 'blocked' },
  ];
  for (const c of cases) {
    const got = pools.choose('default', c.sticky, { avoid: c.avoid, blocked: c.blocked, keepSticky: c.keepSticky });
    assert.equal(typeof got === 'string' ? got : (got?.address ?? null), c.want, c.name);
  }
});

test('choose: only sources of a family the site has; unreachable when the pool has none', () => {
  const dual = [...sources, { address: '::1', helo: 'v6.test' }];
  const pool = { default: { sources: [{ address: '127.0.1.1', weight: 5 }, { address: '::1', weight: 1 }] } };
  const pools = new Pools(dual, pool, () => 0);
  const v6only = (a: string) => a.includes(':');
  const cases: { name: string; sticky: string | null; reaches?: (a: string) => boolean; blocked?: (a: string) => boolean; want: string }[] = [
    { name: 'no constraint: weighted choice', sticky: null, want: '127.0.1.1' },
    { name: 'IPv6-only site: the IPv6 source', sticky: null, reaches: v6only, want: '::1' },
    { name: 'a sticky IPv4 source gives way', sticky: '127.0.1.1', reaches: v6only, want: '::1' },
    { name: 'no source reaches', sticky: null, reaches: () => false, want: 'unreachable' },
    { name: 'the only reaching source is capped', sticky: null, reaches: v6only, blocked: v6only, want: 'blocked' },
  ];
  for (const c of cases) {
    const got = pools.choose('default', c.sticky, { reaches: c.reaches, blocked: c.blocked });
    assert.equal(typeof got === 'string' ? got : (got?.address ?? null), c.want, c.name);
  }
});
