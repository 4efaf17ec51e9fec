import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CAMPAIGN_ACTIONS, transition, type CampaignAction } from '../../engine/campaign/lifecycle.js';
import type { CampaignStatus } from '../../storage/store.js';

const NOW = 1_000_000;
const STATES: CampaignStatus[] = ['importing', 'draft', 'scheduled', 'running', 'paused', 'finished', 'cancelled'];

/** Every (state, action) pair: the resulting state, or null when refused. */
const TABLE: Record<CampaignStatus, Record<CampaignAction, CampaignStatus | null>> = {
  importing: { start: null, pause: null, resume: null, cancel: null },
  draft: { start: 'running', pause: null, resume: null, cancel: 'cancelled' },
  scheduled: { start: null, pause: 'paused', resume: null, cancel: 'cancelled' },
  running: { start: null, pause: 'paused', resume: null, cancel: 'cancelled' },
  paused: { start: null, pause: null, resume: 'running', cancel: 'cancelled' },
  finished: { start: null, pause: null, resume: null, cancel: null },
  cancelled: { start: null, pause: null, resume: null, cancel: null },
};

test('every state × action, allowed and refused', () => {
  for (const status of STATES) {
    for (const action of CAMPAIGN_ACTIONS) {
      const t = transition(status, action, { now: NOW, sendAt: null });
      const want = TABLE[status][action];
      if (want === null) {
        assert.equal(t.ok, false, `${status} ${action}`);
        assert.match(!t.ok ? t.reason : '', new RegExp(`cannot ${action} a ${status} campaign`));
      } else {
        assert.deepEqual(t.ok && t.to, want, `${status} ${action}`);
        assert.ok(t.ok && t.from.includes(status));
      }
    }
  }
});

test('a start time in the future schedules; in the past or none runs at once', () => {
  assert.deepEqual(transition('draft', 'start', { now: NOW, sendAt: NOW + 1 }), { ok: true, from: ['draft'], to: 'scheduled' });
  assert.equal((transition('draft', 'start', { now: NOW, sendAt: NOW - 1 }) as { to: string }).to, 'running');
  assert.equal((transition('paused', 'resume', { now: NOW, sendAt: NOW + 60_000 }) as { to: string }).to, 'scheduled');
  const refused = transition('finished', 'resume', { now: NOW, sendAt: null });
  assert.ok(!refused.ok && refused.reason.endsWith('(allowed: none)'));
  const paused = transition('paused', 'start', { now: NOW, sendAt: null });
  assert.ok(!paused.ok && paused.reason.endsWith('(allowed: resume, cancel)'));
});
