/**
 * A small internet on loopback: one DNS server for the `.test` zones and one SMTP sink per MX
 * address, all sinks on the same port (the engine is configured with a single delivery port).
 *
 * Address plan: sinks live in 127.0.0.2–127.0.0.250; 127.0.1.x is left to the engine's source
 * addresses, so a sink can tell which source a message came from.
 */
import { isIP } from 'node:net';
import { normalizeName, startDns, type TestDns, type ZoneRecord } from './dns.js';
import { startRaw, type RawScript, type RawServer } from './raw.js';
import { startSink, type Received, type Sink, type SinkScript } from './sink.js';

export interface WorldSpec {
  /** Domain → its MX host names in preference order (10, 20, …), and/or records given directly. */
  domains: Record<string, { mx?: string[]; records?: ZoneRecord }>;
  /**
   * Host name → 127.0.0.x address (an A record) or ::1 (an AAAA record); each distinct address gets
   * a sink, or a raw SMTP speaker when the host is in `raw`.
   */
  hosts: Record<string, string>;
  /** Sink behaviour by host name (the script of the sink at that host's address). */
  scripts?: Record<string, SinkScript>;
  /** Hosts answered by a raw SMTP speaker (test/world/raw.ts) instead of smtp-server, with its script. */
  raw?: Record<string, RawScript>;
  /** Offer STARTTLS on every sink whose script does not say otherwise. */
  starttls?: boolean;
  /** Passed to every sink; default true. Benchmarks set false to keep only sizes. */
  keepData?: boolean;
}

export interface World {
  dns: TestDns;
  /** The one SMTP port all sinks share (the engine's delivery port). */
  port: number;
  /** By address. */
  sinks: Map<string, Sink>;
  /** The sink at a host name's address (or at an address given directly). */
  sinkFor(host: string): Sink;
  /** By address: the raw SMTP speakers. */
  raws: Map<string, RawServer>;
  rawFor(host: string): RawServer;
  /** What every sink accepted, in arrival order. */
  received(): Received[];
  close(): Promise<void>;
}

const SINK_ADDRESS = /^127\.0\.0\.(\d{1,3})$/;
const FIRST_SINK_OCTET = 2;
const LAST_SINK_OCTET = 250;
const PORT_ATTEMPTS = 10;

function checkSinkAddress(host: string, address: string): void {
  if (address === '::1') return;
  const octet = Number(SINK_ADDRESS.exec(address)?.[1] ?? NaN);
  if (octet >= FIRST_SINK_OCTET && octet <= LAST_SINK_OCTET) return;
  throw new Error(`host ${host}: sink address ${address} is outside 127.0.0.${FIRST_SINK_OCTET}-${LAST_SINK_OCTET} (or ::1)`);
}

function mxRecords(hosts: string[]): NonNullable<ZoneRecord['mx']> {
  return hosts.map((exchange, i) => ({ preference: 10 * (i + 1), exchange }));
}

/** Zones from the spec: domain records, MX lists, and an A record per host (merged, not replaced). */
export function zonesFor(spec: WorldSpec): Record<string, ZoneRecord> {
  const zones = new Map<string, ZoneRecord>();
  for (const [domain, d] of Object.entries(spec.domains)) {
    const rec: ZoneRecord = { ...d.records };
    if (d.mx) rec.mx = mxRecords(d.mx);
    zones.set(normalizeName(domain), rec);
  }
  for (const [host, address] of Object.entries(spec.hosts)) {
    const name = normalizeName(host);
    const rec = zones.get(name) ?? {};
    const family = isIP(address) === 6 ? 'aaaa' : 'a';
    zones.set(name, { ...rec, [family]: [...new Set([...(rec[family] ?? []), address])] });
  }
  return Object.fromEntries(zones);
}

/** One script per address; two hosts sharing an address may not both script it. */
function scriptsByAddress(spec: WorldSpec): Map<string, SinkScript> {
  const byAddress = new Map<string, SinkScript>();
  const owner = new Map<string, string>();
  for (const [host, script] of Object.entries(spec.scripts ?? {})) {
    const address = spec.hosts[host];
    if (address === undefined) throw new Error(`script for ${host}, which is not in hosts`);
    const other = owner.get(address);
    if (other !== undefined) throw new Error(`${host} and ${other} share ${address} but both have a script`);
    owner.set(address, host);
    byAddress.set(address, script);
  }
  return byAddress;
}

/** The first host name at each address, for the sink's greeting. */
function namesByAddress(hosts: Record<string, string>): Map<string, string> {
  const names = new Map<string, string>();
  for (const [host, address] of Object.entries(hosts)) if (!names.has(address)) names.set(address, host);
  return names;
}

interface SinkPlan {
  address: string;
  name: string;
  script: SinkScript;
  raw?: RawScript;
}

function planSinks(spec: WorldSpec): SinkPlan[] {
  for (const [host, address] of Object.entries(spec.hosts)) checkSinkAddress(host, address);
  const scripts = scriptsByAddress(spec);
  const raw = new Map<string, RawScript>();
  for (const [host, script] of Object.entries(spec.raw ?? {})) {
    const address = spec.hosts[host];
    if (address === undefined) throw new Error(`raw host ${host} is not in hosts`);
    raw.set(address, script);
  }
  return [...namesByAddress(spec.hosts)].map(([address, name]) => ({
    address,
    name,
    script: { starttls: spec.starttls, ...scripts.get(address) },
    raw: raw.get(address),
  }));
}

async function closeAll(sinks: Iterable<{ close(): Promise<void> }>): Promise<void> {
  await Promise.all([...sinks].map((s) => s.close()));
}

interface Started {
  port: number;
  sinks: Map<string, Sink>;
  raws: Map<string, RawServer>;
}

/** Starts every sink on one port: the first picks an ephemeral port; a clash later restarts all. */
async function startSinks(plans: SinkPlan[], keepData: boolean | undefined): Promise<Started> {
  for (let attempt = 1; ; attempt++) {
    const sinks = new Map<string, Sink>();
    const raws = new Map<string, RawServer>();
    let port = 0;
    try {
      for (const plan of plans) {
        if (plan.raw) {
          const raw = await startRaw({ address: plan.address, port, name: plan.name, script: plan.raw });
          port = raw.port;
          raws.set(plan.address, raw);
          continue;
        }
        const sink = await startSink({ address: plan.address, port, script: plan.script, keepData, name: plan.name });
        port = sink.port;
        sinks.set(plan.address, sink);
      }
      return { port, sinks, raws };
    } catch (err) {
      await closeAll([...sinks.values(), ...raws.values()]);
      const clash = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (!clash || attempt >= PORT_ATTEMPTS) throw err;
    }
  }
}

export async function startWorld(spec: WorldSpec): Promise<World> {
  const plans = planSinks(spec);
  const dns = await startDns(zonesFor(spec));
  let started: Started;
  try {
    started = await startSinks(plans, spec.keepData);
  } catch (err) {
    await dns.close();
    throw err;
  }
  const { port, sinks, raws } = started;
  const byHost = <T>(map: Map<string, T>, host: string, what: string): T => {
    const address = spec.hosts[host] ?? spec.hosts[normalizeName(host)] ?? host;
    const found = map.get(address);
    if (!found) throw new Error(`no ${what} for host ${host}`);
    return found;
  };
  let closing: Promise<void> | undefined;
  return {
    dns,
    port,
    sinks,
    sinkFor: (host) => byHost(sinks, host, 'sink'),
    raws,
    rawFor: (host) => byHost(raws, host, 'raw server'),
    received: () => [...sinks.values(), ...raws.values()].flatMap((s) => s.received).sort((a, b) => a.at - b.at),
    close: () => (closing ??= Promise.all([closeAll([...sinks.values(), ...raws.values()]), dns.close()]).then(() => undefined)),
  };
}

/**
 * `n` domains `d0.test`…`d{n-1}.test` spread round-robin over `sites` sites, each site one MX host
 * `mx0.site{k}.test` at 127.0.0.{10+k}.
 */
export function makeDomains(n: number, sites: number): WorldSpec {
  const firstOctet = 10;
  if (sites < 1 || firstOctet + sites - 1 > LAST_SINK_OCTET) throw new Error(`sites must be 1..${LAST_SINK_OCTET - firstOctet + 1}`);
  const hosts: WorldSpec['hosts'] = {};
  for (let k = 0; k < sites; k++) hosts[`mx0.site${k}.test`] = `127.0.0.${firstOctet + k}`;
  const domains: WorldSpec['domains'] = {};
  for (let i = 0; i < n; i++) domains[`d${i}.test`] = { mx: [`mx0.site${i % sites}.test`] };
  return { domains, hosts };
}
