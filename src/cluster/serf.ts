// The Serf layer (serf 0.9.4 serf.go, delegate.go, query.go, internal_query.go), sans-IO, on
// top of the membership core: member status with join/leave intents and Lamport clocks, tags in
// Meta, user events, queries with filters, acks, responses and relays, name-conflict resolution,
// reaping and reconnects. Like the core, it takes the time with every input and produces its
// effects (through the core's outbox and its own timers); events go to `onEvent`.
import { addressToString, sameIp, type Address } from '../protocol/address.js';
import { TransmitLimitedQueue } from '../protocol/broadcast-queue.js';
import { makeConfig } from '../protocol/config.js';
import type { Delegates } from '../protocol/delegates.js';
import type { Effect, LogLevel, Timer } from '../protocol/effects.js';
import type { ProtocolEngine } from '../protocol/engine.js';
import { Memberlist, type MemberStateObserver, type StreamResult } from '../protocol/memberlist.js';
import type { NodeView } from '../protocol/node-state.js';
import type { Rng } from '../protocol/rng.js';
import type { StreamMessage, StreamOptions } from '../wire/stream.js';
import { decodeSerfMessage, decodeQueryFilter, encodeQueryFilter, encodeSerfMessage, type QueryFilter, type SerfMessage } from '../wire/serf.js';
import { QueryFlag, type SerfQuery, type SerfQueryResponse, type SerfUserEvent } from '../wire/serf-schemas.js';
import { decodeTags, encodeTags, META_MAX_BYTES } from '../wire/tags.js';
import { makeSerfConfig, SERF_PROTOCOL_MAX, SERF_PROTOCOL_MIN, USER_EVENT_SIZE_HARD_LIMIT, type SerfConfig, type SerfConfigInput } from './config.js';
import { LamportClock } from './lamport.js';
import { MemberStatus, type Member, type MemberEventType } from './member.js';
import { goRegexpMatch } from './regexp.js';
import { installKeyQueryHandlers } from './keyring.js';
import { distanceMs, type Coordinate } from './coordinate.js';
import { decodeAckPayload, encodeAckPayload } from './ping-payload.js';
import { VivaldiClient } from './vivaldi.js';
import { CLOCK_UPDATE_INTERVAL_MS, rejoinCandidates, type SnapshotReplay, type SnapshotWrite, type Snapshotter } from './snapshot.js';
import { parseHostPort } from '../protocol/address.js';

/** Internal queries start with this and never reach the application (internal_query.go). */
export const INTERNAL_QUERY_PREFIX = '_serf_';

export type SerfEvent =
  | { readonly type: MemberEventType; readonly members: readonly Member[] }
  | { readonly type: 'user'; readonly lTime: bigint; readonly name: string; readonly payload: Uint8Array | null; readonly coalesce: boolean }
  | { readonly type: 'query'; readonly query: IncomingQuery };

/** A query delivered to this node; answer it at most once, before its deadline. */
export interface IncomingQuery {
  readonly lTime: bigint;
  readonly id: number;
  readonly name: string;
  readonly payload: Uint8Array | null;
  readonly sourceNode: string;
  readonly deadlineMs: number;
  /** Sends the answer; returns an error message (past deadline, already sent, too large) or null. */
  respond(nowMs: number, payload: Uint8Array): string | null;
}

export interface QueryParams {
  readonly filterNodes?: readonly string[];
  /** Tag name → Go RE2 regular expression (unanchored, as Serf matches it). */
  readonly filterTags?: ReadonlyMap<string, string>;
  readonly requestAck?: boolean;
  readonly relayFactor?: number;
  /** 0 or absent: Serf's default (GossipInterval × QueryTimeoutMult × ceil(log10(n+1))). */
  readonly timeoutMs?: number;
}

export interface QueryHandlers {
  onAck?(from: string): void;
  onResponse?(from: string, payload: Uint8Array | null): void;
  /** The deadline passed: the query is closed. */
  onDone?(): void;
}

export interface OutgoingQuery {
  readonly lTime: bigint;
  readonly id: number;
  readonly deadlineMs: number;
  readonly acks: Set<string>;
  readonly responses: Map<string, Uint8Array | null>;
}

interface MemberState {
  member: Member;
  statusLTime: bigint;
  leaveTimeMs: number;
  /**
   * statusLTime came from a push/pull's StatusLTimes, not from an intent. See handleNodeLeaveIntent:
   * a leave intent with that same time is then still news.
   */
  statusFromPushPull?: boolean;
}

interface PendingQuery extends OutgoingQuery {
  readonly handlers: QueryHandlers;
  closed: boolean;
}

export type SerfState = 'alive' | 'leaving' | 'left' | 'shutdown';

export interface SerfEnv {
  readonly rng: Rng;
  readonly randomBytes?: (n: number) => Uint8Array;
  readonly onEvent?: (event: SerfEvent) => void;
  /** The keyring changed through a key query; return an error message if it could not be saved. */
  readonly onKeyringChange?: () => string | null;
  /**
   * The snapshot (§8.11): Serf feeds the snapshotter every event, a clock tick every 500 ms, its
   * leave and its shutdown; `write` carries each result to the file (the runtime's job).
   */
  readonly snapshot?: { readonly snapshotter: Snapshotter; readonly write: (w: SnapshotWrite) => void };
  /** What the snapshot file held at start: clocks to restore and previous peers to rejoin. */
  readonly restored?: SnapshotReplay;
  /** Passed to the membership core (MemberlistEnv.onMemberState): the simulator watches views. */
  readonly onMemberState?: MemberStateObserver;
  /**
   * Sees every user message before Serf decodes it; returning true takes it (Serf then ignores
   * it). shoal's catalog uses a type byte Serf never sends (src/catalog/codec.ts).
   */
  readonly onExtensionMessage?: (nowMs: number, payload: Uint8Array) => boolean;
  /**
   * Bytes appended to our Meta after the tags map. Serf's decodeTags (Go msgpack, one value read)
   * ignores them, so they are invisible as tags; shoal announces its catalog this way.
   */
  readonly metaSuffix?: Uint8Array;
}

const TIMER_PREFIX = 'serf:';

export class Serf implements ProtocolEngine {
  readonly config: SerfConfig;
  readonly memberlist: Memberlist;
  readonly clock = new LamportClock();
  readonly eventClock = new LamportClock();
  readonly queryClock = new LamportClock();
  private nowMs = 0;
  private state: SerfState = 'alive';
  private readonly outbox: Effect[] = [];
  private readonly timers = new Map<number, () => void>();
  private nextTimerId = 1;
  private readonly memberStates = new Map<string, MemberState>();
  private failedMembers: MemberState[] = [];
  private leftMembers: MemberState[] = [];
  private readonly recentIntents = new Map<string, { type: 'join' | 'leave'; lTime: bigint; wallMs: number }>();
  readonly intentQueue: TransmitLimitedQueue;
  readonly eventQueue: TransmitLimitedQueue;
  readonly queryQueue: TransmitLimitedQueue;
  private readonly eventBuffer: Array<{ lTime: bigint; events: Array<{ name: string; payload: Uint8Array | null }> } | null>;
  private eventMinTime = 0n;
  private readonly queryBuffer: Array<{ lTime: bigint; ids: number[] } | null>;
  private queryMinTime = 0n;
  private readonly queryResponses = new Map<bigint, PendingQuery>();
  private eventJoinIgnore = false;
  private tags: ReadonlyMap<string, string>;
  /** Vivaldi (§8.9); null when coordinates are disabled. */
  private readonly coordClient: VivaldiClient | null;
  private readonly coordCache = new Map<string, Coordinate>();

  constructor(input: SerfConfigInput, private readonly env: SerfEnv) {
    this.config = makeSerfConfig(input);
    this.tags = this.config.tags;
    if (this.encodeMeta(this.tags).length > META_MAX_BYTES) {
      throw new RangeError(`Encoded length of tags exceeds limit of ${META_MAX_BYTES} bytes`);
    }
    const c = this.config;
    const mlConfig = makeConfig({
      ...c.memberlist,
      name: c.nodeName,
      delegateProtocolMin: SERF_PROTOCOL_MIN,
      delegateProtocolMax: SERF_PROTOCOL_MAX,
      delegateProtocolVersion: c.protocolVersion,
    });
    this.memberlist = new Memberlist(mlConfig, this.delegates(), {
      rng: env.rng,
      ...(env.randomBytes === undefined ? {} : { randomBytes: env.randomBytes }),
      ...(env.onMemberState === undefined ? {} : { onMemberState: env.onMemberState }),
    });
    const numNodes = (): number => this.memberStates.size;
    this.intentQueue = new TransmitLimitedQueue(mlConfig.retransmitMult, numNodes);
    this.eventQueue = new TransmitLimitedQueue(mlConfig.retransmitMult, numNodes);
    this.queryQueue = new TransmitLimitedQueue(mlConfig.retransmitMult, numNodes);
    this.eventBuffer = new Array(c.eventBuffer).fill(null);
    this.queryBuffer = new Array(c.queryBuffer).fill(null);
    installKeyQueryHandlers(this, mlConfig.keyring, env.onKeyringChange);
    this.coordClient = c.disableCoordinates ? null : new VivaldiClient(env.rng);
    if (this.coordClient !== null) this.coordCache.set(c.nodeName, this.coordClient.getCoordinate());
    // Clocks start at 1 (serf.go Create increments each once).
    this.clock.increment();
    this.eventClock.increment();
    this.queryClock.increment();
    const restored = env.restored;
    if (restored !== undefined) this.restoreClocks(restored.lastClock, restored.lastEventClock, restored.lastQueryClock);
  }

  /** Restores clocks from a snapshot: events and queries up to them are not delivered again. */
  restoreClocks(clock: bigint, eventClock: bigint, queryClock: bigint): void {
    this.clock.witness(clock);
    this.eventClock.witness(eventClock);
    this.queryClock.witness(queryClock);
    this.eventMinTime = eventClock + 1n;
    this.queryMinTime = queryClock + 1n;
  }

  // ---------------------------------------------------------------- plumbing

  private advance(nowMs: number): void {
    if (nowMs > this.nowMs) this.nowMs = nowMs;
  }

  get now(): number {
    return this.nowMs;
  }

  private log(level: LogLevel, message: string): void {
    this.outbox.push({ kind: 'log', level, message: `serf: ${message}` });
  }

  private schedule(kind: string, delayMs: number, fn: () => void): number {
    const id = this.nextTimerId++;
    this.timers.set(id, fn);
    this.outbox.push({ kind: 'timer', timer: { id, kind: TIMER_PREFIX + kind, atMs: this.nowMs + Math.max(0, delayMs) } });
    return id;
  }

  private cancel(id: number): void {
    this.timers.delete(id);
  }

  takeEffects(): Effect[] {
    const own = this.outbox.splice(0, this.outbox.length);
    const below = this.memberlist.takeEffects();
    return own.length === 0 ? below : below.length === 0 ? own : own.concat(below);
  }

  fireTimer(nowMs: number, timer: Timer): void {
    this.advance(nowMs);
    if (!timer.kind.startsWith(TIMER_PREFIX)) return this.memberlist.fireTimer(nowMs, timer);
    const fn = this.timers.get(timer.id);
    if (fn === undefined || this.state === 'shutdown') return;
    this.timers.delete(timer.id);
    fn();
  }

  receivePacket(nowMs: number, from: Address, bytes: Uint8Array): void {
    this.advance(nowMs);
    this.memberlist.receivePacket(nowMs, from, bytes);
  }

  handleStream(nowMs: number, from: Address, message: StreamMessage): Uint8Array | null {
    this.advance(nowMs);
    return this.memberlist.handleStream(nowMs, from, message);
  }

  streamErrorReply(reason: string): Uint8Array {
    return this.memberlist.streamErrorReply(reason);
  }

  streamResult(nowMs: number, id: number, result: StreamResult): void {
    this.advance(nowMs);
    this.memberlist.streamResult(nowMs, id, result);
  }

  streamOptions(): StreamOptions {
    return this.memberlist.streamOptions();
  }

  private emit(event: SerfEvent): void {
    const snap = this.env.snapshot;
    if (snap !== undefined) {
      // Serf's snapshotter sits first on the event channel and sees every event uncoalesced.
      if (event.type === 'user') snap.write(snap.snapshotter.userEvent(this.nowMs, event.lTime));
      else if (event.type === 'query') snap.write(snap.snapshotter.query(this.nowMs, event.query.lTime));
      else snap.write(snap.snapshotter.memberEvent(this.nowMs, event.type, event.members, this.clock.time()));
    }
    this.env.onEvent?.(event);
  }

  // ---------------------------------------------------------------- lifecycle

  start(nowMs: number): void {
    this.advance(nowMs);
    this.memberlist.start(nowMs);
    const c = this.config;
    const every = (kind: string, intervalMs: number, fn: () => void): void => {
      this.schedule(kind, intervalMs, () => {
        every(kind, intervalMs, fn);
        fn();
      });
    };
    const snap = this.env.snapshot;
    if (snap !== undefined) every('snapshotClock', CLOCK_UPDATE_INTERVAL_MS, () => snap.write(snap.snapshotter.tick(this.nowMs, this.clock.time())));
    const previous = this.env.restored?.aliveNodes ?? [];
    if (previous.length > 0) this.rejoin(rejoinCandidates(previous, c.nodeName, this.env.rng));
    every('reap', c.reapIntervalMs, () => this.reap());
    every('reconnect', c.reconnectIntervalMs, () => this.reconnect());
    every('queueCheck', c.queueCheckIntervalMs, () => {
      this.checkQueueDepth('Intent', this.intentQueue);
      this.checkQueueDepth('Event', this.eventQueue);
      this.checkQueueDepth('Query', this.queryQueue);
    });
  }

  /** Tries the peers of the previous run one at a time until one answers (serf.go handleRejoin). */
  private rejoin(candidates: ReadonlyArray<{ readonly name: string; readonly addr: string }>): void {
    const next = (i: number): void => {
      const prev = candidates[i];
      if (prev === undefined) {
        this.log('WARN', 'Failed to re-join any previously known node');
        return;
      }
      const address = parseHostPort(prev.addr);
      if (address === null) return next(i + 1);
      this.log('INFO', `Attempting re-join to previously known node: ${prev.name}: ${prev.addr}`);
      this.memberlist.join(this.nowMs, [address], (numSuccess) => {
        if (numSuccess > 0) this.log('INFO', `Re-joined to previously known node: ${prev.name}: ${prev.addr}`);
        else next(i + 1);
      });
    };
    next(0);
  }

  get currentState(): SerfState {
    return this.state;
  }

  /** Stops everything at once, without telling the cluster (peers will mark us failed). */
  shutdown(): void {
    if (this.state === 'shutdown') return;
    if (this.state !== 'left') this.log('WARN', 'Shutdown without a Leave');
    this.state = 'shutdown';
    this.memberlist.shutdown();
    this.timers.clear();
    const snap = this.env.snapshot;
    if (snap !== undefined) snap.write(snap.snapshotter.shutdown(this.nowMs, this.clock.time()));
  }

  /**
   * Joins through the given addresses; `ignoreOld` skips user events that happened before the
   * join (serf.go Join). On success Serf announces the join with a join intent.
   */
  join(nowMs: number, addresses: readonly Address[], ignoreOld: boolean, done?: (numSuccess: number, errors: string[]) => void): void {
    this.advance(nowMs);
    if (this.state !== 'alive') {
      done?.(0, ["Serf can't Join after Leave or Shutdown"]);
      return;
    }
    if (ignoreOld) this.eventJoinIgnore = true;
    this.memberlist.join(nowMs, addresses, (numSuccess, errors) => {
      this.eventJoinIgnore = false;
      if (numSuccess > 0) this.broadcastJoin(this.clock.time());
      done?.(numSuccess, numSuccess > 0 ? [] : errors);
    });
  }

  private broadcastJoin(lTime: bigint): void {
    const msg = { LTime: lTime, Node: this.config.nodeName };
    this.clock.witness(lTime);
    this.handleNodeJoinIntent(msg);
    this.intentQueue.queueBroadcast({ message: encodeSerfMessage({ type: 'join', body: msg }) });
  }

  /**
   * Leaves gracefully (serf.go Leave): a leave intent first, so peers mark us left rather than
   * failed, then memberlist's dead-about-self, then a short wait so we still answer probes.
   * `done` gets an error message or null.
   */
  leave(nowMs: number, done?: (error: string | null) => void): void {
    this.advance(nowMs);
    if (this.state === 'left') return done?.(null);
    if (this.state === 'leaving') return done?.('Leave already in progress');
    if (this.state === 'shutdown') return done?.('Leave called after Shutdown');
    this.state = 'leaving';
    const snap = this.env.snapshot;
    if (snap !== undefined) snap.write(snap.snapshotter.leave(this.nowMs));
    const msg = { LTime: this.clock.time(), Node: this.config.nodeName, Prune: false };
    this.clock.increment();
    this.handleNodeLeaveIntent(msg);
    const c = this.config;
    const memberlistLeave = (): void => {
      this.memberlist.leave(this.nowMs, c.broadcastTimeoutMs, (timedOut) => {
        if (timedOut) return done?.('timeout waiting for leave broadcast');
        this.schedule('leavePropagate', c.leavePropagateDelayMs, () => {
          if (this.state !== 'shutdown') this.state = 'left';
          done?.(null);
        });
      });
    };
    if (!this.hasAliveMembers()) return memberlistLeave();
    let settled = false;
    const timeout = this.schedule('leaveTimeout', c.broadcastTimeoutMs, () => {
      if (settled) return;
      settled = true;
      done?.('timeout while waiting for graceful leave');
    });
    this.intentQueue.queueBroadcast({
      message: encodeSerfMessage({ type: 'leave', body: msg }),
      finished: () => {
        if (settled) return;
        settled = true;
        this.cancel(timeout);
        memberlistLeave();
      },
    });
  }

  private hasAliveMembers(): boolean {
    for (const m of this.memberStates.values()) if (m.member.name !== this.config.nodeName && m.member.status === MemberStatus.alive) return true;
    return false;
  }

  /**
   * Marks a failed member left (and, with `prune`, erases it) through a leave intent about it
   * (serf.go forceLeave). `done` runs when the intent has gone out.
   */
  forceLeave(nowMs: number, node: string, prune: boolean, done?: (error: string | null) => void): void {
    this.advance(nowMs);
    const msg = { LTime: this.clock.time(), Node: node, Prune: prune };
    this.clock.increment();
    this.handleNodeLeaveIntent(msg);
    if (!this.hasAliveMembers()) return done?.(null);
    let settled = false;
    const timeout = this.schedule('forceLeaveTimeout', this.config.broadcastTimeoutMs, () => {
      if (!settled) {
        settled = true;
        done?.('timed out broadcasting node removal');
      }
    });
    this.intentQueue.queueBroadcast({
      message: encodeSerfMessage({ type: 'leave', body: msg }),
      finished: () => {
        if (settled) return;
        settled = true;
        this.cancel(timeout);
        done?.(null);
      },
    });
  }

  /** Replaces our tags and announces them (serf.go SetTags → memberlist UpdateNode). */
  setTags(nowMs: number, tags: ReadonlyMap<string, string>, done?: () => void): void {
    this.advance(nowMs);
    const encoded = this.encodeMeta(tags);
    if (encoded.length > META_MAX_BYTES) {
      throw new RangeError(`Encoded length of tags exceeds limit of ${META_MAX_BYTES} bytes (these encode to ${encoded.length})`);
    }
    this.tags = new Map(tags);
    this.memberlist.updateMeta(nowMs, done);
  }

  /** Our Meta: the tags, then the env's suffix if any. */
  private encodeMeta(tags: ReadonlyMap<string, string>): Uint8Array {
    const encoded = encodeTags(tags);
    const suffix = this.env.metaSuffix;
    if (suffix === undefined || suffix.length === 0) return encoded;
    const out = new Uint8Array(encoded.length + suffix.length);
    out.set(encoded);
    out.set(suffix, encoded.length);
    return out;
  }

  get localTags(): ReadonlyMap<string, string> {
    return this.tags;
  }

  // ---------------------------------------------------------------- members

  members(): Member[] {
    return [...this.memberStates.values()].map((m) => m.member);
  }

  member(name: string): Member | undefined {
    return this.memberStates.get(name)?.member;
  }

  localMember(): Member {
    return (this.memberStates.get(this.config.nodeName) as MemberState).member;
  }

  /** memberlist's count of live nodes (used for default query timeouts and response channels). */
  numAliveMembers(): number {
    return this.memberlist.numMembers();
  }

  /**
   * serf.go decodeTags: malformed tags are logged and the member kept with no tags — one peer's
   * bad Meta must not stop the node (found by `npm run fuzz:all`: this used to throw out of
   * receivePacket and take the agent down).
   */
  private decodeTagsLogged(meta: Uint8Array): Map<string, string> {
    try {
      return decodeTags(meta);
    } catch (err) {
      this.log('ERR', `Failed to decode tags: ${err instanceof Error ? err.message : String(err)}`);
      return new Map();
    }
  }

  private memberFromNode(n: NodeView, status: MemberStatus): Member {
    const [pMin, pMax, pCur, dMin, dMax, dCur] = n.vsn;
    return {
      name: n.name, addr: n.addr, port: n.port, tags: this.decodeTagsLogged(n.meta), status,
      protocolMin: pMin, protocolMax: pMax, protocolCur: pCur, delegateMin: dMin, delegateMax: dMax, delegateCur: dCur,
    };
  }

  private setStatus(state: MemberState, status: MemberStatus): void {
    state.member = { ...state.member, status };
  }

  private handleNodeJoin(n: NodeView): void {
    let state = this.memberStates.get(n.name);
    let oldStatus: MemberStatus = MemberStatus.none;
    if (state === undefined) {
      state = { member: this.memberFromNode(n, MemberStatus.alive), statusLTime: 0n, leaveTimeMs: 0 };
      // An intent that arrived before the member did takes effect now.
      const intent = this.recentIntents.get(n.name);
      if (intent?.type === 'join') state.statusLTime = intent.lTime;
      if (intent?.type === 'leave') {
        this.setStatus(state, MemberStatus.leaving);
        state.statusLTime = intent.lTime;
      }
      this.memberStates.set(n.name, state);
    } else {
      oldStatus = state.member.status;
      state.member = this.memberFromNode(n, MemberStatus.alive);
      state.leaveTimeMs = 0;
    }
    if (oldStatus === MemberStatus.failed || oldStatus === MemberStatus.left) {
      this.failedMembers = this.failedMembers.filter((m) => m.member.name !== n.name);
      this.leftMembers = this.leftMembers.filter((m) => m.member.name !== n.name);
    }
    this.log('INFO', `EventMemberJoin: ${n.name} ${addressToString({ ip: n.addr, port: n.port })}`);
    this.emit({ type: 'member-join', members: [state.member] });
  }

  private handleNodeLeave(n: NodeView): void {
    const state = this.memberStates.get(n.name);
    if (state === undefined) return;
    let type: 'member-leave' | 'member-failed';
    switch (state.member.status) {
      case MemberStatus.leaving:
        this.setStatus(state, MemberStatus.left);
        state.leaveTimeMs = this.nowMs;
        this.leftMembers.push(state);
        type = 'member-leave';
        break;
      case MemberStatus.alive:
        this.setStatus(state, MemberStatus.failed);
        state.leaveTimeMs = this.nowMs;
        this.failedMembers.push(state);
        type = 'member-failed';
        break;
      default:
        this.log('WARN', `Bad state when leave: ${state.member.status}`);
        return;
    }
    this.log('INFO', `${type === 'member-leave' ? 'EventMemberLeave' : 'EventMemberFailed'}: ${n.name} ${addressToString({ ip: n.addr, port: n.port })}`);
    this.emit({ type, members: [state.member] });
  }

  private handleNodeUpdate(n: NodeView): void {
    const state = this.memberStates.get(n.name);
    if (state === undefined) return;
    state.member = this.memberFromNode(n, state.member.status);
    this.log('INFO', `EventMemberUpdate: ${n.name}`);
    this.emit({ type: 'member-update', members: [state.member] });
  }

  /** Returns whether the intent is news and should be passed on (serf.go handleNodeLeaveIntent). */
  private handleNodeLeaveIntent(msg: { LTime: bigint; Node: string; Prune: boolean }): boolean {
    this.clock.witness(msg.LTime);
    const state = this.memberStates.get(msg.Node);
    if (state === undefined) return this.upsertIntent(msg.Node, 'leave', msg.LTime);
    // Deliberate departure from Serf 0.9.4: a push/pull from a node that already holds this member
    // as leaving carries the leave's time in StatusLTimes, which Serf merges as a join intent. The
    // real leave intent then looks old, is dropped, and memberlist's dead message marks the member
    // failed instead of left until the next push/pull. A leave intent equal to a time learnt from a
    // push/pull is therefore still taken.
    const sameAsPushPull = msg.LTime === state.statusLTime && state.statusFromPushPull === true;
    if (msg.LTime <= state.statusLTime && !sameAsPushPull) return false;
    state.statusFromPushPull = false;
    if (msg.Node === this.config.nodeName && this.state === 'alive') {
      this.log('DEBUG', 'Refuting an older leave intent');
      this.broadcastJoin(this.clock.time());
      return false;
    }
    // Always record the time, so two leave intents for one member cannot re-broadcast each other forever.
    state.statusLTime = msg.LTime;
    switch (state.member.status) {
      case MemberStatus.alive:
        this.setStatus(state, MemberStatus.leaving);
        if (msg.Prune) this.handlePrune(state);
        return true;
      case MemberStatus.failed:
        this.setStatus(state, MemberStatus.left);
        this.failedMembers = this.failedMembers.filter((m) => m !== state);
        this.leftMembers.push(state);
        this.log('INFO', `EventMemberLeave (forced): ${state.member.name}`);
        this.emit({ type: 'member-leave', members: [state.member] });
        if (msg.Prune) this.handlePrune(state);
        return true;
      case MemberStatus.leaving:
      case MemberStatus.left:
        if (msg.Prune) this.handlePrune(state);
        return true;
      default:
        return false;
    }
  }

  /** Erases a member at once, or after it has had time to leave if it is still leaving (serf.go handlePrune). */
  private handlePrune(state: MemberState): void {
    const erase = (): void => {
      this.log('INFO', `EventMemberReap (forced): ${state.member.name}`);
      this.leftMembers = this.leftMembers.filter((m) => m !== state);
      this.eraseNode(state);
    };
    if (state.member.status === MemberStatus.leaving) {
      this.schedule('prune', this.config.broadcastTimeoutMs + this.config.leavePropagateDelayMs, erase);
    } else {
      erase();
    }
  }

  private handleNodeJoinIntent(msg: { LTime: bigint; Node: string }, fromPushPull = false): boolean {
    this.clock.witness(msg.LTime);
    const state = this.memberStates.get(msg.Node);
    if (state === undefined) return this.upsertIntent(msg.Node, 'join', msg.LTime);
    if (msg.LTime <= state.statusLTime) return false;
    state.statusLTime = msg.LTime;
    state.statusFromPushPull = fromPushPull;
    if (state.member.status === MemberStatus.leaving) this.setStatus(state, MemberStatus.alive);
    return true;
  }

  private upsertIntent(node: string, type: 'join' | 'leave', lTime: bigint): boolean {
    const existing = this.recentIntents.get(node);
    if (existing !== undefined && lTime <= existing.lTime) return false;
    this.recentIntents.set(node, { type, lTime, wallMs: this.nowMs });
    return true;
  }

  private eraseNode(state: MemberState): void {
    this.memberStates.delete(state.member.name);
    this.coordClient?.forgetNode(state.member.name);
    this.coordCache.delete(state.member.name);
    this.emit({ type: 'member-reap', members: [state.member] });
  }

  /** Forgets failed members after ReconnectTimeout and left ones after TombstoneTimeout (serf.go handleReap). */
  private reap(): void {
    const c = this.config;
    const sweep = (list: MemberState[], timeoutMs: number): MemberState[] =>
      list.filter((m) => {
        if (this.nowMs - m.leaveTimeMs <= timeoutMs) return true;
        this.log('INFO', `EventMemberReap: ${m.member.name}`);
        this.eraseNode(m);
        return false;
      });
    this.failedMembers = sweep(this.failedMembers, c.reconnectTimeoutMs);
    this.leftMembers = sweep(this.leftMembers, c.tombstoneTimeoutMs);
    for (const [node, intent] of this.recentIntents) {
      if (this.nowMs - intent.wallMs > c.recentIntentTimeoutMs) this.recentIntents.delete(node);
    }
  }

  /**
   * With probability failed/alive, tries to join one random failed member again, so each failed
   * member is tried about once per ReconnectInterval across the cluster (serf.go reconnect).
   */
  private reconnect(): void {
    const n = this.failedMembers.length;
    if (n === 0) return;
    let numAlive = this.memberStates.size - n - this.leftMembers.length;
    if (numAlive === 0) numAlive = 1;
    if (this.env.rng.next() > n / numAlive) {
      this.log('DEBUG', 'forgoing reconnect for random throttling');
      return;
    }
    const target = this.failedMembers[this.env.rng.int(n)] as MemberState;
    const address = { ip: target.member.addr, port: target.member.port };
    this.log('INFO', `attempting reconnect to ${target.member.name} ${addressToString(address)}`);
    this.memberlist.join(this.nowMs, [address]);
  }

  private checkQueueDepth(name: string, queue: TransmitLimitedQueue): void {
    const c = this.config;
    const depth = queue.size;
    if (depth >= c.queueDepthWarning) this.log('WARN', `${name} queue depth: ${depth}`);
    let max = c.maxQueueDepth;
    if (c.minQueueDepth > 0) max = Math.max(2 * this.memberStates.size, c.minQueueDepth);
    if (depth > max) {
      this.log('WARN', `${name} queue depth (${depth}) exceeds limit (${max}), dropping messages!`);
      queue.prune(max);
    }
  }

  // ---------------------------------------------------------------- user events (§8.6)

  /** Broadcasts a user event (serf.go UserEvent); throws with the limit named when it is too big. */
  userEvent(nowMs: number, name: string, payload: Uint8Array | null, coalesce: boolean): void {
    this.advance(nowMs);
    const limit = this.config.userEventSizeLimit;
    const size = utf8Length(name) + (payload?.length ?? 0);
    if (size > limit) throw new RangeError(`user event exceeds configured limit of ${limit} bytes before encoding`);
    if (size > USER_EVENT_SIZE_HARD_LIMIT) throw new RangeError(`user event exceeds sane limit of ${USER_EVENT_SIZE_HARD_LIMIT} bytes before encoding`);
    const msg: SerfUserEvent = { LTime: this.eventClock.time(), Name: name, Payload: payload === null || payload.length === 0 ? null : payload, CC: coalesce };
    const raw = encodeSerfMessage({ type: 'userEvent', body: msg });
    if (raw.length > limit) throw new RangeError(`encoded user event exceeds configured limit of ${limit} bytes after encoding`);
    this.eventClock.increment();
    this.handleUserEvent(msg);
    this.eventQueue.queueBroadcast({ message: raw });
  }

  private handleUserEvent(msg: SerfUserEvent): boolean {
    this.eventClock.witness(msg.LTime);
    if (msg.LTime < this.eventMinTime) return false;
    if (outsideWindow(msg.LTime, this.eventClock.time(), this.eventBuffer.length)) {
      this.log('WARN', `received old event ${msg.Name} from time ${msg.LTime} (current: ${this.eventClock.time()})`);
      return false;
    }
    const idx = Number(msg.LTime % BigInt(this.eventBuffer.length));
    let seen = this.eventBuffer[idx] ?? null;
    if (seen !== null && seen.lTime === msg.LTime) {
      for (const previous of seen.events) {
        if (previous.name === msg.Name && sameBytes(previous.payload, msg.Payload)) return false;
      }
    } else {
      seen = { lTime: msg.LTime, events: [] };
      this.eventBuffer[idx] = seen;
    }
    seen.events.push({ name: msg.Name, payload: msg.Payload });
    this.emit({ type: 'user', lTime: msg.LTime, name: msg.Name, payload: msg.Payload, coalesce: msg.CC });
    return true;
  }

  // ---------------------------------------------------------------- queries (§8.7)

  /** Serf's default query timeout: GossipInterval × QueryTimeoutMult × ceil(log10(n + 1)). */
  defaultQueryTimeoutMs(): number {
    const n = this.memberlist.numMembers();
    return this.memberlist.config.gossipIntervalMs * this.config.queryTimeoutMult * Math.ceil(Math.log10(n + 1));
  }

  /** Starts a query (serf.go Query); throws with the limit named when it is too big. */
  query(nowMs: number, name: string, payload: Uint8Array | null, params: QueryParams = {}, handlers: QueryHandlers = {}): OutgoingQuery {
    this.advance(nowMs);
    if (this.config.protocolVersion < 4) throw new RangeError('queries need Serf protocol 4 or newer');
    const timeoutMs = params.timeoutMs !== undefined && params.timeoutMs > 0 ? params.timeoutMs : this.defaultQueryTimeoutMs();
    const filters: Uint8Array[] = [];
    if (params.filterNodes !== undefined && params.filterNodes.length > 0) filters.push(encodeQueryFilter({ type: 'node', nodes: [...params.filterNodes] }));
    for (const [tag, expr] of params.filterTags ?? []) filters.push(encodeQueryFilter({ type: 'tag', filter: { Tag: tag, Expr: expr } }));
    const local = this.memberlist.localNode();
    const q: SerfQuery = {
      LTime: this.queryClock.time(),
      ID: this.env.rng.int(0x80000000),
      Addr: local.addr,
      Port: local.port,
      SourceNode: local.name,
      Filters: filters.length > 0 ? filters : null,
      Flags: params.requestAck === true ? QueryFlag.ack : 0,
      RelayFactor: params.relayFactor ?? 0,
      Timeout: BigInt(Math.round(timeoutMs * 1e6)),
      Name: name,
      Payload: payload === null || payload.length === 0 ? null : payload,
    };
    const raw = encodeSerfMessage({ type: 'query', body: q });
    if (raw.length > this.config.querySizeLimit) throw new RangeError(`query exceeds limit of ${this.config.querySizeLimit} bytes`);
    const pending: PendingQuery = {
      lTime: q.LTime, id: q.ID, deadlineMs: this.nowMs + timeoutMs, acks: new Set(), responses: new Map(), handlers, closed: false,
    };
    this.queryResponses.set(q.LTime, pending);
    this.schedule('queryDone', timeoutMs, () => {
      this.queryResponses.delete(q.LTime);
      pending.closed = true;
      handlers.onDone?.();
    });
    this.handleQuery(q);
    this.queryQueue.queueBroadcast({ message: raw });
    return pending;
  }

  private handleQuery(query: SerfQuery): boolean {
    this.queryClock.witness(query.LTime);
    if (query.LTime < this.queryMinTime) return false;
    if (outsideWindow(query.LTime, this.queryClock.time(), this.queryBuffer.length)) {
      this.log('WARN', `received old query ${query.Name} from time ${query.LTime} (current: ${this.queryClock.time()})`);
      return false;
    }
    const idx = Number(query.LTime % BigInt(this.queryBuffer.length));
    let seen = this.queryBuffer[idx] ?? null;
    if (seen !== null && seen.lTime === query.LTime) {
      if (seen.ids.includes(query.ID)) return false;
    } else {
      seen = { lTime: query.LTime, ids: [] };
      this.queryBuffer[idx] = seen;
    }
    seen.ids.push(query.ID);
    const rebroadcast = (query.Flags & QueryFlag.noBroadcast) === 0;
    // Passed on even when the filters exclude us: it is the first time we see it.
    if (!this.shouldProcessQuery(query.Filters)) return rebroadcast;
    const origin: Address = { ip: query.Addr, port: query.Port };
    if ((query.Flags & QueryFlag.ack) !== 0) {
      const ack: SerfQueryResponse = { LTime: query.LTime, ID: query.ID, From: this.config.nodeName, Flags: QueryFlag.ack, Payload: null };
      this.memberlist.sendToAddress(this.nowMs, origin, encodeSerfMessage({ type: 'queryResponse', body: ack }));
      this.relayResponse(query.RelayFactor, origin, query.SourceNode, ack);
    }
    const deadlineMs = this.nowMs + Number(query.Timeout) / 1e6;
    let answered = false;
    const incoming: IncomingQuery = {
      lTime: query.LTime, id: query.ID, name: query.Name, payload: query.Payload, sourceNode: query.SourceNode, deadlineMs,
      respond: (nowMs, payload) => {
        this.advance(nowMs);
        const resp: SerfQueryResponse = { LTime: query.LTime, ID: query.ID, From: this.config.nodeName, Flags: 0, Payload: payload };
        const raw = encodeSerfMessage({ type: 'queryResponse', body: resp });
        if (raw.length > this.config.queryResponseSizeLimit) return `response exceeds limit of ${this.config.queryResponseSizeLimit} bytes`;
        if (answered) return 'response already sent';
        if (this.nowMs > deadlineMs) return 'response is past the deadline';
        this.memberlist.sendToAddress(this.nowMs, origin, raw);
        this.relayResponse(query.RelayFactor, origin, query.SourceNode, resp);
        answered = true;
        return null;
      },
    };
    if (query.Name.startsWith(INTERNAL_QUERY_PREFIX)) {
      const snap = this.env.snapshot;
      if (snap !== undefined) snap.write(snap.snapshotter.query(this.nowMs, query.LTime));
      this.handleInternalQuery(incoming);
    }
    else this.emit({ type: 'query', query: incoming });
    return rebroadcast;
  }

  /** Every filter must match: a node list that names us, or a tag regexp (serf query.go shouldProcessQuery). */
  private shouldProcessQuery(filters: Uint8Array[] | null): boolean {
    for (const raw of filters ?? []) {
      let filter: QueryFilter;
      try {
        filter = decodeQueryFilter(raw);
      } catch {
        this.log('WARN', 'query has an undecodable or unrecognized filter');
        return false;
      }
      if (filter.type === 'node') {
        if (!filter.nodes.includes(this.config.nodeName)) return false;
      } else {
        const matched = goRegexpMatch(filter.filter.Expr, this.tags.get(filter.filter.Tag) ?? '');
        if (matched === null) {
          this.log('WARN', `failed to compile filter regex (${filter.filter.Expr})`);
          return false;
        }
        if (!matched) return false;
      }
    }
    return true;
  }

  /** Sends a response through up to `relayFactor` other live members as well (serf query.go relayResponse). */
  private relayResponse(relayFactor: number, origin: Address, sourceNode: string, resp: SerfQueryResponse): void {
    if (relayFactor === 0) return;
    const members = this.members();
    if (members.length < relayFactor + 1) return;
    const raw = encodeSerfMessage({
      type: 'relay',
      header: { DestAddr: { IP: origin.ip, Port: origin.port, Zone: '' }, DestName: sourceNode },
      inner: { type: 'queryResponse', body: resp },
      innerBytes: new Uint8Array(0),
    });
    if (raw.length > this.config.queryResponseSizeLimit) {
      this.log('ERR', `relayed response exceeds limit of ${this.config.queryResponseSizeLimit} bytes`);
      return;
    }
    const self = this.config.nodeName;
    const picked: Member[] = [];
    const n = members.length;
    for (let i = 0; i < 3 * n && picked.length < relayFactor; i++) {
      const m = members[this.env.rng.int(n)] as Member;
      if (m.status !== MemberStatus.alive || m.protocolMax < 5 || m.name === self) continue;
      if (picked.some((p) => p.name === m.name)) continue;
      picked.push(m);
    }
    for (const m of picked) this.memberlist.sendToAddress(this.nowMs, { ip: m.addr, port: m.port }, raw);
  }

  private handleQueryResponse(resp: SerfQueryResponse): void {
    const pending = this.queryResponses.get(resp.LTime);
    if (pending === undefined) {
      this.log('WARN', `reply for non-running query (LTime: ${resp.LTime}, ID: ${resp.ID}) From: ${resp.From}`);
      return;
    }
    if (pending.id !== resp.ID) {
      this.log('WARN', `query reply ID mismatch (Local: ${pending.id}, Response: ${resp.ID})`);
      return;
    }
    if (pending.closed || this.nowMs > pending.deadlineMs) return;
    if ((resp.Flags & QueryFlag.ack) !== 0) {
      if (pending.acks.has(resp.From)) return;
      pending.acks.add(resp.From);
      pending.handlers.onAck?.(resp.From);
    } else {
      if (pending.responses.has(resp.From)) return;
      pending.responses.set(resp.From, resp.Payload);
      pending.handlers.onResponse?.(resp.From, resp.Payload);
    }
  }

  // ---------------------------------------------------------------- internal queries (§8.7, §8.10)

  /** Hook for key-management queries; set by the keyring manager (keyring.ts). */
  internalQueryHandlers = new Map<string, (query: IncomingQuery) => void>();

  private handleInternalQuery(q: IncomingQuery): void {
    const name = q.name.slice(INTERNAL_QUERY_PREFIX.length);
    switch (name) {
      case 'ping':
        return;
      case 'conflict':
        return this.answerConflictQuery(q);
      default: {
        const handler = this.internalQueryHandlers.get(name);
        if (handler === undefined) this.log('WARN', `Unhandled internal query '${name}'`);
        else handler(q);
      }
    }
  }

  /** Answers with our view of the contested name: 06 + Member, or 06 + nil if we do not know it. */
  private answerConflictQuery(q: IncomingQuery): void {
    const node = new TextDecoder().decode(q.payload ?? new Uint8Array(0));
    if (node === this.config.nodeName) return;
    const m = this.memberStates.get(node)?.member;
    const body = m === undefined
      ? null
      : {
          Name: m.name, Addr: m.addr, Port: m.port, Tags: new Map(m.tags), Status: m.status,
          ProtocolMin: m.protocolMin, ProtocolMax: m.protocolMax, ProtocolCur: m.protocolCur,
          DelegateMin: m.delegateMin, DelegateMax: m.delegateMax, DelegateCur: m.delegateCur,
        };
    const error = q.respond(this.nowMs, encodeSerfMessage({ type: 'conflictResponse', body }));
    if (error !== null) this.log('ERR', `Failed to respond to conflict query: ${error}`);
  }

  /**
   * Another node claims our name from another address: ask the cluster where it thinks we are,
   * and shut down if most answers point elsewhere (serf.go resolveNodeConflict).
   */
  private handleNodeConflict(existing: NodeView, other: NodeView): void {
    if (existing.name !== this.config.nodeName) {
      this.log('WARN', `Name conflict for '${existing.name}' both ${addressToString({ ip: existing.addr, port: existing.port })} and ${addressToString({ ip: other.addr, port: other.port })} are claiming`);
      return;
    }
    this.log('ERR', `Node name conflicts with another node at ${addressToString({ ip: other.addr, port: other.port })}. Names must be unique! (Resolution enabled: ${this.config.enableNameConflictResolution})`);
    if (!this.config.enableNameConflictResolution) return;
    const local = this.memberlist.localNode();
    let responses = 0;
    let matching = 0;
    this.query(this.nowMs, `${INTERNAL_QUERY_PREFIX}conflict`, new TextEncoder().encode(this.config.nodeName), {}, {
      onResponse: (_from, payload) => {
        let msg: SerfMessage;
        try {
          msg = decodeSerfMessage(payload ?? new Uint8Array(0));
        } catch {
          this.log('ERR', 'Invalid conflict query response');
          return;
        }
        if (msg.type !== 'conflictResponse') return;
        responses++;
        if (msg.body !== null && sameIp(msg.body.Addr, local.addr) && msg.body.Port === local.port) matching++;
      },
      onDone: () => {
        const majority = Math.floor(responses / 2) + 1;
        if (matching >= majority) {
          this.log('INFO', `majority in name conflict resolution [${matching} / ${responses}]`);
          return;
        }
        this.log('WARN', `minority in name conflict resolution, quitting [${matching} / ${responses}]`);
        this.shutdown();
      },
    });
  }

  // ---------------------------------------------------------------- coordinates (§8.9)

  /** serf ping_delegate.go NotifyPingComplete: fold the peer's coordinate and the RTT into ours. */
  private updateCoordinate(node: string, rttMs: number, payload: Uint8Array | null): void {
    const client = this.coordClient;
    if (client === null || payload === null || payload.length === 0) return;
    const decoded = decodeAckPayload(payload);
    if (!decoded.ok) {
      this.log('ERR', `Failed to decode coordinate from ping: ${decoded.error.message}`);
      return;
    }
    if (decoded.value === null) return;
    const updated = client.update(node, decoded.value, rttMs);
    if (!updated.ok) {
      this.log('ERR', `Rejected coordinate from ${node}: ${updated.error.message}`);
      return;
    }
    this.coordCache.set(node, decoded.value);
    this.coordCache.set(this.config.nodeName, client.getCoordinate());
  }

  /** Our own network coordinate (null when coordinates are disabled). */
  getCoordinate(): Coordinate | null {
    return this.coordClient?.getCoordinate() ?? null;
  }

  /** The last coordinate a member sent us (ours for our own name). */
  getCachedCoordinate(name: string): Coordinate | undefined {
    return this.coordCache.get(name);
  }

  /** Estimated round-trip time between two members from their coordinates, or null if unknown. */
  estimateRttMs(a: string, b: string): number | null {
    const ca = this.coordCache.get(a);
    const cb = this.coordCache.get(b);
    return ca === undefined || cb === undefined ? null : distanceMs(ca, cb);
  }

  // ---------------------------------------------------------------- the delegates memberlist calls

  private delegates(): Delegates {
    return {
      nodeMeta: () => this.encodeMeta(this.tags),
      notifyMsg: (nowMs, payload) => {
        this.advance(nowMs);
        this.notifyMsg(payload);
      },
      getBroadcasts: (overhead, limit) => this.getBroadcasts(overhead, limit),
      hasBroadcasts: () => this.intentQueue.size + this.eventQueue.size + this.queryQueue.size > 0,
      localState: () => this.localState(),
      mergeRemoteState: (nowMs, state, join) => {
        this.advance(nowMs);
        this.mergeRemoteState(state, join);
      },
      notifyJoin: (nowMs, node) => {
        this.advance(nowMs);
        this.handleNodeJoin(node);
      },
      notifyLeave: (nowMs, node) => {
        this.advance(nowMs);
        this.handleNodeLeave(node);
      },
      notifyUpdate: (nowMs, node) => {
        this.advance(nowMs);
        this.handleNodeUpdate(node);
      },
      ackPayload: () => (this.coordClient === null ? null : encodeAckPayload(this.coordClient.getCoordinate())),
      notifyPingComplete: (nowMs, node, rttMs, payload) => {
        this.advance(nowMs);
        this.updateCoordinate(node.name, rttMs, payload);
      },
      notifyConflict: (nowMs, existing, other) => {
        this.advance(nowMs);
        this.handleNodeConflict(existing, other);
      },
    };
  }

  /** serf delegate.go NotifyMsg: handle, and pass on what was news. */
  private notifyMsg(payload: Uint8Array): void {
    if (this.env.onExtensionMessage?.(this.nowMs, payload) === true) return;
    let msg: SerfMessage;
    try {
      msg = decodeSerfMessage(payload);
    } catch (err) {
      this.log('ERR', `Error decoding message: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    let rebroadcast = false;
    let queue = this.intentQueue;
    switch (msg.type) {
      case 'leave':
        rebroadcast = this.handleNodeLeaveIntent(msg.body);
        break;
      case 'join':
        rebroadcast = this.handleNodeJoinIntent(msg.body);
        break;
      case 'userEvent':
        rebroadcast = this.handleUserEvent(msg.body);
        queue = this.eventQueue;
        break;
      case 'query':
        rebroadcast = this.handleQuery(msg.body);
        queue = this.queryQueue;
        break;
      case 'queryResponse':
        this.handleQueryResponse(msg.body);
        break;
      case 'relay':
        this.log('DEBUG', `Relaying response to addr: ${addressToString({ ip: msg.header.DestAddr.IP, port: msg.header.DestAddr.Port })}`);
        this.memberlist.sendToAddress(this.nowMs, { ip: msg.header.DestAddr.IP, port: msg.header.DestAddr.Port }, msg.innerBytes);
        break;
      default:
        this.log('WARN', `Received message of unknown type: ${msg.type}`);
    }
    if (rebroadcast) queue.queueBroadcast({ message: Uint8Array.from(payload) });
  }

  private getBroadcasts(overhead: number, limit: number): Uint8Array[] {
    const msgs = this.intentQueue.getBroadcasts(overhead, limit);
    let used = 0;
    for (const m of msgs) used += m.length + overhead;
    for (const queue of [this.queryQueue, this.eventQueue]) {
      const more = queue.getBroadcasts(overhead, limit - used);
      for (const m of more) {
        used += m.length + overhead;
        msgs.push(m);
      }
    }
    return msgs;
  }

  private localState(): Uint8Array {
    const statusLTimes = new Map<string, bigint>();
    for (const [name, m] of this.memberStates) statusLTimes.set(name, m.statusLTime);
    return encodeSerfMessage({
      type: 'pushPull',
      body: {
        LTime: this.clock.time(),
        StatusLTimes: statusLTimes,
        LeftMembers: this.leftMembers.map((m) => m.member.name),
        EventLTime: this.eventClock.time(),
        Events: this.eventBuffer.map((e) => (e === null ? null : { LTime: e.lTime, Events: e.events.map((ev) => ({ Name: ev.name, Payload: ev.payload })) })),
        QueryLTime: this.queryClock.time(),
      },
    });
  }

  /** serf delegate.go MergeRemoteState: witness clocks, apply intents, replay buffered events. */
  private mergeRemoteState(state: Uint8Array, join: boolean): void {
    let msg: SerfMessage;
    try {
      msg = decodeSerfMessage(state);
    } catch (err) {
      this.log('ERR', `Failed to decode remote state: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    if (msg.type !== 'pushPull') {
      this.log('ERR', `Remote state has bad type prefix: ${msg.type}`);
      return;
    }
    const pp = msg.body;
    if (pp.LTime > 0n) this.clock.witness(pp.LTime - 1n);
    if (pp.EventLTime > 0n) this.eventClock.witness(pp.EventLTime - 1n);
    if (pp.QueryLTime > 0n) this.queryClock.witness(pp.QueryLTime - 1n);
    const statusLTimes = pp.StatusLTimes ?? new Map<string, bigint>();
    const left = new Set(pp.LeftMembers ?? []);
    for (const name of left) this.handleNodeLeaveIntent({ LTime: (statusLTimes.get(name) ?? 0n) + 1n, Node: name, Prune: false });
    for (const [name, lTime] of statusLTimes) {
      if (!left.has(name)) this.handleNodeJoinIntent({ LTime: lTime, Node: name }, true);
    }
    if (join && this.eventJoinIgnore && pp.EventLTime > this.eventMinTime) this.eventMinTime = pp.EventLTime;
    for (const events of pp.Events ?? []) {
      if (events === null) continue;
      for (const e of events.Events ?? []) this.handleUserEvent({ LTime: events.LTime, Name: e.Name, Payload: e.Payload, CC: false });
    }
  }
}

/**
 * An event or query older than the ring buffer that dedupes them can no longer be told from one
 * already seen, so Serf drops it (serf.go handleUserEvent/handleQuery: "received old event").
 */
function outsideWindow(lTime: bigint, current: bigint, bufferSize: number): boolean {
  const size = BigInt(bufferSize);
  return current > size && lTime < current - size;
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  const x = a ?? EMPTY;
  const y = b ?? EMPTY;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

const EMPTY = new Uint8Array(0);

function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}
