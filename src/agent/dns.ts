// Consul's DNS interface from the local catalog (agent/dns.go): NAME.service.consul,
// TAG.NAME.service.consul, RFC 2782 _NAME._TAG.service.consul (tag "tcp" means no tag), with an
// optional datacenter label (NAME.service.dc1.consul), and NODE.node.consul. Services answer
// with passing instances only, shuffled per answer, TTL 0; unknown names get NXDOMAIN with the
// SOA. Over UDP an answer beyond 512 bytes (or the client's EDNS size) is cut and marked TC, so
// the client retries over TCP, which is served too.
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket, { type Answer, type DecodedPacket, type Packet, type Question } from 'dns-packet';
import type { Catalog, Instance } from '../catalog/catalog.js';
import { DATACENTER } from './http-api.js';
import { addDropSource } from './drop-stats.js';
import type { Agent } from './agent.js';
import { isLoopbackHost } from './loopback.js';

const DOMAIN = 'consul';
/** RFC 1035 §4.2.1: UDP messages are limited to 512 bytes unless EDNS says more. */
const UDP_DEFAULT_LIMIT = 512;
/** We never send a UDP answer past this, whatever EDNS asks (a common safe payload size). */
const UDP_MAX_LIMIT = 4096;
/** A TCP query's length prefix allows 64 KiB; we refuse to buffer more than one such message. */
const TCP_MAX_BUFFER = 65_537;

const RCODE_NXDOMAIN = 3;
const RCODE_FORMERR = 1;
const RCODE_NOTIMP = 4;
const RCODE_SERVFAIL = 2;

type Shuffle = <T>(items: T[]) => T[];

function randomShuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

function soa(): Answer {
  return {
    type: 'SOA',
    name: `${DOMAIN}`,
    ttl: 0,
    class: 'IN',
    data: { mname: `ns.${DOMAIN}`, rname: `hostmaster.${DOMAIN}`, serial: Math.floor(Date.now() / 1000) >>> 0, refresh: 3600, retry: 600, expire: 86400, minimum: 0 },
  };
}

function isIpv4(s: string): boolean {
  return net.isIPv4(s);
}

function addressRecords(name: string, ip: string, qtype: string): Answer[] {
  const out: Answer[] = [];
  if (isIpv4(ip) && (qtype === 'A' || qtype === 'ANY' || qtype === 'SRV')) out.push({ type: 'A', name, ttl: 0, class: 'IN', data: ip });
  if (net.isIPv6(ip) && (qtype === 'AAAA' || qtype === 'ANY' || qtype === 'SRV')) out.push({ type: 'AAAA', name, ttl: 0, class: 'IN', data: ip });
  return out;
}

interface Lookup {
  readonly kind: 'service' | 'node';
  readonly name: string;
  readonly tag: string;
}

/** Parses a query name under .consul; null when it is not one we serve. */
export function parseDnsName(qname: string): Lookup | null {
  const labels = qname.toLowerCase().replace(/\.$/, '').split('.');
  if (labels.pop() !== DOMAIN) return null;
  if (labels.at(-1) === DATACENTER) labels.pop();
  const kind = labels.pop();
  if (kind === 'node' && labels.length === 1) return { kind: 'node', name: labels[0] as string, tag: '' };
  if (kind !== 'service') return null;
  if (labels.length === 2 && (labels[0] as string).startsWith('_') && (labels[1] as string).startsWith('_')) {
    const tag = (labels[1] as string).slice(1);
    return { kind: 'service', name: (labels[0] as string).slice(1), tag: tag === 'tcp' ? '' : tag };
  }
  if (labels.length === 1) return { kind: 'service', name: labels[0] as string, tag: '' };
  if (labels.length === 2) return { kind: 'service', name: labels[1] as string, tag: labels[0] as string };
  return null;
}

/** The answer to one query (a response packet, not yet cut to size). */
export function answerQuery(catalog: Catalog, query: DecodedPacket, shuffle: Shuffle = randomShuffle): Packet {
  const question = query.questions?.[0];
  const base: Packet = { type: 'response', id: query.id ?? 0, flags: dnsPacket.AUTHORITATIVE_ANSWER | (query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0), questions: question === undefined ? [] : [question] };
  if (question === undefined || (query.questions?.length ?? 0) !== 1) return { ...base, flags: (base.flags ?? 0) | RCODE_FORMERR };
  const lookup = parseDnsName(question.name);
  if (lookup === null) return { ...base, flags: (base.flags ?? 0) | RCODE_NXDOMAIN, authorities: [soa()] };
  const qtype = question.type;
  if (lookup.kind === 'node') {
    const m = catalog.nodes().find((n) => n.name.toLowerCase() === lookup.name);
    if (m === undefined) return { ...base, flags: (base.flags ?? 0) | RCODE_NXDOMAIN, authorities: [soa()] };
    const answers = addressRecords(question.name, m.address, qtype);
    return answers.length === 0 ? { ...base, authorities: [soa()] } : { ...base, answers };
  }
  const instances = shuffle(catalog.passingInstances(lookup.name, lookup.tag === '' ? [] : [lookup.tag], true));
  if (instances.length === 0) return { ...base, flags: (base.flags ?? 0) | RCODE_NXDOMAIN, authorities: [soa()] };
  const answers: Answer[] = [];
  const additionals: Answer[] = [];
  for (const i of instances) {
    const ip = instanceAddress(i);
    if (qtype === 'SRV') {
      const target = `${i.node.name}.node.${DATACENTER}.${DOMAIN}`;
      answers.push({ type: 'SRV', name: question.name, ttl: 0, class: 'IN', data: { priority: 1, weight: 1, port: i.service.Port, target } });
      additionals.push(...addressRecords(target, ip, 'SRV'));
    } else {
      answers.push(...addressRecords(question.name, ip, qtype));
    }
  }
  if (answers.length === 0) return { ...base, authorities: [soa()] };
  return additionals.length === 0 ? { ...base, answers } : { ...base, answers, additionals };
}

function instanceAddress(i: Instance): string {
  return i.service.Address !== '' && net.isIP(i.service.Address) !== 0 ? i.service.Address : i.node.address;
}

/** Encodes an answer within `limit` bytes, dropping records from the end and setting TC if it must. */
export function encodeWithin(answer: Packet, limit: number): Buffer {
  let bytes = dnsPacket.encode(answer);
  if (bytes.length <= limit) return bytes;
  const answers = [...(answer.answers ?? [])];
  const flags = (answer.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE;
  while (answers.length > 0) {
    answers.pop();
    const names = new Set(answers.map((a) => (a.type === 'SRV' ? a.data.target : '')));
    const additionals = (answer.additionals ?? []).filter((a) => names.has(a.name));
    bytes = dnsPacket.encode({ ...answer, flags, answers, additionals });
    if (bytes.length <= limit) return bytes;
  }
  return dnsPacket.encode({ ...answer, flags, answers: [], additionals: [] });
}

function udpLimit(query: DecodedPacket): number {
  const opt = query.additionals?.find((a) => a.type === 'OPT');
  const size = opt !== undefined && 'udpPayloadSize' in opt ? opt.udpPayloadSize : 0;
  return Math.min(UDP_MAX_LIMIT, Math.max(UDP_DEFAULT_LIMIT, size));
}

/**
 * Whether the header's section counts fit the packet: a question takes at least 5 bytes (a
 * one-byte name, type, class), a record at least 11. dns-packet allocates an array of each
 * count before decoding (up to 4 × 65,535 slots for a 12-byte packet, megabytes per datagram),
 * so a lying header is refused before it gets there.
 */
export function plausibleCounts(bytes: Buffer): boolean {
  if (bytes.length < 12) return false;
  const questions = bytes.readUInt16BE(4);
  const records = bytes.readUInt16BE(6) + bytes.readUInt16BE(8) + bytes.readUInt16BE(10);
  return questions * 5 + records * 11 <= bytes.length - 12;
}

function errorReply(bytes: Buffer, rcode: number): Buffer | null {
  if (bytes.length < 2) return null;
  return dnsPacket.encode({ type: 'response', id: bytes.readUInt16BE(0), flags: rcode, questions: [] });
}

export class DnsServer {
  private udp: dgram.Socket | null = null;
  private tcp: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  /**
   * malformed: undecodable queries (answered FORMERR when their ID can be read, as miekg/dns
   * does for Consul); notQuery: responses sent to us, dropped; tcpOversized: TCP connections
   * closed for a message past 64 KiB; internalErrors: queries that hit a bug (SERVFAIL).
   */
  readonly counters = { queries: 0, truncated: 0, malformed: 0, notQuery: 0, tcpOversized: 0, internalErrors: 0 };

  constructor(
    private readonly catalog: () => Catalog,
    private readonly agent?: Pick<Agent, 'log'>,
  ) {
    if (agent !== undefined) {
      addDropSource(agent, () => [
        ['dns_malformed', this.counters.malformed],
        ['dns_not_query', this.counters.notQuery],
        ['dns_tcp_oversized', this.counters.tcpOversized],
        ['dns_internal_errors', this.counters.internalErrors],
      ]);
    }
  }

  /** One query's reply bytes; `limit` is the UDP size limit, or null over TCP. Never throws. */
  reply(bytes: Buffer, limit: number | null): Buffer | null {
    try {
      return this.answer(bytes, limit);
    } catch {
      // A query that reaches a bug must not take the agent down (this runs in a socket handler).
      this.counters.internalErrors++;
      try {
        return errorReply(bytes, RCODE_SERVFAIL);
      } catch {
        return null;
      }
    }
  }

  private answer(bytes: Buffer, limit: number | null): Buffer | null {
    this.counters.queries++;
    let query: DecodedPacket;
    try {
      if (!plausibleCounts(bytes)) throw new Error('section counts exceed the packet');
      query = dnsPacket.decode(bytes);
    } catch {
      this.counters.malformed++;
      return errorReply(bytes, RCODE_FORMERR);
    }
    if (query.type !== 'query') {
      this.counters.notQuery++;
      return null;
    }
    if ((query.questions ?? []).some((q: Question) => q.class !== 'IN' && q.class !== 'ANY')) return errorReply(bytes, RCODE_NOTIMP);
    const answer = answerQuery(this.catalog(), query);
    const max = limit ?? 65_535;
    const out = encodeWithin(answer, limit === null ? max : udpLimit(query));
    if ((out.readUInt16BE(2) & dnsPacket.TRUNCATED_RESPONSE) !== 0) this.counters.truncated++;
    return out;
  }

  async listen(addr: string): Promise<void> {
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(addr);
    if (m === null) throw new Error(`DNS address ${addr}: expected "ip:port"`);
    const host = m[1] ?? (m[2] as string);
    const port = Number(m[3]);
    const udp = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, host, () => {
        udp.off('error', reject);
        resolve();
      });
    }).catch((err: unknown) => {
      throw new Error(`cannot listen for DNS (UDP) on ${addr}: ${err instanceof Error ? err.message : String(err)}`);
    });
    udp.on('message', (msg, rinfo) => {
      const out = this.reply(msg, UDP_DEFAULT_LIMIT);
      if (out !== null) udp.send(out, rinfo.port, rinfo.address);
    });
    udp.on('error', () => undefined);
    this.udp = udp;
    const tcp = net.createServer((socket) => this.onConnection(socket));
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port, host, () => {
        tcp.off('error', reject);
        resolve();
      });
    }).catch((err: unknown) => {
      // Closed here, and forgotten, so a later close() does not close it twice (Node throws).
      udp.close();
      this.udp = null;
      throw new Error(`cannot listen for DNS (TCP) on ${addr}: ${err instanceof Error ? err.message : String(err)}`);
    });
    this.tcp = tcp;
    if (!isLoopbackHost(host)) {
      this.agent?.log('WARN', `agent.dns: DNS listening on ${addr}, which is not a loopback address: anyone who reaches it can list this cluster's services and nodes`);
    }
  }

  get port(): number {
    const a = this.udp?.address();
    return a === undefined ? 0 : a.port;
  }

  /** RFC 1035 §4.2.2: each message is preceded by its two-byte length. */
  private onConnection(socket: net.Socket): void {
    this.sockets.add(socket);
    let buf = Buffer.alloc(0);
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length > TCP_MAX_BUFFER) {
        this.counters.tcpOversized++;
        return void socket.destroy();
      }
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) return;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        const out = this.reply(Buffer.from(msg), null);
        if (out !== null) {
          const prefix = Buffer.alloc(2);
          prefix.writeUInt16BE(out.length);
          socket.write(Buffer.concat([prefix, out]));
        }
      }
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await Promise.all([
      new Promise<void>((resolve) => (this.udp === null ? resolve() : this.udp.close(() => resolve()))),
      new Promise<void>((resolve) => (this.tcp === null ? resolve() : this.tcp.close(() => resolve()))),
    ]);
    this.udp = null;
    this.tcp = null;
  }
}
