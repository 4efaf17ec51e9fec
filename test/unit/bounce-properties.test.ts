import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseInbound } from '../../engine/bounce/report.js';

/**
 * The bounce parser reads whatever anyone mails to the bounce domain: for any bytes, and for real
 * bounces cut, spliced and corrupted, it answers one of its four kinds and never throws or hangs.
 */
const LIMIT = { timeout: 180_000 };
const KINDS = new Set(['bounce', 'complaint', 'auto-reply', 'unrecognized']);
const dir = new URL('../fixtures/bounces/', import.meta.url);
const fixtures = readdirSync(dir).map((f) => readFileSync(new URL(f, dir), 'latin1'));

async function parsesToAKind(raw: string | Buffer): Promise<void> {
  const report = await parseInbound(raw);
  assert.ok(KINDS.has(report.kind), report.kind);
  if (report.kind !== 'bounce') return;
  for (const r of report.recipients) {
    assert.ok(r.address === null || typeof r.address === 'string');
    assert.equal(typeof r.action, 'string');
  }
}

test('bounce parser: arbitrary bytes and header-like text give one of the four kinds', LIMIT, async () => {
  const headerish = fc.array(
    fc.tuple(fc.constantFrom('Content-Type', 'From', 'Subject', 'Auto-Submitted', 'X-Failed-Recipients', 'Final-Recipient', 'Status', 'Action', 'Diagnostic-Code', 'Feedback-Type'), fc.string({ maxLength: 60 })),
    { maxLength: 8 },
  ).map((fields) => `${fields.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\nbody`);
  await fc.assert(fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)), headerish), parsesToAKind), { numRuns: 300 });
});

test('bounce parser: real bounces cut short, spliced together or with bytes flipped still give a kind', LIMIT, async () => {
  const mangled = fc
    .tuple(fc.nat(fixtures.length - 1), fc.nat(fixtures.length - 1), fc.double({ min: 0, max: 1, noNaN: true }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }))
    .map(([a, b, cut, flips]) => {
      const first = fixtures[a]!;
      const bytes = Buffer.from(first.slice(0, Math.floor(first.length * cut)) + fixtures[b]!.slice(Math.floor(fixtures[b]!.length * cut)), 'latin1');
      for (const [at, value] of flips) if (bytes.length > 0) bytes[at % bytes.length] = value;
      return bytes;
    });
  await fc.assert(fc.asyncProperty(mangled, parsesToAKind), { numRuns: 200 });
});
