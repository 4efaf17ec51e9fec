import type {} from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { EDITABLE } from '../../engine/campaign/lifecycle.js';
import type { Config } from '../../engine/config/schema.js';
import { checkAddress } from '../../engine/ingress/address.js';
import type { Campaign, NewRecipient, Store } from '../../storage/store.js';
import { HttpError } from '../auth/session.js';
import { campaignInput, type Fields } from './campaign-input.js';
import { campaignSchema, editCampaignBody, idParams } from './campaign-schemas.js';
import { campaignFor } from './campaigns.js';

/** Test sends go to a handful of people, not to a list. */
export const MAX_TEST_RECIPIENTS = 10;

type Edit = Fields & { tracking?: boolean; sendAt?: number | null };

function requireEditable(c: Campaign): void {
  if (!EDITABLE.includes(c.status)) throw new HttpError(409, `cannot edit a ${c.status} campaign (edits only while ${EDITABLE.join(' or ')})`);
}

/** The campaign's content as fields, with the edit laid over it. */
function merged(c: Campaign, e: Edit): Fields {
  const pick = (k: keyof Fields, current: string | null | undefined) => (k in e ? (e[k] ?? undefined) : (current ?? undefined));
  return {
    name: pick('name', c.name),
    from: pick('from', c.from),
    replyTo: pick('replyTo', c.replyTo),
    subject: pick('subject', c.subject),
    html: pick('html', c.html),
    text: pick('text', c.text),
    pool: pick('pool', c.pool),
  };
}

/** Edit (draft or paused only), clone, and test-send a campaign; send_at is part of the edit. */
export async function campaignEditRoutes(app: FastifyInstance, o: { store: Store; config: Config; now?: () => number }): Promise<void> {
  const { store } = o;
  const now = o.now ?? Date.now;

  app.patch<{ Params: { id: number }; Body: Edit }>(
    '/campaigns/:id',
    {
      schema: {
        tags: ['campaigns'],
        summary: 'Change content, tracking or sendAt (null: at once) of a draft or paused campaign; 409 in any other state',
        params: idParams,
        body: editCampaignBody,
        response: { 200: campaignSchema },
      },
    },
    async (req) => {
      const c = campaignFor(store, req, req.params.id);
      requireEditable(c);
      const input = campaignInput(merged(c, req.body), o.store, req.body.tracking ?? c.tracking);
      const changed = store.updateCampaign(c.id, EDITABLE, input);
      if (!changed) throw new HttpError(409, `campaign ${c.id} changed to ${store.getCampaign(c.id)?.status} meanwhile; not edited`);
      if ('sendAt' in req.body) store.setSendAt(c.id, req.body.sendAt ?? null);
      return store.getCampaign(c.id);
    },
  );

  app.post<{ Params: { id: number }; Body: { name?: string } | undefined }>(
    '/campaigns/:id/clone',
    {
      schema: {
        tags: ['campaigns'],
        summary: 'A new draft with the same content, attachments and recipients (all queued afresh), from a campaign in any state; 409 for a submitted message (no template)',
        params: idParams,
        body: { type: ['object', 'null'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 200 } } },
        response: { 201: campaignSchema },
      },
    },
    async (req, reply) => {
      const c = campaignFor(store, req, req.params.id);
      const name = req.body?.name?.trim() || `Copy of ${c.name}`.slice(0, 200);
      return reply.code(201).send(store.cloneCampaign(c.id, name, now()));
    },
  );

  app.post<{ Params: { id: number }; Body: { to: string[]; attrs?: Record<string, string> } }>(
    '/campaigns/:id/test-send',
    {
      schema: {
        tags: ['campaigns'],
        summary:
          `Send the campaign's message to up to ${MAX_TEST_RECIPIENTS} addresses now, through the engine, as a test campaign of its own ` +
          '(its id is returned: watch its stats); the tested campaign\'s state and stats do not change; 409 for a submitted message (no template)',
        params: idParams,
        body: {
          type: 'object',
          required: ['to'],
          additionalProperties: false,
          properties: {
            to: { type: 'array', minItems: 1, maxItems: MAX_TEST_RECIPIENTS, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 320 } },
            attrs: { type: 'object', additionalProperties: { type: 'string', maxLength: 4096 }, maxProperties: 100, description: 'Merge values for the test message' },
          },
        },
        response: {
          202: { type: 'object', properties: { testCampaignId: { type: 'integer' }, accepted: { type: 'integer' }, suppressed: { type: 'integer' } } },
        },
      },
    },
    async (req, reply) => {
      const c = campaignFor(store, req, req.params.id);
      const recipients: NewRecipient[] = req.body.to.map((raw, i) => {
        const v = checkAddress(raw);
        if (!v.ok) throw new HttpError(400, `body/to/${i}: ${v.reason}`);
        return { email: v.email, domain: v.domain, attrs: req.body.attrs ?? {} };
      });
      const made = store.testSend(c.id, recipients, now());
      return reply.code(202).send({ testCampaignId: made.campaignId, accepted: made.accepted, suppressed: made.suppressed });
    },
  );
}
