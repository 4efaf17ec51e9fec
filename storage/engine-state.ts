/** What the running engine keeps beside the queue: its single-engine lock, secrets, egress path states, warm-up counts. */

/** One egress path (source × site) as the engine last published it. */
export interface PathState {
  sourceIp: string;
  site: string;
  state: 'normal' | 'backoff';
  backoffUntil: number | null;
  connections: number;
  queued: number;
  /** Transactions carried since the engine started. */
  sent: number;
  /** Throttling replies seen since the engine started. */
  throttles: number;
  /** The message rate in force now ("60/min"), null when unlimited. */
  messageRate: string | null;
  lastReply: string | null;
  updatedAt: number;
}

export interface WarmupCount {
  sourceIp: string;
  site: string;
  count: number;
}

/** The engine lock and secrets; the published egress path states and the warm-up ledger. */
export interface EngineStateStore {
  /** Takes the single-engine lock; returns the pid of a live holder instead when there is one. */
  acquireEngineLock(pid: number, host: string, isAlive: (pid: number) => boolean, now: number): { ok: true; tookOverFrom: number | null } | { ok: false; holder: number };
  releaseEngineLock(pid: number): void;

  /** A 32-byte secret by name, made at first use and kept: HMAC keys survive restarts. */
  secret(name: string): Buffer;

  /** Replaces the published egress path states (the engine calls this about once a second). */
  savePathStates(states: PathState[]): void;
  pathStates(): PathState[];
  /** Adds to the per-day, per (source, site) message counts used by warm-up. `day`: UTC midnight, ms. */
  addWarmupCounts(day: number, counts: WarmupCount[]): void;
  warmupCounts(day: number): WarmupCount[];
}
