import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Bytes that can be moved (transferred) to another thread: the view itself when it owns its whole
 * ArrayBuffer, else a copy. A small Buffer may be a slice of Node's shared pool, which must never be
 * transferred (the other slices would go with it).
 */
export function ownedBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
}

/** A Buffer over bytes that arrived from another thread (the clone gives a plain Uint8Array). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The URL of a thread's module beside `from` (a module's import.meta.url): under tsx the sources
 * run as .ts, in the build as .js, so the thread's file has the same extension as its caller's.
 */
export function threadModule(from: string, name: string): string {
  const ext = from.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${name}${ext}`, from).href;
}

/**
 * Starts the thread module `name` beside `from`. In the build it is loaded as it is. Under tsx
 * (tests, benchmarks) a thread does not get the loader hooks that --import gave the process in time
 * for its entry file, so a one-line script registers tsx's require hook and requires the module
 * (piscina's worker, for the render module, also requires it). Such a module must not use
 * top-level await.
 */
export function startThread(from: string, name: string, workerData: unknown): Worker {
  const file = threadModule(from, name);
  if (!file.endsWith('.ts')) return new Worker(new URL(file), { workerData });
  return new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(fileURLToPath(file))});`, { eval: true, workerData });
}
