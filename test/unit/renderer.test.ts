import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { dkimDnsRecord, generateDkimKey, signerFromKeys } from '../../engine/dkim/keys.js';
import type { DkimAlgorithm } from '../../engine/dkim/sign.js';
import type { RenderDeps } from '../../engine/render/message.js';
import { PiscinaRenderer } from '../../engine/render/pool.js';
import { InProcessRenderer, type CampaignSource, type Renderer } from '../../engine/render/renderer.js';
import type { WorkerSetup } from '../../engine/render/worker.js';
import { trackingDecorator } from '../../engine/tracking/decorator.js';

const SOURCE: CampaignSource = {
  campaign: {
    id: 7,
    name: 'seam',
    from: 'News <news@sender.test>',
    mailFrom: 'news@sender.test',
    subject: 'Hello {{name}} from {{city | "home"}}',
    html: '<p>Hi {{name}}, {{missing}} <a href="https://shop.test/x">shop</a></p>',
    text: 'Hi {{name}}',
    tracking: true,
    pool: 'default',
    status: 'running',
    createdAt: 0,
  },
  attachments: [{ filename: 'a.txt', contentType: 'text/plain', content: Buffer.from('attached'), cid: null }],
};

const rsa = generateDkimKey('rsa-sha256');
const ed = generateDkimKey('ed25519-sha256');
const SETUP: WorkerSetup = {
  dkim: [
    { domain: 'sender.test', selector: 'r1', algorithm: 'rsa-sha256' as DkimAlgorithm, privateKeyPem: rsa.privateKeyPem },
    { domain: 'sender.test', selector: 'e1', algorithm: 'ed25519-sha256' as DkimAlgorithm, privateKeyPem: ed.privateKeyPem },
  ],
  xMailer: 'mxpress-test',
  feedbackId: 'seam',
  tracking: { key: randomBytes(32), baseUrl: 'https://t.sender.test', unsubscribeDomain: 'sender.test' },
};
const DEPS: RenderDeps = { signer: signerFromKeys(SETUP.dkim), decorator: trackingDecorator(SETUP.tracking!), xMailer: SETUP.xMailer, feedbackId: SETUP.feedbackId };
const records = new Map(
  [dkimDnsRecord('sender.test', 'r1', 'rsa-sha256', rsa.publicKey), dkimDnsRecord('sender.test', 'e1', 'ed25519-sha256', ed.publicKey)].map((r) => [r.name, r.value]),
);
const resolver = async (name: string) => {
  const v = records.get(name);
  if (!v) throw Object.assign(new Error('no record'), { code: 'ENOTFOUND' });
  return [[v]];
};

/** What differs per call by design: Message-ID, Date, the random MIME boundaries, and so the DKIM signatures. */
function shape(message: Buffer): string {
  const text = message.toString('utf8');
  const boundaries = [...text.matchAll(/boundary="([^"]+)"/g)].map((m) => m[1]!);
  let out = text
    .replace(/^Message-ID: .*$/m, 'Message-ID: <ID>')
    .replace(/^Date: .*$/m, 'Date: <DATE>')
    .replace(/^DKIM-Signature: (?:.*\r\n[ \t].*)*.*$/gm, (sig) => `DKIM-Signature: ${/a=([\w-]+)/.exec(sig)![1]} ${/s=(\w+)/.exec(sig)![1]}`);
  boundaries.forEach((b, i) => (out = out.split(b).join(`<BOUNDARY${i}>`)));
  return out;
}

async function renderBoth(email: string, attrs: Record<string, string>, renderers: Renderer[]) {
  return Promise.all(renderers.map((r) => r.render(SOURCE, { id: 1, email, attrs })));
}

test('the in-process and the piscina renderer build the same signed message, modulo Message-ID, Date, boundaries and signature values', async () => {
  const pool = new PiscinaRenderer({ threads: 2, setup: SETUP });
  const local = new InProcessRenderer(DEPS);
  try {
    const rows: [string, Record<string, string>][] = [
      ['ann@d0.test', { name: 'Ann', city: 'Oslo' }],
      ['bob@d1.test', { name: 'Bob <b>' }],
      ['cy@d2.test', {}],
    ];
    // Several rounds so both workers see the campaign: the first task of each asks for the row.
    for (let round = 0; round < 3; round++) {
      for (const [email, attrs] of rows) {
        const [fromPool, fromHere] = await renderBoth(email, attrs, [pool, local]);
        assert.ok(Buffer.isBuffer(fromPool!.message));
        assert.equal(shape(fromPool!.message), shape(fromHere!.message), email);
        assert.deepEqual(fromPool!.missing, fromHere!.missing);
        const text = fromPool!.message.toString();
        assert.match(text, new RegExp(`^To: ${email}\\r$`, 'm'));
        assert.match(text, /^Message-ID: <[^>]+@sender\.test>\r$/m);
        assert.match(text, /filename=a\.txt/);
        // Tracking applied in the worker: the link is a click redirect, List-Unsubscribe is signed.
        assert.match(text, /^List-Unsubscribe: <https:\/\/t\.sender\.test\/u\/[^>]+>,\s+<mailto:/m);
        assert.doesNotMatch(text, /shop\.test\/x/);
      }
    }
    const [one] = await renderBoth('cy@d2.test', {}, [pool]);
    assert.deepEqual(one!.missing.sort(), ['missing', 'name', 'name', 'name'].sort());
  } finally {
    await pool.close();
  }
});

test('messages signed in the workers carry RSA and Ed25519 signatures that verify', async () => {
  const pool = new PiscinaRenderer({ threads: 2, setup: SETUP });
  try {
    const signed = await Promise.all([1, 2, 3, 4].map((i) => pool.render(SOURCE, { id: i, email: `u${i}@d.test`, attrs: { name: `U${i}` } })));
    for (const { message } of signed) {
      const result = await dkimVerify(message, { resolver } as Parameters<typeof dkimVerify>[1]);
      assert.deepEqual(
        result.results.map((r) => `${r.selector}:${r.status.result}`).sort(),
        ['e1:pass', 'r1:pass'],
      );
    }
  } finally {
    await pool.close();
  }
});

/** Each thread's nice value (Linux: field 19 of /proc/self/task/<tid>/stat); a thread that ended meanwhile is left out. */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task').flatMap((tid) => {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
      return [Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])];
    } catch {
      return [];
    }
  });
}

const niceSkip = !existsSync('/proc/self/task') ? 'needs Linux /proc' : getPriority() > 12 ? 'the test process itself runs at nice > 12' : false;

test('the render threads run at the nice increment they are given, and only they', { skip: niceSkip }, async () => {
  const own = getPriority();
  const pool = new PiscinaRenderer({ threads: 2, nice: 7, setup: SETUP });
  try {
    await Promise.all([1, 2, 3, 4].map((i) => pool.render(SOURCE, { id: i, email: `u${i}@d.test`, attrs: { name: `U${i}` } })));
    // Each thread lowers itself as it starts; both have started by now, or do within moments.
    let lowered = 0;
    for (let i = 0; i < 50 && lowered < 2; i++, await sleep(100)) lowered = threadNiceValues().filter((n) => n === own + 7).length;
    assert.equal(lowered, 2, 'both render threads at +7');
    assert.equal(getPriority(), own, 'the thread that started them keeps its priority');
  } finally {
    await pool.close();
  }
  const fresh = new PiscinaRenderer({ threads: 1, setup: SETUP });
  try {
    await fresh.render(SOURCE, { id: 1, email: 'u@d.test', attrs: { name: 'U' } });
    assert.deepEqual(new Set(threadNiceValues()), new Set([own]), 'no increment given: every thread at the process priority');
  } finally {
    await fresh.close();
  }
});

test('a changed campaign under a new id is compiled anew by every worker', async () => {
  const pool = new PiscinaRenderer({ threads: 2, setup: SETUP });
  try {
    const a = await Promise.all([1, 2, 3, 4].map(() => pool.render(SOURCE, { id: 1, email: 'x@d.test', attrs: { name: 'X' } })));
    const other: CampaignSource = { ...SOURCE, campaign: { ...SOURCE.campaign, id: 8, subject: 'Other {{name}}' } };
    const b = await Promise.all([1, 2, 3, 4].map(() => pool.render(other, { id: 1, email: 'x@d.test', attrs: { name: 'X' } })));
    for (const r of a) assert.match(r.message.toString(), /^Subject: Hello X from home\r$/m);
    for (const r of b) assert.match(r.message.toString(), /^Subject: Other X\r$/m);
  } finally {
    await pool.close();
  }
});

test('a worker that dies fails its task with RENDER_FAILED, and the pool goes on with a new worker', async () => {
  const pool = new PiscinaRenderer({ threads: 1, setup: SETUP, filename: new URL('../fixtures/crashing-render-worker.ts', import.meta.url).href });
  try {
    await assert.rejects(pool.render(SOURCE, { id: 1, email: 'crash@d.test', attrs: {} }), (e: unknown) => (e as { code?: string }).code === 'RENDER_FAILED');
    const after = await pool.render(SOURCE, { id: 2, email: 'ok@d.test', attrs: { name: 'Ok' } });
    assert.match(after.message.toString(), /^Subject: Hello Ok from home\r$/m);
  } finally {
    await pool.close();
  }
});

test('a worker stuck past the task timeout is replaced: its task fails with RENDER_FAILED, the next one is rendered', async () => {
  const pool = new PiscinaRenderer({ threads: 1, taskTimeoutMs: 2000, setup: SETUP, filename: new URL('../fixtures/crashing-render-worker.ts', import.meta.url).href });
  try {
    await assert.rejects(pool.render(SOURCE, { id: 1, email: 'hang@d.test', attrs: {} }), (e: unknown) => (e as { code?: string }).code === 'RENDER_FAILED');
    const after = await pool.render(SOURCE, { id: 2, email: 'ok@d.test', attrs: { name: 'Ok' } });
    assert.match(after.message.toString(), /^Subject: Hello Ok from home\r$/m);
  } finally {
    await pool.close();
  }
});

test('a thread holds the next batch while it runs one; a batch behind one that hangs the thread is rendered, only the hanging message fails', { timeout: 30_000 }, async () => {
  const pool = new PiscinaRenderer({ threads: 1, taskTimeoutMs: 1000, setup: SETUP, filename: new URL('../fixtures/crashing-render-worker.ts', import.meta.url).href });
  try {
    const stuck = pool.render(SOURCE, { id: 1, email: 'hang@d.test', attrs: {} });
    // Asked for in a later turn: a second task, which goes to the only thread while the first runs there.
    await new Promise((resolve) => setImmediate(resolve));
    // One message: a task of several would be split after failing, and its messages rendered alone
    // even if the failure were blamed on it.
    const behind = pool.render(SOURCE, { id: 2, email: 'ok2@d.test', attrs: { name: 'Ok2' } });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(pool.load, { handedOut: 2, queued: 0, handedAgain: 0 }, 'both tasks with the only thread, none waiting in piscina');
    await assert.rejects(stuck, (e: unknown) => (e as { code?: string }).code === 'RENDER_FAILED');
    assert.match((await behind).message.toString(), /^Subject: Hello Ok2 from home\r$/m);
    assert.equal(pool.load.handedAgain, 1, 'the task behind was handed out again once, unchanged');
  } finally {
    await pool.close();
  }
});

test('a task is timed from when it begins on its thread, not from when it was handed over', { timeout: 30_000 }, async () => {
  // Each keeps the only thread busy 600 ms; the second, handed over at once, ends 1.2 s after that.
  const pool = new PiscinaRenderer({ threads: 1, taskTimeoutMs: 1000, setup: SETUP, filename: new URL('../fixtures/crashing-render-worker.ts', import.meta.url).href });
  try {
    const one = pool.render(SOURCE, { id: 1, email: 'slow@d1.test', attrs: { name: 'One' } });
    await new Promise((resolve) => setImmediate(resolve));
    const two = pool.render(SOURCE, { id: 2, email: 'slow@d2.test', attrs: { name: 'Two' } });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(pool.load.handedOut, 2);
    assert.match((await one).message.toString(), /^Subject: Hello One from home\r$/m);
    assert.match((await two).message.toString(), /^Subject: Hello Two from home\r$/m);
  } finally {
    await pool.close();
  }
});

test('a render that throws fails with its message at once, and the next is rendered', async () => {
  const pool = new PiscinaRenderer({ threads: 1, setup: SETUP, filename: new URL('../fixtures/crashing-render-worker.ts', import.meta.url).href });
  try {
    await assert.rejects(pool.render(SOURCE, { id: 1, email: 'throw@d.test', attrs: {} }), (e: unknown) => {
      assert.equal((e as { code?: string }).code, 'RENDER_FAILED');
      assert.match((e as Error).message, /a template helper threw/);
      return true;
    });
    assert.equal(pool.load.handedAgain, 0, 'it had begun: it failed as itself, not as a task whose thread ended before it began');
    assert.match((await pool.render(SOURCE, { id: 2, email: 'ok@d.test', attrs: { name: 'Ok' } })).message.toString(), /^Subject: Hello Ok from home\r$/m);
  } finally {
    await pool.close();
  }
});

test('messages asked for together are rendered in batches; one that kills its worker fails alone, the rest of its batch is rendered', async () => {
  const pool = new PiscinaRenderer({ threads: 1, setup: SETUP, filename: new URL('../fixtures/crashing-render-worker.ts', import.meta.url).href });
  try {
    const emails = ['a@d.test', 'b@d.test', 'crash@d.test', 'c@d.test', ...Array.from({ length: 30 }, (_, i) => `u${i}@d.test`)];
    const results = await Promise.allSettled(emails.map((email, id) => pool.render(SOURCE, { id: id + 1, email, attrs: { name: `N${id}` } })));
    results.forEach((r, id) => {
      if (emails[id] === 'crash@d.test') {
        assert.equal(r.status, 'rejected');
        assert.equal((r as PromiseRejectedResult).reason.code, 'RENDER_FAILED');
        return;
      }
      assert.equal(r.status, 'fulfilled', `${emails[id]}: ${String((r as PromiseRejectedResult).reason?.stack)}`);
      const text = (r as PromiseFulfilledResult<{ message: Buffer }>).value.message.toString();
      assert.match(text, new RegExp(`^To: ${emails[id]}\\r$`, 'm'));
      assert.match(text, new RegExp(`^Subject: Hello N${id} from home\\r$`, 'm'));
    });
  } finally {
    await pool.close();
  }
});

test('new keys sign from the next render on, in every worker, also in one that replaced a dead worker; a bad key is refused and the old set stays', async () => {
  const unsigned: WorkerSetup = { ...SETUP, dkim: [] };
  const selectors = (m: Buffer) => [...m.toString().matchAll(/^DKIM-Signature:[^]*?\bs=([a-z0-9]+);/gm)].map((x) => x[1]).sort();
  const fresh = generateDkimKey('ed25519-sha256');
  const later = [{ domain: 'sender.test', selector: 'n1', algorithm: 'ed25519-sha256' as DkimAlgorithm, privateKeyPem: fresh.privateKeyPem }];
  const pool = new PiscinaRenderer({ threads: 1, setup: unsigned, filename: new URL('../fixtures/crashing-render-worker.ts', import.meta.url).href });
  const inProcess = new InProcessRenderer({ signer: signerFromKeys([]), decorator: null, xMailer: 'x', feedbackId: '' });
  try {
    for (const r of [pool, inProcess] as Renderer[]) {
      const plain = { ...SOURCE, campaign: { ...SOURCE.campaign, tracking: false } };
      assert.deepEqual(selectors((await r.render(plain, { id: 1, email: 'a@d.test', attrs: {} })).message), []);
      r.setKeys(later);
      assert.deepEqual(selectors((await r.render(plain, { id: 2, email: 'b@d.test', attrs: {} })).message), ['n1']);
      assert.throws(() => r.setKeys([{ ...later[0]!, privateKeyPem: 'not a key' }]), /not a PEM private key/);
      assert.deepEqual(selectors((await r.render(plain, { id: 3, email: 'c@d.test', attrs: {} })).message), ['n1'], 'the refused set changed nothing');
    }
    // piscina starts a new worker, from workerData (no keys): it is given the current set.
    await assert.rejects(pool.render(SOURCE, { id: 4, email: 'crash@d.test', attrs: {} }));
    assert.deepEqual(selectors((await pool.render(SOURCE, { id: 5, email: 'e@d.test', attrs: {} })).message), ['n1']);
  } finally {
    await pool.close();
  }
});
