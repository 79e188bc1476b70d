// Spreading the catalog among shoal peers, sans-IO. Three mechanisms, each covering the others' gaps:
//  1. hello: when a shoal peer appears, we send it our own entry (so a joiner learns every node
//     and every node learns the joiner, in one message each);
//  2. rumor: a local change goes, whole, to `fanout` random peers; a node that finds an entry news
//     announces it once — (node, version), about 20 bytes — to `fanout` others, and a receiver
//     that lacks it requests the entry from the announcer (infect-once push of versions, pull of
//     entries: each node receives each entry about once, instead of `fanout` times; with every
//     node changing at once — a cluster starting with its services — pushing whole entries cost
//     N × fanout copies of every entry, 5 million messages at 1,000 nodes). Announcements made
//     within `announceDelayMs` leave together, a few packets per window however many entries;
//  3. anti-entropy: every interval a summary (64 bucket hashes of the node → version pairs, about
//     300 bytes whatever the cluster size) goes to one random peer; where buckets differ, the peer
//     sends its digest (node → version) of those buckets, and we answer with what is newer on our
//     side and ask for what is newer on its — this repairs whatever lost packets and partitions
//     left, cheaply enough to run every couple of seconds.
// Local changes are rate-limited: at most one publication per `publishMinIntervalMs`, the first at
// once and the rest coalesced, so a flapping check costs one entry per interval, not one per flap.
import type { Rng } from '../protocol/rng.js';
import type { LogLevel } from '../protocol/effects.js';
import type { Catalog } from './catalog.js';
import { decodeCatalogMessage, encodeCatalogMessage, type CatalogMessage } from './codec.js';
import type { LocalCatalog } from './local.js';
import type { NodeCatalog } from './types.js';
import { bucketOf, differingBuckets, summarize } from './summary.js';

export interface GossipConfig {
  /** Smallest gap between two publications of our entry (rate limit for flapping checks). */
  readonly publishMinIntervalMs: number;
  /** Peers a rumor goes to from each node that finds it news. */
  readonly fanout: number;
  /** Anti-entropy period (a summary to one random peer). */
  readonly antiEntropyIntervalMs: number;
  /** Largest message we build; states beyond it go in further messages. */
  readonly maxMessageBytes: number;
  /** News found within this window is announced together (one message per peer, not one per entry). */
  readonly announceDelayMs: number;
  /** An announcement message's budget, so it travels by UDP (node.ts sends up to 1,100 bytes that way). */
  readonly announceMaxBytes: number;
  /** Entries awaiting announcement at most; more news is left to anti-entropy (counted: announceDropped). */
  readonly maxPendingAnnouncements: number;
  /** After requesting an announced entry, further announcements of it wait this long for the answer before asking again. */
  readonly requestTimeoutMs: number;
}

export const DEFAULT_GOSSIP_CONFIG: GossipConfig = {
  publishMinIntervalMs: 1_000,
  fanout: 4,
  antiEntropyIntervalMs: 2_000,
  maxMessageBytes: 64 * 1024,
  announceDelayMs: 50,
  announceMaxBytes: 1_000,
  maxPendingAnnouncements: 8_192,
  requestTimeoutMs: 1_000,
};

/** Requests awaiting an answer, at most (entries older than requestTimeoutMs are swept first). */
const MAX_OUTSTANDING_REQUESTS = 65_536;

/** What the gossip layer needs from the engine around it. */
export interface GossipPort {
  /** Alive peers that announce shoal support, without us. */
  peers(): readonly string[];
  /** Delivers a catalog message to a peer (by UDP when it fits, else by TCP). */
  send(node: string, payload: Uint8Array): void;
  schedule(kind: string, delayMs: number, fn: () => void): void;
  log(level: LogLevel, message: string): void;
  readonly rng: Rng;
  /**
   * Optionally swaps a received entry for an identical one already held elsewhere (entries are
   * immutable). The simulator shares one copy per (node, version) among its thousand nodes.
   */
  intern?(state: NodeCatalog): NodeCatalog;
}

export class CatalogStats {
  messagesIn = 0;
  messagesOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  malformed = 0;
  statesApplied = 0;
  statesStale = 0;
  publications = 0;
  /** Local changes folded into a later publication by the rate limit. */
  coalesced = 0;
  antiEntropyRounds = 0;
  /** (node, version) pairs announced, counted once per target. */
  announced = 0;
  /** Entries requested because a peer announced them. */
  requested = 0;
  /** News not announced because the announcement queue was full (anti-entropy repairs it). */
  announceDropped = 0;
}

export class CatalogGossip {
  readonly stats = new CatalogStats();
  private nowMs = 0;
  private lastPublishMs = -Infinity;
  private publishPending = false;
  private started = false;
  /** News to announce at the next flush: node → version. */
  private readonly pendingAnnounce = new Map<string, number>();
  private announceScheduled = false;
  /** Entries requested after an announcement: node → the version asked for and until when to wait for it. */
  private readonly outstanding = new Map<string, { version: number; untilMs: number }>();

  constructor(
    readonly catalog: Catalog,
    readonly local: LocalCatalog,
    private readonly port: GossipPort,
    readonly config: GossipConfig = DEFAULT_GOSSIP_CONFIG,
  ) {}

  /** A publication of our entry is scheduled (changes not yet sent). */
  get publishing(): boolean {
    return this.publishPending;
  }

  private get self(): string {
    return this.local.node;
  }

  start(nowMs: number): void {
    this.nowMs = nowMs;
    if (this.started) return;
    this.started = true;
    this.catalog.apply(this.local.nextState());
    // A random first delay spreads the rounds of agents started together.
    this.port.schedule('antiEntropy', this.port.rng.int(this.config.antiEntropyIntervalMs) + 1, () => this.antiEntropyTick());
  }

  /** Something in the local catalog changed: publish now, or once the rate limit allows. */
  localChanged(nowMs: number): void {
    this.nowMs = Math.max(this.nowMs, nowMs);
    if (this.publishPending) {
      this.stats.coalesced++;
      return;
    }
    // Due now: still go through a timer (of 0 ms), so changes made together — a service and its
    // checks, a config directory's services — leave as one publication.
    const dueMs = Math.max(this.nowMs, this.lastPublishMs + this.config.publishMinIntervalMs);
    this.publishPending = true;
    this.port.schedule('publish', dueMs - this.nowMs, () => {
      this.publishPending = false;
      this.publish();
    });
  }

  private publish(): void {
    this.lastPublishMs = this.nowMs;
    this.stats.publications++;
    const state = this.local.nextState();
    this.catalog.apply(state);
    const targets = this.pick(this.config.fanout, new Set());
    this.sendStates(targets, [state], true);
  }

  /** A shoal peer appeared: say hello with our own entry. */
  peerAppeared(nowMs: number, node: string): void {
    this.nowMs = Math.max(this.nowMs, nowMs);
    const own = this.catalog.stateOf(this.self);
    if (own !== undefined) this.sendStates([node], [own], false);
  }

  /** A catalog message from a peer. Malformed ones are counted and dropped. */
  receive(nowMs: number, payload: Uint8Array): void {
    this.nowMs = Math.max(this.nowMs, nowMs);
    this.stats.messagesIn++;
    this.stats.bytesIn += payload.length;
    const decoded = decodeCatalogMessage(payload);
    if (!decoded.ok) {
      this.stats.malformed++;
      this.port.log('DEBUG', `catalog: dropped a malformed message: ${decoded.reason}`);
      return;
    }
    const msg = decoded.message;
    switch (msg.kind) {
      case 'states':
        return this.receiveStates(msg.states);
      case 'summary':
        return this.receiveSummary(msg.from, msg.hashes);
      case 'digest':
        return this.receiveDigest(msg.from, msg.versions, msg.buckets);
      case 'request':
        return this.sendStates([msg.from], msg.nodes.flatMap((n) => this.catalog.stateOf(n) ?? []), false);
      case 'announce':
        return this.receiveAnnounce(msg.from, msg.versions);
    }
  }

  /** A peer learned these entries: request the ones newer than ours that we are not already waiting for. */
  private receiveAnnounce(from: string, versions: ReadonlyMap<string, number>): void {
    const want: string[] = [];
    for (const [node, version] of versions) {
      if (node === this.self) {
        if (version > this.local.version) {
          this.local.witness(version);
          this.localChanged(this.nowMs);
        }
        continue;
      }
      if (version <= this.catalog.version(node)) continue;
      const asked = this.outstanding.get(node);
      if (asked !== undefined && asked.version >= version && asked.untilMs > this.nowMs) continue;
      if (this.outstanding.size >= MAX_OUTSTANDING_REQUESTS) this.sweepOutstanding();
      if (this.outstanding.size < MAX_OUTSTANDING_REQUESTS || this.outstanding.has(node)) {
        this.outstanding.set(node, { version, untilMs: this.nowMs + this.config.requestTimeoutMs });
      }
      want.push(node);
    }
    if (want.length === 0) return;
    this.stats.requested += want.length;
    this.send(from, { kind: 'request', from: this.self, nodes: want });
  }

  private sweepOutstanding(): void {
    for (const [node, asked] of this.outstanding) if (asked.untilMs <= this.nowMs) this.outstanding.delete(node);
  }

  /** Queues news for the next announcement (infect-once: each node announces each version once). */
  private announce(news: readonly NodeCatalog[]): void {
    for (const s of news) {
      if (!this.pendingAnnounce.has(s.node) && this.pendingAnnounce.size >= this.config.maxPendingAnnouncements) {
        this.stats.announceDropped++;
        continue;
      }
      this.pendingAnnounce.set(s.node, Math.max(s.version, this.pendingAnnounce.get(s.node) ?? -1));
    }
    if (this.announceScheduled || this.pendingAnnounce.size === 0) return;
    this.announceScheduled = true;
    this.port.schedule('announce', this.config.announceDelayMs, () => this.flushAnnouncements());
  }

  private flushAnnouncements(): void {
    this.announceScheduled = false;
    const pending = [...this.pendingAnnounce];
    this.pendingAnnounce.clear();
    const targets = this.pick(this.config.fanout, new Set());
    if (targets.length === 0) return;
    // Split to stay under the UDP budget: a name, a version (up to 9 bytes) and framing per pair.
    let batch = new Map<string, number>();
    let bytes = 32 + this.self.length;
    const flush = (): void => {
      const payload = encodeCatalogMessage({ kind: 'announce', from: this.self, versions: batch });
      for (const t of targets) this.sendBytes(t, payload);
      this.stats.announced += batch.size * targets.length;
    };
    for (const [node, version] of pending) {
      const size = node.length + 12;
      if (batch.size > 0 && bytes + size > this.config.announceMaxBytes) {
        flush();
        batch = new Map();
        bytes = 32 + this.self.length;
      }
      batch.set(node, version);
      bytes += size;
    }
    if (batch.size > 0) flush();
  }

  /**
   * Entries from a peer. Whatever is news is announced on, whichever path brought it (a
   * publication, an answer to an announcement, anti-entropy): each node announces each version
   * once, so the cost stays bounded, and news repaired by anti-entropy spreads faster too.
   * `forward` (set on publications) is kept on the wire for older shoal agents, which passed
   * such entries on whole.
   */
  private receiveStates(states: readonly NodeCatalog[]): void {
    const news: NodeCatalog[] = [];
    for (const received of states) {
      const s = this.port.intern?.(received) ?? received;
      if (s.node === this.self) {
        // Someone holds an entry of ours newer than ours (a previous run's): refute it.
        if (s.version > this.local.version) {
          this.local.witness(s.version);
          this.localChanged(this.nowMs);
        }
        continue;
      }
      const asked = this.outstanding.get(s.node);
      if (asked !== undefined && asked.version <= s.version) this.outstanding.delete(s.node);
      if (this.catalog.apply(s) === 'new') {
        this.stats.statesApplied++;
        news.push(s);
      } else {
        this.stats.statesStale++;
      }
    }
    if (news.length > 0) this.announce(news);
  }

  /** Step 1 on the peer's side: where buckets differ, send our digest of them. */
  private receiveSummary(from: string, hashes: readonly number[]): void {
    const differ = differingBuckets(summarize(this.catalog.versions()), hashes);
    if (differ.length === 0) return;
    const wanted = new Set(differ);
    const versions = new Map<string, number>();
    for (const [node, version] of this.catalog.versions()) if (wanted.has(bucketOf(node))) versions.set(node, version);
    this.send(from, { kind: 'digest', from: this.self, versions, buckets: differ });
  }

  /** Step 2: give what is newer here, ask for what is newer there (within the digest's buckets). */
  private receiveDigest(from: string, versions: ReadonlyMap<string, number>, buckets: readonly number[]): void {
    const covered = buckets.length === 0 ? null : new Set(buckets);
    const want: string[] = [];
    for (const [node, version] of versions) {
      if (node === this.self) {
        // A peer holding our current version is the normal case; only a newer one is a previous run's.
        if (version > this.local.version) {
          this.local.witness(version);
          this.localChanged(this.nowMs);
        }
        continue;
      }
      if (version > this.catalog.version(node)) want.push(node);
    }
    const give: NodeCatalog[] = [];
    for (const [node, version] of this.catalog.versions()) {
      if (covered !== null && !covered.has(bucketOf(node))) continue;
      if (version > (versions.get(node) ?? -1)) {
        const s = this.catalog.stateOf(node);
        if (s !== undefined) give.push(s);
      }
    }
    this.sendStates([from], give, false);
    if (want.length > 0) this.send(from, { kind: 'request', from: this.self, nodes: want });
  }

  private antiEntropyTick(): void {
    const peers = this.port.peers();
    this.port.schedule('antiEntropy', this.config.antiEntropyIntervalMs, () => this.antiEntropyTick());
    if (peers.length === 0) return;
    const peer = peers[this.port.rng.int(peers.length)] as string;
    this.stats.antiEntropyRounds++;
    this.send(peer, { kind: 'summary', from: this.self, hashes: summarize(this.catalog.versions()) });
  }

  /** Sends states to each target, split so no message passes maxMessageBytes. */
  private sendStates(targets: readonly string[], states: readonly NodeCatalog[], forward: boolean): void {
    if (targets.length === 0 || states.length === 0) return;
    const batches: NodeCatalog[][] = [];
    let batch: NodeCatalog[] = [];
    let bytes = 0;
    for (const s of states) {
      const size = estimateBytes(s);
      if (batch.length > 0 && bytes + size > this.config.maxMessageBytes) {
        batches.push(batch);
        batch = [];
        bytes = 0;
      }
      batch.push(s);
      bytes += size;
    }
    batches.push(batch);
    for (const b of batches) {
      const payload = encodeCatalogMessage({ kind: 'states', from: this.self, forward, states: b });
      for (const t of targets) this.sendBytes(t, payload);
    }
  }

  private send(to: string, msg: CatalogMessage): void {
    this.sendBytes(to, encodeCatalogMessage(msg));
  }

  private sendBytes(to: string, payload: Uint8Array): void {
    this.stats.messagesOut++;
    this.stats.bytesOut += payload.length;
    this.port.send(to, payload);
  }

  /** Up to k distinct random peers, none in `exclude`. */
  private pick(k: number, exclude: ReadonlySet<string>): string[] {
    const pool = this.port.peers().filter((p) => !exclude.has(p));
    const out: string[] = [];
    while (out.length < k && pool.length > 0) {
      const i = this.port.rng.int(pool.length);
      out.push(pool[i] as string);
      pool[i] = pool[pool.length - 1] as string;
      pool.pop();
    }
    return out;
  }
}

/** A cheap upper-bound estimate of a state's encoded size, for batching. */
function estimateBytes(s: NodeCatalog): number {
  let n = 32 + s.node.length;
  for (const v of s.services) {
    n += 64 + v.ID.length + v.Service.length + v.Address.length;
    for (const t of v.Tags) n += 2 + t.length;
    for (const [k, val] of Object.entries(v.Meta)) n += 4 + k.length + val.length;
  }
  for (const c of s.checks) n += 96 + c.CheckID.length + c.Name.length + c.Notes.length + c.Output.length * 3 + c.ServiceID.length + c.ServiceName.length;
  return n;
}
