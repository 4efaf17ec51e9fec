import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Transform } from 'node:stream';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';

/**
 * nodemailer's DataStream (the DATA body as it goes on the wire) is patched to find line breaks with
 * Buffer#indexOf instead of reading every byte in JS (engine/patches/, docs/benchmarks.md).
 * These tests hold both of its builds to the rules it must keep: CRLF line ends only, a dot at a
 * line start doubled, and the end-of-data line.
 */
type DataStreamClass = new () => Transform & { inByteCount: number; outByteCount: number };

const cjsDir = dirname(createRequire(import.meta.url).resolve('nodemailer/lib/smtp-connection'));
const builds: [string, string][] = [
  ['cjs', join(cjsDir, 'data-stream.js')],
  ['esm', join(cjsDir, '..', '..', 'esm', 'smtp-connection', 'data-stream.js')],
];

async function load(file: string): Promise<DataStreamClass> {
  const mod = (await import(pathToFileURL(file).href)) as { default: DataStreamClass | { default: DataStreamClass } };
  return 'prototype' in mod.default ? mod.default : mod.default.default;
}

/** What the stream writes for these chunks, and in how many pushes (each one a socket write). */
async function wire(DataStream: DataStreamClass, chunks: (Buffer | string)[]): Promise<{ out: string; pushes: number; inBytes: number; outBytes: number }> {
  const stream = new DataStream();
  const parts: Buffer[] = [];
  stream.on('data', (b: Buffer) => parts.push(b));
  const ended = new Promise((resolve) => stream.once('end', resolve));
  for (const c of chunks) stream.write(c);
  stream.end();
  await ended;
  return { out: Buffer.concat(parts).toString('latin1'), pushes: parts.length, inBytes: stream.inByteCount, outBytes: stream.outByteCount };
}

/** The rules, byte by byte: what the wire must carry for this input. */
function expected(input: Buffer): string {
  let out = '';
  let prev = -1;
  for (const byte of input) {
    if (prev === 0x0d && byte !== 0x0a) out += byte === 0x2e ? '\n.' : '\n';
    else if (byte === 0x0a && prev !== 0x0d) out += '\r';
    else if (byte === 0x2e && (prev === 0x0a || prev === -1)) out += '.';
    out += String.fromCharCode(byte);
    prev = byte;
  }
  return out + (prev === 0x0a ? '.\r\n' : prev === 0x0d ? '\n.\r\n' : '\r\n.\r\n');
}

/** A small deterministic generator, so a failure names a case that can be run again. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const table: { name: string; chunks: string[]; wire: string }[] = [
  { name: 'CRLF text', chunks: ['a\r\nb\r\n'], wire: 'a\r\nb\r\n.\r\n' },
  { name: 'no final line break', chunks: ['a\r\nb'], wire: 'a\r\nb\r\n.\r\n' },
  { name: 'dot at the start', chunks: ['.a\r\n'], wire: '..a\r\n.\r\n' },
  { name: 'dot at a line start', chunks: ['a\r\n.b\r\n..\r\n'], wire: 'a\r\n..b\r\n...\r\n.\r\n' },
  { name: 'dot inside a line', chunks: ['a.b\r\n'], wire: 'a.b\r\n.\r\n' },
  { name: 'bare LF', chunks: ['a\nb\n'], wire: 'a\r\nb\r\n.\r\n' },
  { name: 'bare LF then dot', chunks: ['a\n.b'], wire: 'a\r\n..b\r\n.\r\n' },
  { name: 'bare CR', chunks: ['a\rb'], wire: 'a\r\nb\r\n.\r\n' },
  { name: 'bare CR then dot (no smuggled end)', chunks: ['a\r.\rb'], wire: 'a\r\n..\r\nb\r\n.\r\n' },
  { name: 'CRLF split across chunks', chunks: ['a\r', '\nb'], wire: 'a\r\nb\r\n.\r\n' },
  { name: 'dot after a break in the previous chunk', chunks: ['a\r\n', '.b'], wire: 'a\r\n..b\r\n.\r\n' },
  { name: 'bare CR ending a chunk, dot next', chunks: ['a\r', '.b'], wire: 'a\r\n..b\r\n.\r\n' },
  { name: 'empty chunks', chunks: ['', 'a', ''], wire: 'a\r\n.\r\n' },
  { name: 'nothing', chunks: [], wire: '\r\n.\r\n' },
];

for (const [build, file] of builds) {
  describe(`nodemailer DataStream (${build})`, () => {
    for (const c of table) {
      test(c.name, async () => {
        const got = await wire(await load(file), c.chunks);
        assert.equal(got.out, c.wire);
        assert.equal(got.outBytes, Buffer.byteLength(c.wire, 'latin1'));
        assert.equal(got.inBytes, c.chunks.reduce((n, s) => n + s.length, 0));
      });
    }

    // Unpatched, the stream pushes the body and the end-of-data line apart (two socket writes):
    // this is also what tells that the patch is in place after an install.
    test('a message of up to 256 KB leaves as one chunk with its end line; a larger one as two', async () => {
      const DataStream = await load(file);
      for (const [size, pushes] of [[10_240, 1], [256 * 1024, 1], [256 * 1024 + 1, 2]] as const) {
        const body = Buffer.alloc(size, 'a');
        const got = await wire(DataStream, [body]);
        assert.equal(got.pushes, pushes, `${size} bytes`);
        assert.equal(got.out, `${body.toString('latin1')}\r\n.\r\n`);
      }
    });

    test('20,000 random inputs of CR, LF, dot and letters, cut into chunks anywhere', async () => {
      const DataStream = await load(file);
      const next = random(20261123);
      const bytes = [0x0d, 0x0a, 0x2e, 0x41];
      for (let n = 0; n < 20_000; n++) {
        const input = Buffer.from(Array.from({ length: Math.floor(next() * 24) }, () => bytes[Math.floor(next() * 4)]!));
        const cuts = [0, ...Array.from({ length: 2 }, () => Math.floor(next() * (input.length + 1))).sort((a, b) => a - b), input.length];
        const chunks = cuts.slice(1).map((end, i) => input.subarray(cuts[i], end));
        const got = await wire(DataStream, chunks);
        assert.equal(got.out, expected(input), `case ${n}: ${JSON.stringify(input.toString('latin1'))} cut at ${cuts.join(',')}`);
      }
    });
  });
}
