// Multicast bootstrap (issue #9): Serf's `-discover CLUSTER` (cmd/serf/command/agent/mdns.go over
// hashicorp/mdns), so shoal and serf agents started with the same cluster name on one LAN find
// and join each other with no join address.
//
// Every agent advertises one DNS-SD instance, named after its node, of the service
// `_serf_CLUSTER._tcp.local` (mdns.go mdnsName), and answers queries for it as hashicorp/mdns's
// server does: PTR + SRV + A/AAAA + TXT, all in the answer section, sent back unicast to the
// querier's address and port (server.go sendResponse). Every pollIntervalMs (60 s, mdns.go
// mdnsPollInterval, the first poll at start) it sends a PTR query and listens queryTimeoutMs
// (1 s, hashicorp/mdns DefaultParams) for answers; peers found are joined together once no new
// one has come for quietMs (100 ms, mdnsQuietInterval).
//
// One deliberate departure: Serf marks every address it tried as seen and never joins it
// again, so an agent cut off from the others (a partition, peers that were reaped) waits for
// Serf's reconnect loop. Here a found peer is joined whenever this agent does not list an alive
// member at that address: what discovery finds, an isolated agent rejoins.
//
// DNS packets are encoded and decoded by the multicast-dns / dns-packet packages.
import { createSocket, type Socket } from 'node:dgram';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import makeMdns from 'multicast-dns';
import type { Answer, Question, RecordType } from 'dns-packet';
import type { LogLevel } from '../protocol/effects.js';

/** mdns.go mdnsPollInterval. */
export const MDNS_POLL_INTERVAL_MS = 60_000;
/** mdns.go mdnsQuietInterval: joins wait until answers have stopped coming for this long. */
export const MDNS_QUIET_MS = 100;
/** hashicorp/mdns DefaultParams Timeout: how long one poll listens for answers. */
export const MDNS_QUERY_TIMEOUT_MS = 1_000;
/** hashicorp/mdns zone.go defaultTTL, in seconds. */
const RECORD_TTL_S = 120;
const MDNS_GROUP_V4 = '224.0.0.251';
const MDNS_GROUP_V6 = 'ff02::fb';
const MDNS_PORT = 5353;
/** Limits: peers taken from one poll, and addresses waiting for the next join. */
const MAX_PEERS_PER_POLL = 512;
const MAX_PENDING_JOINS = 512;
/** A DNS label is at most 63 bytes (RFC 1035 §2.3.4); the instance label is the node name. */
const MAX_LABEL_BYTES = 63;
const DOMAIN = 'local';
const ANY = 'ANY' as RecordType;

export interface DiscoverConfig {
  /** The cluster name: the service is `_serf_<cluster>._tcp.local`. */
  readonly cluster: string;
  /** Interface for the multicast traffic (Serf's -iface); default: the system's choice. */
  readonly iface?: string;
  readonly ipv4: boolean;
  readonly ipv6: boolean;
  /** Replay old user events when joining what was found (Serf passes ReplayOnJoin). */
  readonly replay: boolean;
  readonly pollIntervalMs?: number;
  readonly quietMs?: number;
  readonly queryTimeoutMs?: number;
}

/** What this agent advertises. */
export interface DiscoverSelf {
  readonly nodeName: string;
  /** The advertised gossip address (mdns.go uses memberlist's LocalNode Addr and Port). */
  readonly ip: string;
  readonly port: number;
}

export interface DiscoverHooks {
  /** Joins the addresses ("ip:port" / "[v6]:port"); resolves with how many answered. */
  readonly join: (addresses: readonly string[], replay: boolean) => Promise<{ num: number; errors: string[] }>;
  /** True when this agent lists an alive member at that address ("ip:port" / "[v6]:port"). */
  readonly isAliveMember: (address: string) => boolean;
  readonly log: (level: LogLevel, message: string) => void;
}

/** One advertised instance found by a poll. */
export interface DiscoveredPeer {
  readonly instance: string;
  readonly ip: string;
  readonly port: number;
}

export function mdnsServiceName(cluster: string): string {
  return `_serf_${cluster}._tcp`;
}

/** Why a cluster name cannot be used (null: it can): it becomes part of one DNS label. */
export function checkClusterName(cluster: string): string | null {
  if (cluster === '') return 'the cluster name is empty';
  if (/[.\s]/.test(cluster)) return `the cluster name ${JSON.stringify(cluster)} has a dot or a space: it must be one DNS label`;
  if (Buffer.byteLength(mdnsServiceName(cluster).split('.')[0] as string) > MAX_LABEL_BYTES) {
    return `the cluster name ${JSON.stringify(cluster)} is too long: "_serf_" + name must fit one ${MAX_LABEL_BYTES}-byte DNS label`;
  }
  return null;
}

function sameName(a: string, b: string): boolean {
  // DNS names compare case-insensitively; dns-packet drops the trailing dot.
  return a.replace(/\.$/, '').toLowerCase() === b.replace(/\.$/, '').toLowerCase();
}

export function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip.replace(/%.*$/, '')}]:${port}` : `${ip}:${port}`;
}

/**
 * The records this agent answers with (hashicorp/mdns zone.go MDNSService.Records). The SRV
 * target is the instance name itself and the A/AAAA record is named after it (a host name would
 * be shared by every agent in one machine's network namespaces); Go's client aliases an SRV
 * target only when it differs from the instance, so it reads these the same way.
 */
export class ServiceRecords {
  readonly service: string;
  readonly instance: string;
  private readonly txt: string;

  constructor(cluster: string, readonly self: DiscoverSelf) {
    this.service = `${mdnsServiceName(cluster)}.${DOMAIN}`;
    this.instance = `${self.nodeName}.${this.service}`;
    this.txt = `Serf '${cluster}' cluster`;
    const tooLong = self.nodeName.split('.').find((label) => Buffer.byteLength(label) > MAX_LABEL_BYTES || label === '');
    if (tooLong !== undefined) {
      throw new Error(`node name ${JSON.stringify(self.nodeName)} cannot be an mDNS instance name (labels of 1 to ${MAX_LABEL_BYTES} bytes): give -node a shorter name`);
    }
  }

  private srv(): Answer {
    return { name: this.instance, type: 'SRV', ttl: RECORD_TTL_S, data: { priority: 10, weight: 1, port: this.self.port, target: this.instance } };
  }

  private address(): Answer {
    const v6 = this.self.ip.includes(':');
    return { name: this.instance, type: v6 ? 'AAAA' : 'A', ttl: RECORD_TTL_S, data: this.self.ip };
  }

  private txtRecord(): Answer {
    return { name: this.instance, type: 'TXT', ttl: RECORD_TTL_S, data: [this.txt] };
  }

  /** The answers for one question (empty: not ours). */
  answer(q: Question): Answer[] {
    // dns-packet's types leave out ANY (255), which it encodes and decodes.
    const type: string = q.type;
    if (sameName(q.name, `_services._dns-sd._udp.${DOMAIN}`) && (type === 'PTR' || type === 'ANY')) {
      return [{ name: q.name, type: 'PTR', ttl: RECORD_TTL_S, data: this.service }];
    }
    if (sameName(q.name, this.service) && (type === 'PTR' || type === 'ANY')) {
      return [{ name: this.service, type: 'PTR', ttl: RECORD_TTL_S, data: this.instance }, this.srv(), this.address(), this.txtRecord()];
    }
    if (!sameName(q.name, this.instance)) return [];
    switch (type) {
      case 'ANY':
        return [this.srv(), this.address(), this.txtRecord()];
      case 'SRV':
        return [this.srv(), this.address()];
      case 'TXT':
        return [this.txtRecord()];
      case 'A':
      case 'AAAA':
        return this.self.ip.includes(':') === (type === 'AAAA') ? [this.address()] : [];
      default:
        return [];
    }
  }
}

/**
 * The peers one response names (hashicorp/mdns client.go query): instances of `service` whose
 * SRV and an address of its target are in this response; `incomplete` lists the instances that
 * need a query of their own. With both an A and an AAAA record, the family of this agent's own
 * address wins. (Which multicast family carried the answer does not matter: -mdns-disable-ipv4
 * switches off the transport, not the addresses found.)
 */
export function peersFromResponse(records: readonly Answer[], service: string, preferIpv6: boolean): { peers: DiscoveredPeer[]; incomplete: string[] } {
  const instances: string[] = [];
  const note = (name: string): void => {
    if (!instances.some((i) => sameName(i, name))) instances.push(name);
  };
  for (const r of records) {
    if (r.type === 'PTR' && sameName(r.name, service) && typeof r.data === 'string') note(r.data);
    else if (r.type === 'SRV' && r.name.toLowerCase().endsWith(`.${service.toLowerCase()}`)) note(r.name);
  }
  const peers: DiscoveredPeer[] = [];
  const incomplete: string[] = [];
  for (const instance of instances) {
    const srv = records.find((r) => r.type === 'SRV' && sameName(r.name, instance));
    if (srv === undefined || srv.type !== 'SRV') {
      incomplete.push(instance);
      continue;
    }
    const target = srv.data.target;
    const v4 = records.find((r) => r.type === 'A' && sameName(r.name, target));
    const v6 = records.find((r) => r.type === 'AAAA' && sameName(r.name, target));
    const [first, second] = preferIpv6 ? [v6, v4] : [v4, v6];
    const addr = first?.type === 'A' || first?.type === 'AAAA' ? first : second?.type === 'A' || second?.type === 'AAAA' ? second : undefined;
    if (addr === undefined || srv.data.port === 0) {
      incomplete.push(instance);
      continue;
    }
    peers.push({ instance: instance.replace(/\.$/, ''), ip: addr.data, port: srv.data.port });
  }
  return { peers, incomplete };
}

/** The addresses to join: found peers that are not this agent and not alive members already. */
export function joinCandidates(found: readonly DiscoveredPeer[], self: DiscoverSelf, isAliveMember: (address: string) => boolean): string[] {
  const selfAddr = hostPort(self.ip, self.port);
  const out: string[] = [];
  for (const peer of found) {
    const addr = hostPort(peer.ip, peer.port);
    if (addr === selfAddr || out.includes(addr) || isAliveMember(addr)) continue;
    out.push(addr);
  }
  return out;
}

type Family = 'ipv4' | 'ipv6';

interface Endpoint {
  readonly family: Family;
  /** The multicast interface as dgram takes it ("198.18.0.1", "::%eth0"); undefined: the system's. */
  readonly multicastInterface: string | undefined;
  /** Interface name, for scoping IPv6 link-local addresses. */
  readonly ifaceName: string | undefined;
}

/** Where IPv4 and IPv6 multicast go: the named interface, or the system default (IPv6 needs a name). */
function endpoints(config: DiscoverConfig, interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): { found: Endpoint[]; problems: string[] } {
  const found: Endpoint[] = [];
  const problems: string[] = [];
  const names = Object.keys(interfaces);
  if (config.iface !== undefined && interfaces[config.iface] === undefined) {
    throw new Error(`mDNS interface ${JSON.stringify(config.iface)} not found (this host has: ${names.join(', ')}): give -mdns-iface one of those`);
  }
  if (config.ipv4) {
    if (config.iface === undefined) found.push({ family: 'ipv4', multicastInterface: undefined, ifaceName: undefined });
    else {
      const v4 = (interfaces[config.iface] ?? []).find((i) => i.family === 'IPv4');
      if (v4 === undefined) problems.push(`interface ${config.iface} has no IPv4 address`);
      else found.push({ family: 'ipv4', multicastInterface: v4.address, ifaceName: config.iface });
    }
  }
  if (config.ipv6) {
    // ff02::fb is link-local: a socket must name the interface it joins and sends on.
    const name = config.iface ?? names.find((n) => (interfaces[n] ?? []).some((i) => i.family === 'IPv6' && !i.internal));
    if (name === undefined || !(interfaces[name] ?? []).some((i) => i.family === 'IPv6')) {
      problems.push(config.iface === undefined ? 'no interface has an IPv6 address' : `interface ${config.iface} has no IPv6 address`);
    } else found.push({ family: 'ipv6', multicastInterface: `::%${name}`, ifaceName: name });
  }
  return { found, problems };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A responder (multicast-dns on port 5353, in the group) and its endpoint. */
interface Responder {
  readonly endpoint: Endpoint;
  readonly mdns: makeMdns.MulticastDNS;
}

/** Advertises this agent and polls for the others until stopped. */
export class MdnsDiscovery {
  private readonly records: ServiceRecords;
  private readonly pollIntervalMs: number;
  private readonly quietMs: number;
  private readonly queryTimeoutMs: number;
  private responders: Responder[] = [];
  /** Query sockets of the poll in progress (closed when it ends, or at stop). */
  private readonly queriers = new Set<makeMdns.MulticastDNS>();
  private pollTimer: NodeJS.Timeout | undefined;
  private quietTimer: NodeJS.Timeout | undefined;
  private pending: string[] = [];
  /** Response handlers of the poll in progress (answers may also come by multicast). */
  private readonly listeners = new Set<(records: Answer[]) => void>();
  private stopped = false;
  private joining: Promise<void> = Promise.resolve();
  /** Polls done, and peers joined (for tests and `info`). */
  readonly stats = { polls: 0, joined: 0 };

  private constructor(
    readonly config: DiscoverConfig,
    readonly self: DiscoverSelf,
    private readonly hooks: DiscoverHooks,
  ) {
    this.records = new ServiceRecords(config.cluster, self);
    this.pollIntervalMs = config.pollIntervalMs ?? MDNS_POLL_INTERVAL_MS;
    this.quietMs = config.quietMs ?? MDNS_QUIET_MS;
    this.queryTimeoutMs = config.queryTimeoutMs ?? MDNS_QUERY_TIMEOUT_MS;
  }

  /** Starts the responders and the first poll; throws when no responder could start (as NewServer does). */
  static async start(config: DiscoverConfig, self: DiscoverSelf, hooks: DiscoverHooks): Promise<MdnsDiscovery> {
    const problem = checkClusterName(config.cluster);
    if (problem !== null) throw new Error(problem);
    if (!config.ipv4 && !config.ipv6) throw new Error('mDNS needs IPv4 or IPv6: both are disabled');
    const d = new MdnsDiscovery(config, self, hooks);
    const { found, problems } = endpoints(config, networkInterfaces());
    for (const p of problems) hooks.log('WARN', `agent.mdns: ${p}: not using it`);
    const failures: string[] = [...problems];
    for (const endpoint of found) {
      try {
        d.responders.push(await d.openResponder(endpoint));
      } catch (err) {
        failures.push(`${endpoint.family}: ${errorText(err)}`);
        hooks.log('WARN', `agent.mdns: no ${endpoint.family} listener: ${errorText(err)}`);
      }
    }
    if (d.responders.length === 0) throw new Error(`no multicast listener could be started (${failures.join('; ')})`);
    d.pollTimer = setTimeout(() => d.poll(), 0);
    d.pollTimer.unref();
    return d;
  }

  private openResponder(endpoint: Endpoint): Promise<Responder> {
    const v6 = endpoint.family === 'ipv6';
    const mdns = makeMdns({
      type: v6 ? 'udp6' : 'udp4',
      ip: v6 ? MDNS_GROUP_V6 : MDNS_GROUP_V4,
      port: MDNS_PORT,
      // Bound to the wildcard address: a socket bound to a unicast address gets no multicast.
      bind: v6 ? '::' : '0.0.0.0',
      ...(endpoint.multicastInterface === undefined ? {} : { interface: endpoint.multicastInterface }),
    });
    const responder: Responder = { endpoint, mdns };
    mdns.on('query', (query, rinfo) => {
      const answers = (query.questions ?? []).flatMap((q) => this.records.answer(q));
      if (answers.length === 0 || this.stopped) return;
      // hashicorp/mdns answers every query by unicast to its source (server.go sendResponse),
      // and serf's querier listens only there: so do we.
      const address = this.scoped(rinfo.address, endpoint);
      mdns.respond({ answers }, { address, port: rinfo.port }, (err) => {
        if (err) this.hooks.log('DEBUG', `agent.mdns: answer to ${hostPort(address, rinfo.port)} failed: ${errorText(err)}`);
      });
    });
    mdns.on('response', (response) => this.deliver([...(response.answers ?? []), ...(response.additionals ?? [])]));
    mdns.on('warning', (err: Error) => this.hooks.log('DEBUG', `agent.mdns: ${endpoint.family}: ${err.message}`));
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        mdns.destroy();
        reject(err);
      };
      mdns.once('error', onError);
      mdns.once('ready', () => {
        mdns.off('error', onError);
        mdns.on('error', (err: Error) => this.hooks.log('ERR', `agent.mdns: ${endpoint.family} listener: ${err.message}`));
        resolve(responder);
      });
    });
  }

  /** IPv6 link-local peers are reachable only through the interface they came from. */
  private scoped(address: string, endpoint: Endpoint): string {
    return address.toLowerCase().startsWith('fe80:') && !address.includes('%') && endpoint.ifaceName !== undefined ? `${address}%${endpoint.ifaceName}` : address;
  }

  private deliver(records: Answer[]): void {
    for (const listener of this.listeners) listener(records);
  }

  /** One poll (mdns.go poll): a PTR query per family, answers taken for queryTimeoutMs. */
  private poll(): void {
    if (this.stopped) return;
    this.pollTimer = setTimeout(() => this.poll(), this.pollIntervalMs);
    this.pollTimer.unref();
    this.stats.polls++;
    const preferIpv6 = this.self.ip.includes(':');
    const followedUp = new Set<string>();
    let taken = 0;
    const queriers: Array<{ mdns: makeMdns.MulticastDNS; group: { address: string; port: number } }> = [];
    const onRecords = (records: Answer[]): void => {
      const { peers, incomplete } = peersFromResponse(records, this.records.service, preferIpv6);
      for (const peer of peers) {
        if (taken++ >= MAX_PEERS_PER_POLL) return;
        this.found(peer);
      }
      // client.go: an instance named without its SRV or address gets a query of its own.
      for (const instance of incomplete) {
        if (followedUp.has(instance.toLowerCase()) || followedUp.size >= MAX_PEERS_PER_POLL) continue;
        followedUp.add(instance.toLowerCase());
        for (const q of queriers) q.mdns.query({ questions: [{ name: instance, type: ANY }] }, q.group);
      }
    };
    this.listeners.add(onRecords);
    for (const responder of this.responders) {
      const querier = this.openQuerier(responder.endpoint, onRecords);
      if (querier === null) continue;
      queriers.push(querier);
      this.queriers.add(querier.mdns);
      querier.mdns.query({ questions: [{ name: this.records.service, type: 'PTR' }] }, querier.group, (err) => {
        if (err) this.hooks.log('ERR', `agent.mdns: Failed to poll for new hosts: ${errorText(err)}`);
      });
    }
    setTimeout(() => {
      this.listeners.delete(onRecords);
      for (const q of queriers) {
        this.queriers.delete(q.mdns);
        q.mdns.destroy();
      }
    }, this.queryTimeoutMs).unref();
  }

  /**
   * A socket on an ephemeral port for one poll's queries (hashicorp/mdns newClient): answers come
   * back to it by unicast, even where another mDNS daemon holds port 5353 on this host.
   */
  private openQuerier(
    endpoint: Endpoint,
    onRecords: (records: Answer[]) => void,
  ): { mdns: makeMdns.MulticastDNS; group: { address: string; port: number } } | null {
    const v6 = endpoint.family === 'ipv6';
    let socket: Socket;
    try {
      socket = createSocket({ type: v6 ? 'udp6' : 'udp4' });
    } catch (err) {
      this.hooks.log('ERR', `agent.mdns: Failed to poll for new hosts: ${errorText(err)}`);
      return null;
    }
    socket.on('error', (err) => this.hooks.log('DEBUG', `agent.mdns: ${endpoint.family} query socket: ${err.message}`));
    socket.bind(0, v6 ? '::' : '0.0.0.0', () => {
      try {
        if (endpoint.multicastInterface !== undefined) socket.setMulticastInterface(endpoint.multicastInterface);
        socket.setMulticastTTL(255);
      } catch (err) {
        this.hooks.log('DEBUG', `agent.mdns: ${endpoint.family} query socket: ${errorText(err)}`);
      }
    });
    const mdns = makeMdns({ socket, port: 0, multicast: false });
    mdns.on('response', (response) => onRecords([...(response.answers ?? []), ...(response.additionals ?? [])]));
    mdns.on('warning', (err: Error) => this.hooks.log('DEBUG', `agent.mdns: ${endpoint.family} query: ${err.message}`));
    mdns.on('error', (err: Error) => this.hooks.log('DEBUG', `agent.mdns: ${endpoint.family} query: ${err.message}`));
    const group = v6 ? { address: `${MDNS_GROUP_V6}%${endpoint.ifaceName ?? ''}`, port: MDNS_PORT } : { address: MDNS_GROUP_V4, port: MDNS_PORT };
    return { mdns, group };
  }

  /** mdns.go run: queue the peer and (re)arm the quiet timer. */
  private found(peer: DiscoveredPeer): void {
    const [addr] = joinCandidates([peer], this.self, this.hooks.isAliveMember);
    if (addr === undefined || this.pending.includes(addr) || this.pending.length >= MAX_PENDING_JOINS) return;
    this.hooks.log('DEBUG', `agent.mdns: found ${peer.instance} at ${addr}`);
    this.pending.push(addr);
    clearTimeout(this.quietTimer);
    this.quietTimer = setTimeout(() => this.joinPending(), this.quietMs);
    this.quietTimer.unref();
  }

  private joinPending(): void {
    const addrs = this.pending;
    this.pending = [];
    if (addrs.length === 0 || this.stopped) return;
    this.joining = this.joining.then(async () => {
      if (this.stopped) return;
      let result: { num: number; errors: string[] };
      try {
        result = await this.hooks.join(addrs, this.config.replay);
      } catch (err) {
        result = { num: 0, errors: [errorText(err)] };
      }
      const { num, errors } = result;
      if (errors.length > 0) this.hooks.log('ERR', `agent.mdns: Failed to join: ${errors.join('; ')}`);
      if (num > 0) {
        this.stats.joined += num;
        this.hooks.log('INFO', `agent.mdns: Joined ${num} hosts`);
      }
    });
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.pollTimer);
    clearTimeout(this.quietTimer);
    for (const r of this.responders) r.mdns.destroy();
    this.responders = [];
    for (const q of this.queriers) q.destroy();
    this.queriers.clear();
    this.listeners.clear();
  }
}
