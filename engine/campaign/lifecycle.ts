import type { Campaign, CampaignStatus, Store } from '../../storage/store.js';

/**
 * Campaign states: draft → scheduled → running ⇄ paused → finished | cancelled. `importing` is the
 * store's own state while recipients stream in (never claimed, never acted on); `finished` is set by
 * the engine when nothing is left to send. Pure table; the store applies it atomically.
 */
export const CAMPAIGN_ACTIONS = ['start', 'pause', 'resume', 'cancel'] as const;
export type CampaignAction = (typeof CAMPAIGN_ACTIONS)[number];

const FROM: Record<CampaignAction, readonly CampaignStatus[]> = {
  start: ['draft'],
  pause: ['running', 'scheduled'],
  resume: ['paused'],
  cancel: ['draft', 'scheduled', 'running', 'paused'],
};

/** Content (subject, body, lists, options) may change only while nothing is being sent. */
export const EDITABLE: readonly CampaignStatus[] = ['draft', 'paused'];

export type Transition = { ok: true; from: readonly CampaignStatus[]; to: CampaignStatus } | { ok: false; reason: string };

/**
 * What `action` does to a campaign in `status`. `start` with a `sendAt` in the future schedules;
 * `resume` of a campaign paused before its time goes back to scheduled.
 */
export function transition(status: CampaignStatus, action: CampaignAction, o: { now: number; sendAt: number | null }): Transition {
  if (!FROM[action].includes(status)) {
    const allowed = CAMPAIGN_ACTIONS.filter((a) => FROM[a].includes(status));
    return { ok: false, reason: `cannot ${action} a ${status} campaign (allowed: ${allowed.join(', ') || 'none'})` };
  }
  const later = o.sendAt !== null && o.sendAt > o.now;
  switch (action) {
    case 'start':
    case 'resume':
      return { ok: true, from: FROM[action], to: later ? 'scheduled' : 'running' };
    case 'pause':
      return { ok: true, from: FROM.pause, to: 'paused' };
    case 'cancel':
      return { ok: true, from: FROM.cancel, to: 'cancelled' };
  }
}

export class CampaignStateError extends Error {
  readonly code = 'CAMPAIGN_STATE';
  constructor(
    message: string,
    readonly status: CampaignStatus | null,
  ) {
    super(message);
    this.name = 'CampaignStateError';
  }
}

/**
 * Applies an action. The store re-checks the state in the same statement, so two clients racing
 * (pause against cancel) cannot both win. Cancel also ends the live recipients as `cancelled`.
 * @throws CampaignStateError (unknown campaign, or the action is not allowed now)
 */
export function applyCampaignAction(store: Store, id: number, action: CampaignAction, now: number): Campaign {
  const c = store.getCampaign(id);
  if (!c) throw new CampaignStateError(`no campaign ${id}`, null);
  const t = transition(c.status, action, { now, sendAt: c.sendAt ?? null });
  if (!t.ok) throw new CampaignStateError(t.reason, c.status);
  const changed = store.transitionCampaign(id, t.from, t.to, now);
  if (!changed) {
    const current = store.getCampaign(id)?.status ?? null;
    throw new CampaignStateError(`campaign ${id} changed to ${current} meanwhile; cannot ${action} it now`, current);
  }
  return changed;
}
