import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { ReplyTracker } from '../../engine/delivery/watchdog.js';
import { DkimSigner } from '../../engine/dkim/sign.js';
import { checkAddress } from '../../engine/ingress/address.js';
import { readRecipientCsv, type CsvBatch } from '../../engine/ingress/csv.js';
import { IngressError } from '../../engine/ingress/errors.js';
import { classify, defaultRules } from '../../engine/outcome/classify.js';
import { parseReply } from '../../engine/outcome/reply.js';
import type { AttemptResult, FailureKind, SmtpStage } from '../../engine/outcome/types.js';
import { compileCampaign, renderMessage, type RenderDeps } from '../../engine/render/message.js';
import { compileTemplate, escapeHtml, renderTemplate, TemplateError, type Template } from '../../engine/render/template.js';
import type { Campaign } from '../../storage/store.js';

/**
 * Property tests (fast-check): for any input, no crash other than the typed error, no hang (each test
 * has a time limit far above its normal run), and the invariants each function promises.
 */
const LIMIT = { timeout: 120_000 };
const RUNS = { numRuns: 300 };

// ------------------------------------------------------------------ template renderer

/** Text with plenty of the template syntax's own characters in it. */
const templateish = fc.string({ unit: fc.constantFrom('{', '}', '|', '"', '\\', ' ', 'a', 'Z', '_', '.', '-', '1', '\r', '\n', 'é', '😀'), maxLength: 60 });
const anyText = fc.string({ unit: 'grapheme', maxLength: 40 });
const key = fc.stringMatching(/^[A-Za-z_][\w.-]{0,8}$/);
const vars = fc.dictionary(key, anyText, { maxKeys: 5 });

test('template: any source compiles or fails with TemplateError and an offset inside it', LIMIT, () => {
  fc.assert(
    fc.property(fc.oneof(templateish, fc.string({ unit: 'binary', maxLength: 80 })), vars, (src, v) => {
      let t: Template;
      try {
        t = compileTemplate(src);
      } catch (err) {
        assert.ok(err instanceof TemplateError, String(err));
        assert.ok(err.offset >= 0 && err.offset < src.length);
        return;
      }
      assert.equal(typeof renderTemplate(t, v), 'string');
    }),
    RUNS,
  );
});

/** A template built from pieces: literal text (no "{{" in it) and tags with optional defaults. */
const piece = fc.oneof(
  fc.string({ maxLength: 12 }).filter((s) => !s.includes('{{') && !s.includes('}}') && !s.endsWith('{') && !s.startsWith('}')),
  fc.record({ key, fallback: fc.option(fc.string({ maxLength: 8 }).filter((s) => !s.includes('}}') && !s.endsWith('}')), { nil: undefined }) }),
);

test('template: rendering substitutes values and defaults and keeps the text as written', LIMIT, () => {
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 8 }), vars, (pieces, v) => {
      // Adjacent literal pieces must not form "{{" or "}}" between them.
      const src = pieces.map((p) => (typeof p === 'string' ? p : `{{${p.key}${p.fallback === undefined ? '' : ` | "${p.fallback.replace(/["\\]/g, '\\$&')}"`}}}`)).join('\u0000');
      const expected = pieces
        .map((p) => {
          if (typeof p === 'string') return p;
          const value = v[p.key];
          return value === undefined || value === '' ? (p.fallback ?? '') : value;
        })
        .join('\u0000');
      assert.equal(renderTemplate(compileTemplate(src), v), expected);
    }),
    RUNS,
  );
});

test('template: escaped values never bring markup into HTML', LIMIT, () => {
  fc.assert(
    fc.property(anyText, (value) => {
      const out = renderTemplate(compileTemplate('<p>{{v}}</p>'), { v: value }, { escape: escapeHtml });
      assert.doesNotMatch(out.slice(3, -4), /[<>"']/);
    }),
    RUNS,
  );
});

const deps: RenderDeps = { signer: new DkimSigner([]), decorator: null, xMailer: 'mxpress', feedbackId: 'mxpress' };
const campaign = (subject: string): Campaign => ({
  id: 1, name: 'p', from: 'News <news@sender.test>', mailFrom: 'news@sender.test', subject, html: '<p>{{name}}</p>', text: null, pool: 'default', status: 'running', createdAt: 0,
});
/** Values built to break headers: line breaks, header-looking text, long runs, non-ASCII. */
const hostile = fc.string({ unit: fc.constantFrom('\r', '\n', 'Bcc: x@y.test', ':', ' ', 'a', 'é', '\u0000', '=?', '?=', 'x'.repeat(30)), maxLength: 12 });

test('rendered messages: no recipient value can add a header line (the subject never carries CR/LF)', LIMIT, async () => {
  await fc.assert(
    fc.asyncProperty(hostile, hostile, async (subjectText, name) => {
      const compiled = compileCampaign(campaign(`${subjectText.replace(/\{\{|\}\}/g, '')} {{name}}`), [], deps);
      const raw = (await renderMessage(compiled, { id: 1, email: 'r@d.test', attrs: { name } }, deps)).toString('latin1');
      const head = raw.split('\r\n\r\n')[0]!;
      // Every header line is a "Name: value" line or a folded continuation (starts with space/tab).
      for (const line of head.split('\r\n')) assert.match(line, /^([\x21-\x39\x3b-\x7e]+:|[ \t])/, JSON.stringify(line));
      assert.doesNotMatch(head, /^Bcc:/im);
      assert.ok(!/[\r\n]/.test(head.replace(/\r\n/g, '')), 'no bare CR or LF in the header block');
    }),
    { numRuns: 150 },
  );
});

// ------------------------------------------------------------------ CSV importer

const dir = mkdtempSync(join(tmpdir(), 'mxpress-prop-'));
let files = 0;
function write(content: string): string {
  const p = join(dir, `p${files++}.csv`);
  writeFileSync(p, content);
  return p;
}

async function readAll(path: string): Promise<CsvBatch[]> {
  const out: CsvBatch[] = [];
  for await (const b of readRecipientCsv(path, 7)) out.push(b);
  return out;
}

const csvChars = fc.string({ unit: fc.constantFrom(',', ';', '"', '\r', '\n', '\t', '|', '@', '.', 'a', 'B', 'é', ' ', '\u00a0', '\ufeff', 'email', 'x@d.test'), maxLength: 80 });

test('CSV: any file reads as recipients and invalid rows, or fails with an IngressError', LIMIT, async () => {
  await fc.assert(
    fc.asyncProperty(fc.oneof(csvChars.map((s) => `email,name\n${s}`), csvChars), async (content) => {
      let batches: CsvBatch[];
      try {
        batches = await readAll(write(content));
      } catch (err) {
        assert.ok(err instanceof IngressError, String(err));
        return;
      }
      for (const b of batches) {
        assert.ok(b.recipients.length + b.invalid.length <= 7, 'batches are bounded');
        for (const r of b.recipients) {
          const v = checkAddress(r.email);
          assert.ok(v.ok && v.email === r.email && v.domain === r.domain, `stored address is valid and normalized: ${r.email}`);
        }
        for (const i of b.invalid) assert.ok(i.line >= 2 && i.reason.length > 0);
      }
    }),
    RUNS,
  );
});

const quote = (v: string) => (/[",\r\n]/.test(v) || v.trim() !== v ? `"${v.replace(/"/g, '""')}"` : v);
const local = fc.stringMatching(/^[a-z0-9][a-z0-9._+-]{0,10}$/).filter((s) => !s.includes('..') && !s.endsWith('.'));

test('CSV: written rows come back the same, any attribute text, in order', LIMIT, async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(local, fc.string({ unit: 'grapheme', maxLength: 20 })), { minLength: 1, maxLength: 20 }), async (rows) => {
      const body = ['email,note', ...rows.map(([l, note], i) => `${l}${i}@D${i % 3}.test,${quote(note)}`)].join('\r\n');
      const batches = await readAll(write(body));
      const got = batches.flatMap((b) => b.recipients);
      assert.deepEqual(batches.flatMap((b) => b.invalid), []);
      assert.deepEqual(
        got,
        rows.map(([l, note], i) => ({ email: `${l}${i}@d${i % 3}.test`, domain: `d${i % 3}.test`, attrs: { note } })),
      );
    }),
    { numRuns: 200 },
  );
});

// ------------------------------------------------------------------ classifier and reply parsing

const rules = defaultRules();
const stage = fc.constantFrom<SmtpStage>('connect', 'ehlo', 'starttls', 'mail', 'rcpt', 'data', 'message');
const failureKind = fc.constantFrom<FailureKind>('network', 'timeout', 'tls', 'protocol', 'dns');
const enhanced = fc.option(fc.tuple(fc.integer({ min: 2, max: 5 }), fc.integer({ min: 0, max: 999 }), fc.integer({ min: 0, max: 999 })).map((p) => p.join('.')), { nil: undefined });
const reply = fc.record({ kind: fc.constant('reply' as const), stage, code: fc.integer({ min: 0, max: 999 }), enhanced, text: fc.string({ maxLength: 60 }) });
const failure = fc.record({ kind: fc.constant('failure' as const), failure: failureKind, message: fc.string({ maxLength: 40 }), dnsCode: fc.option(fc.constantFrom('ENOTFOUND', 'ENODATA', 'NULLMX', 'ESERVFAIL', 'ETIMEOUT', 'EREFUSED', 'X'), { nil: undefined }) });

test('classifier: every result gets a verdict; only a 2xx is delivered, a 4xx never bounces', LIMIT, () => {
  fc.assert(
    fc.property(fc.oneof(reply, failure), (result) => {
      const v = classify(result as AttemptResult, rules);
      if (v.outcome === 'delivered') assert.ok(result.kind === 'reply' && result.code >= 200 && result.code < 300, JSON.stringify(result));
      else assert.ok(v.category.length > 0);
      if (result.kind === 'reply' && result.code >= 400 && result.code < 500) assert.notEqual(v.outcome, 'bounced', JSON.stringify(result));
      if (v.outcome === 'deferred' && v.retryAfterMs !== undefined) assert.ok(v.retryAfterMs > 0 && v.retryAfterMs <= 24 * 3600_000);
    }),
    { numRuns: 2000 },
  );
});

test('reply parsing: any text parses, and what it finds is a real reply code', LIMIT, () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 200 }), stage, (raw, s) => {
      const r = parseReply(raw, s);
      assert.ok(r.code === 0 || (r.code >= 100 && r.code <= 599), String(r.code));
      assert.doesNotMatch(r.text, /[\r\n]/);
      assert.equal(classify(r, rules).outcome === 'delivered', r.code >= 200 && r.code < 300 && s === 'message');
    }),
    { numRuns: 1000 },
  );
});

// ------------------------------------------------------------------ reply clock

const replyText = fc.array(fc.tuple(fc.integer({ min: 200, max: 599 }), fc.array(fc.string({ unit: fc.constantFrom('a', ' ', '-', '1'), maxLength: 6 }), { minLength: 1, maxLength: 4 })), { minLength: 1, maxLength: 4 })
  .map((replies) => replies.map(([code, lines]) => lines.map((l, i) => `${code}${i < lines.length - 1 ? '-' : ' '}${l}\r\n`).join('')).join(''));

test('reply clock: however the bytes are split, complete replies leave nothing open', LIMIT, () => {
  fc.assert(
    fc.property(replyText, fc.array(fc.nat(), { maxLength: 6 }), (text, cuts) => {
      const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
      const t = new ReplyTracker();
      let from = 0;
      for (const p of [...points, text.length]) {
        t.feed(text.slice(from, p));
        from = p;
      }
      assert.equal(t.inProgress, false);
      assert.equal(t.completed, (text.match(/^\d{3} /gm) ?? []).length);
    }),
    { numRuns: 1000 },
  );
});
