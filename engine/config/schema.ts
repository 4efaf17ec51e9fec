import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { duration, FQDN, integer, quote, section, timer } from './fields.js';
import { CATEGORIES } from '../outcome/classify.js';
import { canonicalAddress } from '../ingress/source-range.js';
import type { ShapingConfig } from '../shaping/policy.js';
import { checkMessage, messageSchemas, type MessageConfig } from './message.js';
import { checkBounceListener, checkSubmission, submissionSchema, toBounceListener, toSubmission, type BounceListenerConfig, type SubmissionConfig } from './inbound.js';
import { checkShaping, shapingSchema, toShaping } from './shaping.js';
import { toTracking, trackingSchema, type TrackingConfig } from './tracking.js';
import { adminSchema, toAdmin, type AdminConfig } from './admin.js';

/** The parsed configuration: durations in milliseconds, paths absolute. Every key: docs/configuration.md. */
export interface Config {
  /** Absolute path of the config file; null when built-in defaults were used. */
  file: string | null;
  storage: { path: string };
  dns: { servers: string[]; timeoutMs: number; tries: number; maxCacheTtlMs: number };
  delivery: {
    port: number;
    connectTimeoutMs: number;
    greetingTimeoutMs: number;
    commandTimeoutMs: number;
    idleTimeoutMs: number;
    maxConnections: number;
    maxConnectionsPerPath: number;
    maxMessagesPerConnection: number;
    maxRecipientsPerTransaction: number;
    leaseMs: number;
    tls: TlsMode;
    batchSize: number;
    window: number;
  };
  sources: { address: string; helo: string }[];
  pools: Record<string, { sources: { address: string; weight: number }[] }>;
  retry: { scheduleMs: number[]; maxAgeMs: number; jitter: number };
  /** Limits per egress path, backoff, warm-up: engine/config/shaping.ts. */
  shaping: ShapingConfig;
  /** DKIM keys, VERP bounce domain, fixed headers: engine/config/message.ts. */
  message: MessageConfig;
  /** The listener for bounces and feedback reports to the bounce domain: engine/config/inbound.ts. */
  bounceListener: BounceListenerConfig;
  /** SMTP submission for applications: engine/config/inbound.ts. */
  submission: SubmissionConfig;
  log: { level: string };
  /** Render pool (threads 0 renders in the main thread) and delivery threads (0: SMTP sessions in the main thread). */
  workers: { threads: number; deliveryThreads: number; maxRendered: number; taskTimeoutMs: number; nice: number };
  /** Stopping on SIGTERM/SIGINT: how long transactions in flight may take to finish. */
  shutdown: { drainTimeoutMs: number };
  /** Public listener and base URL for opens, clicks, unsubscribe: engine/config/tracking.ts. */
  tracking: TrackingConfig;
  /** Admin API, console and /metrics listener: engine/config/admin.ts. */
  admin: AdminConfig;
}

export const TLS_MODES = ['opportunistic', 'disabled'] as const;
export type TlsMode = (typeof TLS_MODES)[number];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const DEFAULT_STORAGE_PATH = './data/mxpress.db';
export const DEFAULT_POOL = 'default';

const ipAddress = z
  .string({ required_error: 'is required', invalid_type_error: 'must be an IP address string' })
  .refine((v) => isIP(v) !== 0, (v) => ({ message: `${quote(v)} is not an IPv4 or IPv6 address` }));

const helo = z
  .string({ required_error: 'is required', invalid_type_error: 'must be a hostname string' })
  .refine((v) => FQDN.test(v), (v) => ({ message: `${quote(v)} is not a fully qualified hostname (e.g. "mta1.sender.example")` }));

const dnsServer = z.string().refine(isDnsServer, (v) => ({ message: `${quote(v)} is not IP, IP:port or [IPv6]:port` }));

/** `9.9.9.9`, `9.9.9.9:53`, `::1`, `[::1]`, `[::1]:5353`: the forms the system resolver accepts. */
function isDnsServer(v: string): boolean {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(v);
  if (bracketed) return isIP(bracketed[1]!) === 6 && isPort(bracketed[2]);
  if (isIP(v) !== 0) return true;
  const withPort = /^([^:]+):(\d{1,5})$/.exec(v);
  return withPort !== null && isIP(withPort[1]!) === 4 && isPort(withPort[2]);
}

function isPort(digits: string | undefined): boolean {
  if (digits === undefined) return true;
  const port = Number(digits);
  return port >= 1 && port <= 65535;
}

const poolEntryTable = z.object({ address: ipAddress, weight: integer(1, 1000).default(1) }).strict();
type PoolEntry = z.infer<typeof poolEntryTable>;

/**
 * A pool entry is an address string (weight 1) or an inline table. Dispatching on the TOML type,
 * rather than using a zod union, keeps the errors of the form the operator chose: a union that fails
 * both ways only says "invalid input".
 */
const poolSource = z.unknown().transform((value, ctx): PoolEntry => {
  if (typeof value === 'string') return relay(ipAddress.safeParse(value), ctx, (address) => ({ address, weight: 1 }));
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return relay(poolEntryTable.safeParse(value), ctx, (entry) => entry);
  ctx.addIssue({ fatal: true, code: z.ZodIssueCode.custom, message: `must be an address string or an inline table { address = "…", weight = N } (got ${quote(value)})` });
  return z.NEVER;
});

/** Passes a nested parse's result on, its issues placed under the current key. */
function relay<In, Out>(result: z.SafeParseReturnType<unknown, In>, ctx: z.RefinementCtx, map: (value: In) => Out): Out {
  if (result.success) return map(result.data);
  for (const issue of result.error.issues) ctx.addIssue({ ...issue, fatal: true });
  return z.NEVER;
}

const poolName = z.string().regex(/^[A-Za-z0-9_-]+$/, 'pool names use letters, digits, "_" and "-"');

const shapeSchema = z
  .object({
    storage: section({ path: z.string().min(1, 'must not be empty').default(DEFAULT_STORAGE_PATH) }),
    dns: section({
      servers: z.array(dnsServer).default([]),
      timeout: timer().default('5s'),
      tries: integer(1, 10).default(2),
      max_cache_ttl: duration().default('1h'),
    }),
    delivery: section({
      port: integer(1, 65535).default(25),
      connect_timeout: timer().default('30s'),
      greeting_timeout: timer().default('60s'),
      command_timeout: timer().default('5m'),
      idle_timeout: timer().default('5s'),
      max_connections: integer(1, 100_000).default(200),
      max_connections_per_path: integer(1, 10_000).default(10),
      max_messages_per_connection: integer(1, 1_000_000).default(100),
      max_recipients_per_transaction: integer(1, 1000).default(50),
      lease: duration().default('10m'),
      tls: z.enum(TLS_MODES).default('opportunistic'),
      batch_size: integer(1, 100_000).default(500),
      window: integer(1, 10_000_000).default(5000),
    }),
    sources: z.array(z.object({ address: ipAddress, helo }).strict()).default([]),
    pools: z.record(poolName, z.object({ sources: z.array(poolSource).min(1, 'a pool needs at least one source') }).strict()).default({}),
    retry: section({
      schedule: z.array(duration()).min(1, 'needs at least one delay').default(['5m', '15m', '30m', '1h', '2h', '4h']),
      max_age: duration().default('3d'),
      jitter: z.number({ invalid_type_error: 'must be a number 0..0.5' }).min(0, 'must be a number 0..0.5').max(0.5, 'must be a number 0..0.5').default(0.1),
    }),
    log: section({ level: z.enum(LOG_LEVELS).default('info') }),
    shutdown: section({ drain_timeout: timer().default('30s') }),
    shaping: shapingSchema,
    workers: section({
      threads: integer(0, 256).optional(),
      delivery_threads: integer(0, 64).optional(),
      max_rendered: integer(1, 1_000_000).default(1000),
      task_timeout: timer().default('30s'),
      // Elsewhere nice(2) lowers the whole process, main thread included, once for each new thread.
      nice: integer(0, 19).default(process.platform === 'linux' ? 10 : 0),
    }),
    ...messageSchemas,
    tracking: trackingSchema,
    admin: adminSchema,
    submission: submissionSchema,
  })
  .strict();

/**
 * Delivery threads for a host with this many cores. One thread carries about 8,000 messages a second
 * and a core renders 2,000–5,000 (docs/benchmarks.md, delivery threads), so one per four cores; below
 * four cores none: there the main thread keeps pace, and a thread's hand-offs only cost CPU.
 */
export function defaultDeliveryThreads(cores: number): number {
  return cores < 4 ? 0 : Math.floor(cores / 4);
}

/** Zod runs the cross-field checks only once every field has the right shape. */
export const rawSchema = shapeSchema.superRefine(checkCrossFields);

export type RawConfig = z.infer<typeof shapeSchema>;

function checkCrossFields(c: RawConfig, ctx: z.RefinementCtx): void {
  const known = new Set<string>();
  c.sources.forEach((s, i) => {
    const key = canonicalAddress(s.address);
    if (known.has(key)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['sources', i, 'address'], message: `${quote(s.address)} is already an earlier [[sources]] address` });
    known.add(key);
  });
  for (const [name, pool] of Object.entries(c.pools)) checkPool(name, pool.sources.map((entry) => entry.address), known, ctx);
  checkShaping(c.shaping, known, CATEGORIES, ctx);
  checkMessage(c, ctx);
  checkBounceListener(c, ctx);
  checkSubmission(c, ctx);
  if (c.delivery.window < c.delivery.batch_size) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ['delivery', 'window'],
      message: `${c.delivery.window} is below batch_size (${c.delivery.batch_size}); a round could never claim a full batch`,
    });
  }
}

function checkPool(name: string, addresses: string[], known: Set<string>, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  addresses.forEach((address, i) => {
    const path = ['pools', name, 'sources', i];
    const key = canonicalAddress(address);
    if (known.size === 0) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path, message: `${quote(address)}: no [[sources]] are configured, so a pool has nothing to name; add [[sources]] or remove [pools.${name}]` });
    } else if (!known.has(key)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path, message: `${quote(address)} is not a [[sources]] address` });
    } else if (seen.has(key)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path, message: `${quote(address)} is listed twice in this pool; raise its weight instead` });
    }
    seen.add(key);
  });
}

/** snake_case TOML → the camelCase Config. `storagePath` arrives already absolute. */
export function toConfig(raw: RawConfig, file: string | null, storagePath: string, message: MessageConfig): Config {
  const d = raw.delivery;
  return {
    file,
    storage: { path: storagePath },
    dns: { servers: raw.dns.servers, timeoutMs: raw.dns.timeout, tries: raw.dns.tries, maxCacheTtlMs: raw.dns.max_cache_ttl },
    delivery: {
      port: d.port,
      connectTimeoutMs: d.connect_timeout,
      greetingTimeoutMs: d.greeting_timeout,
      commandTimeoutMs: d.command_timeout,
      idleTimeoutMs: d.idle_timeout,
      maxConnections: d.max_connections,
      maxConnectionsPerPath: d.max_connections_per_path,
      maxMessagesPerConnection: d.max_messages_per_connection,
      maxRecipientsPerTransaction: d.max_recipients_per_transaction,
      leaseMs: d.lease,
      tls: d.tls,
      batchSize: d.batch_size,
      window: d.window,
    },
    sources: raw.sources.map((s) => ({ address: canonicalAddress(s.address), helo: s.helo })),
    pools: toPools(raw),
    retry: { scheduleMs: raw.retry.schedule, maxAgeMs: raw.retry.max_age, jitter: raw.retry.jitter },
    shaping: toShaping(raw.shaping, d),
    message,
    bounceListener: toBounceListener(raw.bounce),
    submission: toSubmission(raw.submission, file === null ? process.cwd() : dirname(file), resolve),
    log: { level: raw.log.level },
    workers: { threads: raw.workers.threads ?? availableParallelism(), deliveryThreads: raw.workers.delivery_threads ?? defaultDeliveryThreads(availableParallelism()), maxRendered: raw.workers.max_rendered, taskTimeoutMs: raw.workers.task_timeout, nice: raw.workers.nice },
    shutdown: { drainTimeoutMs: raw.shutdown.drain_timeout },
    tracking: toTracking(raw.tracking),
    admin: toAdmin(raw.admin),
  };
}

/**
 * Sources, pool entries and warm-up sources are all in canonical spelling (`canonicalAddress`), so
 * consumers can match addresses as plain strings. Without a configured default pool, "default" holds
 * every source at weight 1 (and is empty when there are no sources: send from the host's own address).
 */
function toPools(raw: RawConfig): Config['pools'] {
  const pools: Config['pools'] = {};
  for (const [name, pool] of Object.entries(raw.pools)) {
    pools[name] = { sources: pool.sources.map((entry) => ({ address: canonicalAddress(entry.address), weight: entry.weight })) };
  }
  pools[DEFAULT_POOL] ??= { sources: raw.sources.map((s) => ({ address: canonicalAddress(s.address), weight: 1 })) };
  return pools;
}

