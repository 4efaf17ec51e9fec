import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PiscinaRenderer } from '../../engine/render/pool.js';
import { InProcessRenderer, type Renderer } from '../../engine/render/renderer.js';
import type { Campaign } from '../../storage/store.js';

const CAMPAIGN: Campaign = {
  id: 7,
  name: 'seam',
  from: 'News <news@sender.test>',
  mailFrom: 'news@sender.test',
  subject: 'Hello {{name}} from {{city | "home"}}',
  html: '<p>Hi {{name}}, {{missing}}</p>',
  text: 'Hi {{name}}',
  pool: 'default',
  status: 'running',
  createdAt: 0,
};

/** What differs per call by design: Message-ID, Date and the random MIME boundaries. */
function shape(message: Buffer): string {
  const text = message.toString('utf8');
  const boundaries = [...text.matchAll(/boundary="([^"]+)"/g)].map((m) => m[1]!);
  let out = text.replace(/^Message-ID: .*$/m, 'Message-ID: <ID>').replace(/^Date: .*$/m, 'Date: <DATE>');
  boundaries.forEach((b, i) => (out = out.split(b).join(`<BOUNDARY${i}>`)));
  return out;
}

async function renderBoth(campaign: Campaign, email: string, attrs: Record<string, string>, renderers: Renderer[]) {
  return Promise.all(renderers.map((r) => r.render(campaign, { email, attrs })));
}

test('the in-process and the piscina renderer build the same message, modulo Message-ID, Date and boundaries', async () => {
  const pool = new PiscinaRenderer({ threads: 2 });
  const local = new InProcessRenderer();
  try {
    const rows: [string, Record<string, string>][] = [
      ['ann@d0.test', { name: 'Ann', city: 'Oslo' }],
      ['bob@d1.test', { name: 'Bob <b>' }],
      ['cy@d2.test', {}],
    ];
    // Several rounds so both workers see the campaign: the first task of each asks for the row.
    for (let round = 0; round < 3; round++) {
      for (const [email, attrs] of rows) {
        const [fromPool, fromHere] = await renderBoth(CAMPAIGN, email, attrs, [pool, local]);
        assert.ok(Buffer.isBuffer(fromPool!.message));
        assert.equal(shape(fromPool!.message), shape(fromHere!.message), email);
        assert.deepEqual(fromPool!.missing, fromHere!.missing);
        assert.match(fromPool!.message.toString(), new RegExp(`^To: ${email}\\r$`, 'm'));
        assert.match(fromPool!.message.toString(), /^Message-ID: <[^>]+@sender\.test>\r$/m);
      }
    }
    const [one] = await renderBoth(CAMPAIGN, 'cy@d2.test', {}, [pool]);
    assert.deepEqual(one!.missing.sort(), ['missing', 'name', 'name', 'name'].sort());
  } finally {
    await pool.close();
  }
});

test('a changed campaign under a new id is compiled anew by every worker', async () => {
  const pool = new PiscinaRenderer({ threads: 2 });
  try {
    const a = await Promise.all([1, 2, 3, 4].map(() => pool.render(CAMPAIGN, { email: 'x@d.test', attrs: { name: 'X' } })));
    const other: Campaign = { ...CAMPAIGN, id: 8, subject: 'Other {{name}}' };
    const b = await Promise.all([1, 2, 3, 4].map(() => pool.render(other, { email: 'x@d.test', attrs: { name: 'X' } })));
    for (const r of a) assert.match(r.message.toString(), /^Subject: Hello X from home\r$/m);
    for (const r of b) assert.match(r.message.toString(), /^Subject: Other X\r$/m);
  } finally {
    await pool.close();
  }
});

test('a worker that dies fails its task with RENDER_FAILED, and the pool goes on with a new worker', async () => {
  const pool = new PiscinaRenderer({ threads: 1, filename: new URL('../fixtures/crashing-render-worker.ts', import.meta.url).href });
  try {
    await assert.rejects(pool.render(CAMPAIGN, { email: 'crash@d.test', attrs: {} }), (e: unknown) => (e as { code?: string }).code === 'RENDER_FAILED');
    const after = await pool.render(CAMPAIGN, { email: 'ok@d.test', attrs: { name: 'Ok' } });
    assert.match(after.message.toString(), /^Subject: Hello Ok from home\r$/m);
  } finally {
    await pool.close();
  }
});
