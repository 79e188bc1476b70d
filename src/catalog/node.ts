// A shoal node: the Serf layer plus the gossiped catalog, as one engine the runtime and the
// simulator drive (ProtocolEngine). Catalog timers travel in the same outbox as Serf's and
// memberlist's (kind "catalog:…"); catalog messages reach Serf's user-message path behind a type
// byte of their own (Serf's onExtensionMessage hook) and leave only towards peers whose Meta
// announces shoal support (SHOAL_META_SUFFIX), so a real serf agent never receives one.
import { ipToString, type Address } from '../protocol/address.js';
import type { Effect, LogLevel, Timer } from '../protocol/effects.js';
import type { ProtocolEngine } from '../protocol/engine.js';
import type { StreamResult } from '../protocol/memberlist.js';
import type { Rng } from '../protocol/rng.js';
import { Serf, type SerfEnv, type SerfEvent } from '../cluster/serf.js';
import type { SerfConfigInput } from '../cluster/config.js';
import { MemberStatus, type Member } from '../cluster/member.js';
import type { StreamMessage, StreamOptions } from '../wire/stream.js';
import { MsgpackReader } from '../wire/msgpack-reader.js';
import { TAG_MAGIC } from '../wire/tags.js';
import { Catalog, type MemberHealth } from './catalog.js';
import { CATALOG_MESSAGE_TYPE } from './codec.js';
import { CatalogGossip, DEFAULT_GOSSIP_CONFIG, type GossipConfig } from './gossip.js';
import { LocalCatalog } from './local.js';
import type { Check, HealthStatusName, NodeCatalog, Service } from './types.js';

/**
 * How a shoal agent announces the catalog protocol: these bytes follow the tags map in its
 * memberlist Meta ("SHOAL", then the catalog protocol version). Serf's decodeTags reads one
 * msgpack value and ignores what follows (serf.go decodeTags; shoal's src/wire/tags.ts does the
 * same), so real serf agents see exactly the tags that were set. A reserved tag would have done
 * too, but it shows in every `serf members`, handler environment and tags listing, and a user's
 * `tags -delete` could switch discovery off; the suffix is invisible and cannot be removed.
 */
export const SHOAL_META_SUFFIX = Uint8Array.of(0x53, 0x48, 0x4f, 0x41, 0x4c, 0x01);

/** Catalog messages up to this size go by UDP (memberlist's 1400-byte packets leave room for framing, CRC, encryption). */
export const CATALOG_UDP_PAYLOAD_LIMIT = 1_100;

const TIMER_PREFIX = 'catalog:';

export interface ShoalNodeOptions {
  /** Where the node's catalog versions start (the runtime: wall-clock microseconds). */
  readonly versionBase: number;
  readonly gossip?: Partial<GossipConfig>;
  /** See GossipPort.intern. */
  readonly intern?: (state: NodeCatalog) => NodeCatalog;
  /** How often tombstones are swept (Catalog.expireTombstones); default: a tenth of Serf's tombstone timeout, 1 s to 60 s. */
  readonly tombstoneSweepIntervalMs?: number;
}

/** Whether a member's Meta is a tags map followed by exactly SHOAL_META_SUFFIX. Never throws. */
export function announcesShoal(meta: Uint8Array): boolean {
  if (meta.length <= SHOAL_META_SUFFIX.length || meta[0] !== TAG_MAGIC) return false;
  try {
    const r = new MsgpackReader(meta, 1, meta.length, 'meta');
    const n = r.mapLenOrNil();
    for (let i = 0; i < 2 * n; i++) r.string();
    if (meta.length - r.pos !== SHOAL_META_SUFFIX.length) return false;
    return SHOAL_META_SUFFIX.every((b, i) => meta[r.pos + i] === b);
  } catch {
    return false;
  }
}

export class ShoalNode implements ProtocolEngine {
  readonly serf: Serf;
  readonly catalog: Catalog;
  readonly local: LocalCatalog;
  readonly gossip: CatalogGossip;
  private readonly outbox: Effect[] = [];
  private readonly timers = new Map<number, () => void>();
  private nextTimerId = 1;
  private nowMs = 0;
  private stopped = false;
  /** Alive members that announce shoal support, without us, in a stable order. */
  private readonly peerSet = new Set<string>();
  private peerList: string[] | null = null;
  private readonly tombstoneSweepIntervalMs: number | undefined;

  constructor(input: SerfConfigInput, env: SerfEnv, options: ShoalNodeOptions) {
    this.tombstoneSweepIntervalMs = options.tombstoneSweepIntervalMs;
    this.catalog = new Catalog(input.nodeName);
    this.local = new LocalCatalog(input.nodeName, options.versionBase);
    this.serf = new Serf(
      input,
      {
        ...env,
        metaSuffix: SHOAL_META_SUFFIX,
        onEvent: (event) => {
          this.onSerfEvent(event);
          env.onEvent?.(event);
        },
        onExtensionMessage: (nowMs, payload) => {
          if (payload[0] !== CATALOG_MESSAGE_TYPE) return env.onExtensionMessage?.(nowMs, payload) ?? false;
          this.advance(nowMs);
          if (!this.stopped) this.gossip.receive(nowMs, payload);
          return true;
        },
      },
    );
    const rng: Rng = env.rng;
    this.gossip = new CatalogGossip(
      this.catalog,
      this.local,
      {
        peers: () => (this.peerList ??= [...this.peerSet].sort()),
        send: (node, payload) => {
          // Answers go to the name a message gives as its sender: never let that name reach a
          // member that does not announce shoal support (a real serf agent), whatever it says.
          if (!this.peerSet.has(node)) return;
          const ml = this.serf.memberlist;
          if (payload.length <= CATALOG_UDP_PAYLOAD_LIMIT) ml.sendBestEffort(this.nowMs, node, payload);
          else ml.sendReliable(this.nowMs, node, payload);
        },
        schedule: (kind, delayMs, fn) => this.schedule(kind, delayMs, fn),
        log: (level, message) => this.log(level, message),
        rng,
        ...(options.intern === undefined ? {} : { intern: options.intern }),
      },
      { ...DEFAULT_GOSSIP_CONFIG, ...options.gossip },
    );
  }

  get name(): string {
    return this.local.node;
  }

  // ---------------------------------------------------------------- ProtocolEngine

  private advance(nowMs: number): void {
    if (nowMs > this.nowMs) this.nowMs = nowMs;
  }

  private log(level: LogLevel, message: string): void {
    this.outbox.push({ kind: 'log', level, message });
  }

  private schedule(kind: string, delayMs: number, fn: () => void): void {
    const id = this.nextTimerId++;
    this.timers.set(id, fn);
    this.outbox.push({ kind: 'timer', timer: { id, kind: TIMER_PREFIX + kind, atMs: this.nowMs + Math.max(0, delayMs) } });
  }

  takeEffects(): Effect[] {
    const below = this.serf.takeEffects();
    if (this.outbox.length === 0) return below;
    return this.outbox.splice(0, this.outbox.length).concat(below);
  }

  fireTimer(nowMs: number, timer: Timer): void {
    this.advance(nowMs);
    if (!timer.kind.startsWith(TIMER_PREFIX)) return this.serf.fireTimer(nowMs, timer);
    const fn = this.timers.get(timer.id);
    if (fn === undefined || this.stopped) return;
    this.timers.delete(timer.id);
    fn();
  }

  receivePacket(nowMs: number, from: Address, bytes: Uint8Array): void {
    this.advance(nowMs);
    this.serf.receivePacket(nowMs, from, bytes);
  }

  handleStream(nowMs: number, from: Address, message: StreamMessage): Uint8Array | null {
    this.advance(nowMs);
    return this.serf.handleStream(nowMs, from, message);
  }

  streamErrorReply(reason: string): Uint8Array {
    return this.serf.streamErrorReply(reason);
  }

  streamResult(nowMs: number, id: number, result: StreamResult): void {
    this.advance(nowMs);
    this.serf.streamResult(nowMs, id, result);
  }

  streamOptions(): StreamOptions {
    return this.serf.streamOptions();
  }

  start(nowMs: number): void {
    this.advance(nowMs);
    this.serf.start(nowMs);
    this.gossip.start(nowMs);
    this.scheduleTombstoneSweep();
  }

  /** Catalog entries of departed nodes are forgotten Serf's tombstone timeout after Serf forgets the member. */
  private scheduleTombstoneSweep(): void {
    const timeoutMs = this.serf.config.tombstoneTimeoutMs;
    const everyMs = this.tombstoneSweepIntervalMs ?? Math.min(60_000, Math.max(1_000, Math.floor(timeoutMs / 10)));
    this.schedule('tombstones', everyMs, () => {
      this.catalog.expireTombstones(this.nowMs, timeoutMs);
      this.scheduleTombstoneSweep();
    });
  }

  shutdown(): void {
    this.stopped = true;
    this.timers.clear();
    this.serf.shutdown();
  }

  // ---------------------------------------------------------------- the local catalog (HTTP API, config, check runners)

  registerService(nowMs: number, service: Service, checks: readonly Check[]): void {
    this.advance(nowMs);
    this.local.registerService(service, checks);
    this.gossip.localChanged(this.nowMs);
  }

  deregisterService(nowMs: number, id: string): boolean {
    this.advance(nowMs);
    const removed = this.local.deregisterService(id);
    if (removed) this.gossip.localChanged(this.nowMs);
    return removed;
  }

  registerCheck(nowMs: number, check: Check): void {
    this.advance(nowMs);
    this.local.registerCheck(check);
    this.gossip.localChanged(this.nowMs);
  }

  deregisterCheck(nowMs: number, id: string): boolean {
    this.advance(nowMs);
    const removed = this.local.deregisterCheck(id);
    if (removed) this.gossip.localChanged(this.nowMs);
    return removed;
  }

  /** A check's result; throws CatalogError for an unknown check. */
  updateCheck(nowMs: number, id: string, status: HealthStatusName, output: string): void {
    this.advance(nowMs);
    if (this.local.updateCheck(id, status, output)) this.gossip.localChanged(this.nowMs);
  }

  // ---------------------------------------------------------------- gossip's view of members

  private onSerfEvent(event: SerfEvent): void {
    if (event.type === 'user' || event.type === 'query') return;
    for (const m of event.members) {
      if (event.type === 'member-reap') {
        this.catalog.removeMember(m.name);
        this.setPeer(m.name, false);
        continue;
      }
      const health = memberHealth(m);
      this.catalog.setMember({ name: m.name, address: ipToString(m.addr), health, tags: m.tags });
      if (m.name === this.name) continue;
      const isPeer = health === 'alive' && announcesShoal(this.serf.memberlist.node(m.name)?.meta ?? new Uint8Array(0));
      const wasPeer = this.peerSet.has(m.name);
      this.setPeer(m.name, isPeer);
      if (isPeer && !wasPeer && !this.stopped) this.gossip.peerAppeared(this.nowMs, m.name);
    }
  }

  private setPeer(name: string, on: boolean): void {
    if (on === this.peerSet.has(name)) return;
    if (on) this.peerSet.add(name);
    else this.peerSet.delete(name);
    this.peerList = null;
  }

  /** Alive shoal peers (for tests and metrics). */
  peers(): readonly string[] {
    return (this.peerList ??= [...this.peerSet].sort());
  }
}

function memberHealth(m: Member): MemberHealth {
  switch (m.status) {
    case MemberStatus.alive:
      return 'alive';
    case MemberStatus.failed:
      return 'failed';
    default:
      // leaving and left: a graceful departure, whose services go (Consul deregisters them).
      return m.status === MemberStatus.leaving ? 'alive' : 'left';
  }
}
