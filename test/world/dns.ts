/**
 * An authoritative-and-recursive-looking DNS server for `.test` zones, on loopback.
 *
 * It answers over UDP and, on the same port, over TCP: node's resolver (c-ares) retries over TCP
 * when a UDP answer comes back truncated, so large TXT sets keep working whatever EDNS size the
 * client advertises.
 *
 * What node's `dns.promises.Resolver` reports for each case (observed, node 20):
 * - name not in the zones            → rcode NXDOMAIN  → rejects with code `ENOTFOUND`
 * - name present, no record of type  → NOERROR, empty  → rejects with code `ENODATA`
 * - `servfail`                       → rcode SERVFAIL  → rejects with code `ESERVFAIL`
 * - `noAnswer`                       → no reply at all → rejects with code `ETIMEOUT`
 * - `nullMx`                         → `resolveMx` resolves `[{ exchange: '', priority: 0 }]`
 * - `cname`, asked for CNAME          → `resolveCname` resolves `[target]`
 * - `cname`, asked for A/AAAA/MX/TXT  → the CNAME plus the target's records: resolves the target's
 *                                       records; an empty list (not ENODATA) when the target has
 *                                       none of that type; ENOTFOUND when the target does not exist
 */
import type { Socket as UdpSocket } from 'node:dgram';
import type { Server as TcpServer, Socket } from 'node:net';
import dns2 from 'dns2';

const { Packet } = dns2;
type DnsPacket = InstanceType<typeof Packet>;
type DnsQuestion = DnsPacket['questions'][number];
type DnsResource = DnsPacket['answers'][number];

export interface ZoneRecord {
  mx?: { preference: number; exchange: string }[];
  a?: string[];
  aaaa?: string[];
  /** A flat list is one TXT record per string; nested arrays are records of several strings. */
  txt?: string[][] | string[];
  cname?: string;
  /** RFC 7505: a single MX of preference 0 pointing at the root. */
  nullMx?: boolean;
  servfail?: boolean;
  /** Never reply: the resolver times out. */
  noAnswer?: boolean;
  ttl?: number;
}

export interface TestDns {
  address: string;
  port: number;
  /** "127.0.0.1:PORT" (or "[::1]:PORT"), ready for `Resolver#setServers`. */
  server: string;
  set(name: string, rec: ZoneRecord): void;
  remove(name: string): void;
  queries: { name: string; type: string }[];
  close(): Promise<void>;
}

// dns2's typings do not carry the RCODE table.
const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 } as const;
const DEFAULT_TTL = 300;
const MAX_CNAME_HOPS = 8;
const TXT_CHUNK_BYTES = 255;
const BIND_ATTEMPTS = 10;

const TYPE = Packet.TYPE;
const TYPE_NAMES = new Map<number, string>(Object.entries(TYPE).map(([name, code]) => [code, name]));

/** Zone names are matched case-insensitively and without the trailing dot. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

type Zones = Map<string, ZoneRecord>;

/** The outcome of looking a question up: an rcode plus answers, or silence. */
type Lookup = { drop: true } | { drop: false; rcode: number; answers: DnsResource[] };

function resource(name: string, type: number, ttl: number, fields: Partial<DnsResource>): DnsResource {
  return new Packet.Resource({ name, type, class: Packet.CLASS.IN, ttl, ...fields });
}

/** Splits a TXT string into <character-string>s of at most 255 bytes without cutting a UTF-8 sequence. */
export function splitTxt(text: string): string[] {
  const chunks: string[] = [];
  let current = '';
  let bytes = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch);
    if (bytes + size > TXT_CHUNK_BYTES) {
      chunks.push(current);
      current = '';
      bytes = 0;
    }
    current += ch;
    bytes += size;
  }
  chunks.push(current);
  return chunks;
}

function txtRecords(txt: ZoneRecord['txt']): string[][] {
  return (txt ?? []).map((rec) => (typeof rec === 'string' ? [rec] : rec).flatMap(splitTxt));
}

/** The records of one type at one name, CNAME aside. */
function recordsOf(owner: string, type: number, rec: ZoneRecord): DnsResource[] {
  const ttl = rec.ttl ?? DEFAULT_TTL;
  switch (type) {
    case TYPE.A:
      return (rec.a ?? []).map((address) => resource(owner, type, ttl, { address }));
    case TYPE.AAAA:
      return (rec.aaaa ?? []).map((address) => resource(owner, type, ttl, { address }));
    case TYPE.MX:
      if (rec.nullMx) return [resource(owner, type, ttl, { priority: 0, exchange: '' })];
      return (rec.mx ?? []).map((mx) => resource(owner, type, ttl, { priority: mx.preference, exchange: mx.exchange }));
    case TYPE.TXT:
      return txtRecords(rec.txt).map((data) => resource(owner, type, ttl, { data }));
    default:
      return [];
  }
}

/** Answers a question as a recursive resolver would: CNAME chains inside the zones are followed. */
function lookup(zones: Zones, question: DnsQuestion): Lookup {
  const answers: DnsResource[] = [];
  let owner = question.name;
  for (let hop = 0; hop < MAX_CNAME_HOPS; hop++) {
    const rec = zones.get(normalizeName(owner));
    if (!rec) return { drop: false, rcode: RCODE.NXDOMAIN, answers };
    if (rec.noAnswer) return { drop: true };
    if (rec.servfail) return { drop: false, rcode: RCODE.SERVFAIL, answers: [] };
    if (rec.cname === undefined || question.type === TYPE.CNAME) {
      const cname = rec.cname === undefined ? [] : [resource(owner, TYPE.CNAME, rec.ttl ?? DEFAULT_TTL, { domain: rec.cname })];
      return { drop: false, rcode: RCODE.NOERROR, answers: [...answers, ...cname, ...recordsOf(owner, question.type, rec)] };
    }
    answers.push(resource(owner, TYPE.CNAME, rec.ttl ?? DEFAULT_TTL, { domain: rec.cname }));
    owner = rec.cname;
  }
  // A CNAME loop: a real resolver gives up the same way.
  return { drop: false, rcode: RCODE.SERVFAIL, answers: [] };
}

function respond(zones: Zones, request: DnsPacket): DnsPacket | undefined {
  const response = Packet.createResponseFromRequest(request);
  response.header.ra = 1;
  const question = request.questions[0];
  if (!question) return response;
  const result = lookup(zones, question);
  if (result.drop) return undefined;
  response.header.rcode = result.rcode;
  response.answers = result.answers;
  return response;
}

type Send = (response: DnsPacket) => Promise<unknown>;

function makeHandler(zones: Zones, queries: TestDns['queries']) {
  return (request: DnsPacket, send: Send): void => {
    for (const q of request.questions) queries.push({ name: normalizeName(q.name), type: TYPE_NAMES.get(q.type) ?? String(q.type) });
    let response: DnsPacket | undefined;
    try {
      response = respond(zones, request);
    } catch {
      // A record the encoder cannot represent is a bug in the test's zone; answer like a broken server.
      response = Packet.createResponseFromRequest(request);
      response.header.rcode = RCODE.SERVFAIL;
    }
    if (response) send(response).catch(() => undefined); // the client may be gone, or we are closing
  };
}

type Handler = ReturnType<typeof makeHandler>;

function bindUdp(handle: Handler, address: string, port: number): Promise<UdpSocket> {
  const udp = dns2.createUDPServer({ type: address.includes(':') ? 'udp6' : 'udp4' });
  udp.on('request', (request, send) => handle(request, send));
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      udp.close();
      reject(err);
    };
    udp.once('error', onError);
    udp.bind({ port, address }, () => {
      udp.off('error', onError);
      udp.on('error', () => undefined); // a send to a vanished client must not crash the test process
      resolve(udp);
    });
  });
}

function listenTcp(handle: Handler, address: string, port: number, sockets: Set<Socket>): Promise<TcpServer> {
  const tcp = dns2.createTCPServer((request, send) => handle(request, send));
  tcp.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen({ port, address }, () => {
      tcp.off('error', reject);
      tcp.on('error', () => undefined);
      resolve(tcp);
    });
  });
}

function closeUdp(udp: UdpSocket): Promise<void> {
  return new Promise((resolve) => udp.close(() => resolve()));
}

function closeTcp(tcp: TcpServer, sockets: Set<Socket>): Promise<void> {
  const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
  for (const socket of sockets) socket.destroy();
  return closed;
}

interface Bound {
  udp: UdpSocket;
  tcp: TcpServer;
  port: number;
}

/** Binds UDP first (possibly on an ephemeral port), then TCP on the same number; retries a taken TCP port. */
async function bindBoth(handle: Handler, address: string, port: number, sockets: Set<Socket>): Promise<Bound> {
  for (let attempt = 1; ; attempt++) {
    const udp = await bindUdp(handle, address, port);
    const bound = udp.address().port;
    try {
      const tcp = await listenTcp(handle, address, bound, sockets);
      return { udp, tcp, port: bound };
    } catch (err) {
      await closeUdp(udp);
      const retry = port === 0 && attempt < BIND_ATTEMPTS && (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (!retry) throw err;
    }
  }
}

export async function startDns(zones: Record<string, ZoneRecord>, opts: { address?: string; port?: number } = {}): Promise<TestDns> {
  const address = opts.address ?? '127.0.0.1';
  const table: Zones = new Map(Object.entries(zones).map(([name, rec]) => [normalizeName(name), { ...rec }]));
  const queries: TestDns['queries'] = [];
  const sockets = new Set<Socket>();
  const { udp, tcp, port } = await bindBoth(makeHandler(table, queries), address, opts.port ?? 0, sockets);
  let closing: Promise<void> | undefined;
  return {
    address,
    port,
    server: address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`,
    queries,
    set: (name, rec) => void table.set(normalizeName(name), { ...rec }),
    remove: (name) => void table.delete(normalizeName(name)),
    close() {
      closing ??= Promise.all([closeUdp(udp), closeTcp(tcp, sockets)]).then(() => undefined);
      return closing;
    },
  };
}

