// The SWIM + Lifeguard membership core, as memberlist 0.2.2 runs it (reference §6), sans-IO:
// every input method takes the current time; every effect goes to the outbox (effects.ts).
//
// Departures from the papers that follow memberlist (and so are deliberate here):
//  - Probing walks a shuffled list round-robin (SWIM §4.3's variant), not uniform random picks.
//  - The suspicion timeout scales with log10(n) and Lifeguard's decay uses log(c+1)/log(k+1)
//    with k = SuspicionMult − 2 (state.go suspectNode), not the paper's constants.
//  - A remote "dead" in push/pull only starts a suspicion (state.go mergeState).
//  - Gossip sends only queued broadcasts; an idle cluster gossips nothing.
// Departures from memberlist's Go code, for a single-threaded core:
//  - Received alive/suspect/dead/user messages are handled at once, in packet order, instead of
//    through the two LIFO handoff queues (which exist in Go to decouple the UDP reader).
//  - Tickers start at a random phase (memberlist intends this, but its stagger happens after
//    the ticker is created, so Go's ticks are not actually staggered).
import { encodeMessage, type MemberlistMessage } from '../wire/messages.js';
import type { Ack, Alive, Dead, IndirectPing, Nack, Ping, PushNodeState, Suspect } from '../wire/memberlist-schemas.js';
import { MessageType } from '../wire/memberlist-schemas.js';
import { ENCRYPTION_OVERHEAD_V0, ENCRYPTION_OVERHEAD_V1 } from '../wire/encryption.js';
import { META_MAX_BYTES } from '../wire/tags.js';
import { decodePacket, encodeCompound, encodePacket } from '../wire/packet.js';
import { encodeStream, encodeStreamPlain, sealStream, type StreamMessage, type StreamOptions } from '../wire/stream.js';
import { COMPOUND_HEADER_OVERHEAD, COMPOUND_PART_OVERHEAD } from '../wire/limits.js';
import { addressToString, ipToString, sameIp, type Address } from './address.js';
import { Awareness } from './awareness.js';
import { TransmitLimitedQueue } from './broadcast-queue.js';
import { PROTOCOL_VERSION_MAX, PROTOCOL_VERSION_MIN, type MemberlistConfig } from './config.js';
import type { Delegates } from './delegates.js';
import type { Effect, LogLevel, Timer } from './effects.js';
import type { ProtocolEngine } from './engine.js';
import { NodeStateType, addressOf, deadOrLeft, viewOf, type NodeState, type NodeView } from './node-state.js';
import type { Rng } from './rng.js';
import { Suspicion } from './suspicion.js';
import { PushPullCache } from './push-pull-cache.js';
import { pushPullScaleMs, suspicionBounds } from './timing.js';
import { MemberlistStats } from './stats.js';
import { DEFAULT_RELAY_LIMITS, RelayLimiter } from './rate-limit.js';
import type { WireError } from '../wire/errors.js';

/** Extra bytes memberlist reserves per piggybacked user (delegate) message: the 08 type byte. */
const USER_MSG_OVERHEAD = 1;

export interface MemberlistEnv {
  readonly rng: Rng;
  /** Nonces for encryption; the simulator passes its seeded generator, the runtime the OS's. */
  readonly randomBytes?: (n: number) => Uint8Array;
  /**
   * Sees every change of a member's state or incarnation in this node's view (state -1: the
   * member was forgotten, reaped after GossipToTheDeadTime). The simulator's checkers and
   * timelines watch views through it; the runtime leaves it unset.
   */
  readonly onMemberState?: MemberStateObserver;
}

/**
 * (time, member, new state or -1 for forgotten, incarnation held, and for suspect and dead the
 * accuser the message names: Suspect.From / Dead.From) — see MemberlistEnv.onMemberState.
 */
export type MemberStateObserver = (nowMs: number, name: string, state: NodeStateType | -1, incarnation: number, by?: string) => void;

export type StreamResult = { readonly ok: true; readonly message: StreamMessage } | { readonly ok: false; readonly reason: string };

interface AckHandler {
  readonly ackFn: (payload: Uint8Array | null) => void;
  readonly nackFn?: () => void;
  readonly timerId: number;
}

interface ProbeRun {
  readonly node: NodeState;
  readonly incarnation: number;
  readonly seqNo: number;
  readonly sentMs: number;
  readonly deadlineMs: number;
  readonly directTimerId: number;
  endTimerId: number;
  indirect: boolean;
  expectedNacks: number;
  nacks: number;
  fallback: 'none' | 'pending' | 'ok' | 'failed';
  waitingForFallback: boolean;
}

export class Memberlist implements ProtocolEngine {
  readonly stats = new MemberlistStats();
  private readonly outbox: Effect[] = [];
  private nowMs = 0;
  private readonly nodes: NodeState[] = [];
  private readonly nodeMap = new Map<string, NodeState>();
  private readonly suspicions = new Map<string, { readonly suspicion: Suspicion; timerId: number }>();
  private readonly awareness: Awareness;
  readonly broadcasts: TransmitLimitedQueue;
  private readonly timers = new Map<number, (nowMs: number) => void>();
  private nextTimerId = 1;
  private readonly ackHandlers = new Map<number, AckHandler>();
  private readonly streams = new Map<number, (result: StreamResult) => void>();
  private nextStreamId = 1;
  private probeIndex = 0;
  private seqNo = 0;
  private incarnation = 0;
  private probe: ProbeRun | null = null;
  private probeTickPending = false;
  private leaving = false;
  private stopped = false;
  private readonly randomBytes: (n: number) => Uint8Array;
  private readonly relayLimiter: RelayLimiter;
  /**
   * The time of the gossip tick that found nothing to send and so armed no next tick; null while
   * the gossip loop runs. See gossipTick and takeEffects.
   */
  private gossipIdleSinceMs: number | null = null;
  /** Our encoded push/pull state, reused while unchanged (push-pull-cache.ts). */
  private readonly pushPullCache = new PushPullCache();

  constructor(
    readonly config: MemberlistConfig,
    private readonly delegates: Delegates,
    private readonly env: MemberlistEnv,
  ) {
    this.awareness = new Awareness(config.awarenessMaxMultiplier);
    this.broadcasts = new TransmitLimitedQueue(config.retransmitMult, () => this.nodes.length);
    this.randomBytes = env.randomBytes ?? ((n) => env.rng.bytes(new Uint8Array(n)));
    this.relayLimiter = new RelayLimiter(config.relayLimits ?? DEFAULT_RELAY_LIMITS, 0);
  }

  // ---------------------------------------------------------------- outputs and clock

  /** Hands over every effect produced since the last call. */
  takeEffects(): Effect[] {
    if (this.gossipIdleSinceMs !== null && !this.stopped && this.anythingToGossip()) this.resumeGossip();
    return this.outbox.splice(0, this.outbox.length);
  }

  get now(): number {
    return this.nowMs;
  }

  private advance(nowMs: number): void {
    if (nowMs > this.nowMs) this.nowMs = nowMs;
  }

  private log(level: LogLevel, message: string): void {
    this.outbox.push({ kind: 'log', level, message: `memberlist: ${message}` });
  }

  private schedule(kind: string, delayMs: number, fn: (nowMs: number) => void): number {
    const id = this.nextTimerId++;
    this.timers.set(id, fn);
    const timer: Timer = { id, kind, atMs: this.nowMs + Math.max(0, delayMs) };
    this.outbox.push({ kind: 'timer', timer });
    return id;
  }

  private cancel(timerId: number): void {
    this.timers.delete(timerId);
  }

  /** A timer the runtime armed has come due. Stale (cancelled) timers are ignored. */
  fireTimer(nowMs: number, timer: Timer): void {
    this.advance(nowMs);
    const fn = this.timers.get(timer.id);
    if (fn === undefined || this.stopped) return;
    this.timers.delete(timer.id);
    fn(this.nowMs);
  }

  /** Options for parsing streams to and from this node (keyring, limits). */
  streamOptions(): StreamOptions {
    return this.config.keyring === undefined
      ? { verifyIncoming: this.config.gossipVerifyIncoming }
      : { keyring: this.config.keyring, verifyIncoming: this.config.gossipVerifyIncoming };
  }

  // ---------------------------------------------------------------- lifecycle

  /** memberlist.Create: add ourselves as alive, then start the probe, gossip and push/pull loops. */
  start(nowMs: number): void {
    this.advance(nowMs);
    const c = this.config;
    this.aliveNode(this.localAlive(this.nextIncarnation()), null, true);
    const rng = this.env.rng;
    this.schedule('probe', rng.next() * c.probeIntervalMs, () => this.probeTick());
    if (c.gossipIntervalMs > 0 && c.gossipNodes > 0) this.schedule('gossip', rng.next() * c.gossipIntervalMs, () => this.gossipTick());
    if (c.pushPullIntervalMs > 0) this.schedule('pushPull', rng.next() * c.pushPullIntervalMs, () => this.pushPullTick());
  }

  /**
   * Starts from a membership already known, as if this node had joined long ago: each unknown
   * node becomes alive with its incarnation, with a join event but no broadcast. The simulator
   * uses it to begin a run from a formed cluster instead of replaying its formation.
   */
  preloadMembers(nowMs: number, nodes: readonly PushNodeState[]): void {
    this.advance(nowMs);
    for (const r of nodes) {
      if (this.nodeMap.has(r.Name) || r.State !== NodeStateType.alive) continue;
      const state = nodeFromPushState(r, this.nowMs);
      this.nodeMap.set(r.Name, state);
      this.nodes.push(state);
      this.env.onMemberState?.(this.nowMs, state.name, state.state, state.incarnation);
      this.delegates.notifyJoin?.(this.nowMs, viewOf(state));
    }
    this.resetNodes();
  }

  /** Stops every loop without telling anyone (memberlist Shutdown): peers will find us failed. */
  shutdown(): void {
    this.stopped = true;
    this.timers.clear();
    this.ackHandlers.clear();
    this.streams.clear();
    this.probe = null;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  private localAlive(incarnation: number): Alive {
    const c = this.config;
    const meta = this.delegates.nodeMeta?.(META_MAX_BYTES) ?? new Uint8Array(0);
    if (meta.length > META_MAX_BYTES) throw new RangeError(`node meta of ${meta.length} bytes is over the ${META_MAX_BYTES}-byte limit`);
    return {
      Incarnation: incarnation,
      Node: c.name,
      Addr: c.advertise.ip,
      Port: c.advertise.port,
      Meta: meta,
      Vsn: this.vsn(),
    };
  }

  private vsn(): Uint8Array {
    const c = this.config;
    return Uint8Array.of(PROTOCOL_VERSION_MIN, PROTOCOL_VERSION_MAX, c.protocolVersion, c.delegateProtocolMin, c.delegateProtocolMax, c.delegateProtocolVersion);
  }

  private nextSeqNo(): number {
    this.seqNo = (this.seqNo + 1) >>> 0;
    return this.seqNo;
  }

  private nextIncarnation(): number {
    this.incarnation = (this.incarnation + 1) >>> 0;
    return this.incarnation;
  }

  // ---------------------------------------------------------------- views

  localNode(): NodeView {
    return viewOf(this.nodeMap.get(this.config.name) as NodeState);
  }

  /** Every node we know, including suspect, dead (until reaped) and left ones. */
  allNodes(): NodeView[] {
    return this.nodes.map(viewOf);
  }

  node(name: string): NodeView | undefined {
    const n = this.nodeMap.get(name);
    return n === undefined ? undefined : viewOf(n);
  }

  /** Live members: not dead or left (memberlist Members). */
  members(): NodeView[] {
    return this.nodes.filter((n) => !deadOrLeft(n)).map(viewOf);
  }

  numMembers(): number {
    let count = 0;
    for (const n of this.nodes) if (!deadOrLeft(n)) count++;
    return count;
  }

  /** memberlist estNumNodes: the length of the node list, dead nodes included until reaped. */
  estNumNodes(): number {
    return this.nodes.length;
  }

  healthScore(): number {
    return this.awareness.getHealthScore();
  }

  // ---------------------------------------------------------------- sending

  /** Sends a message and piggybacks queued broadcasts where there is room (memberlist sendMsg). */
  private sendMsg(to: Address, msg: Uint8Array): void {
    let bytesAvail = this.config.udpBufferSize - msg.length - COMPOUND_HEADER_OVERHEAD;
    if (this.encrypting()) bytesAvail -= this.encryptionOverhead();
    const extra = this.getBroadcasts(COMPOUND_PART_OVERHEAD, bytesAvail);
    if (extra.length === 0) return this.rawSendMsgPacket(to, null, msg);
    this.rawSendMsgPacket(to, null, encodeCompound([msg, ...extra]));
  }

  private encodeAndSendMsg(to: Address, msg: MemberlistMessage): void {
    this.sendMsg(to, encodeMessage(msg));
  }

  private encrypting(): boolean {
    return this.config.keyring !== undefined && this.config.gossipVerifyOutgoing;
  }

  /** memberlist encryptionVersion: protocol 1 used the padded envelope (0), later ones version 1. */
  private encryptionVersion(): 0 | 1 {
    return this.config.protocolVersion < 2 ? 0 : 1;
  }

  private encryptionOverhead(): number {
    return this.encryptionVersion() === 0 ? ENCRYPTION_OVERHEAD_V0 : ENCRYPTION_OVERHEAD_V1;
  }

  private encryptionOptions(): { encryption?: { keyring: NonNullable<MemberlistConfig['keyring']>; randomBytes: (n: number) => Uint8Array; version: 0 | 1 } } {
    const keyring = this.config.keyring;
    if (keyring === undefined || !this.config.gossipVerifyOutgoing) return {};
    return { encryption: { keyring, randomBytes: this.randomBytes, version: this.encryptionVersion() } };
  }

  /** Compress if smaller, CRC if the target understands protocol 5, encrypt (memberlist rawSendMsgPacket). */
  private rawSendMsgPacket(to: Address, node: NodeState | null, msg: Uint8Array): void {
    const c = this.config;
    const bytes = encodePacket([msg], { compress: c.enableCompression, crc: node !== null && node.pMax >= 5, ...this.encryptionOptions() });
    this.stats.packetsSent++;
    this.stats.bytesSent += bytes.length;
    this.outbox.push({ kind: 'send', to, bytes });
  }

  /** memberlist getBroadcasts: our own broadcasts first, then the delegate's, framed as user messages. */
  private getBroadcasts(overhead: number, limit: number): Uint8Array[] {
    const toSend = this.broadcasts.getBroadcasts(overhead, limit);
    const getUser = this.delegates.getBroadcasts;
    if (getUser === undefined) return toSend;
    let bytesUsed = 0;
    for (const m of toSend) bytesUsed += m.length + overhead;
    const avail = limit - bytesUsed;
    if (avail > overhead + USER_MSG_OVERHEAD) {
      for (const m of getUser.call(this.delegates, overhead + USER_MSG_OVERHEAD, avail)) {
        const framed = new Uint8Array(m.length + 1);
        framed[0] = MessageType.user;
        framed.set(m, 1);
        toSend.push(framed);
      }
    }
    return toSend;
  }

  private queueMemberlistBroadcast(name: string, msg: MemberlistMessage, finished?: () => void): void {
    this.broadcasts.queueBroadcast(finished === undefined ? { message: encodeMessage(msg), name } : { message: encodeMessage(msg), name, finished });
  }

  /** Sends a user message straight to an address, without piggybacking (memberlist SendToAddress). */
  sendToAddress(nowMs: number, to: Address, payload: Uint8Array): void {
    this.advance(nowMs);
    this.rawSendMsgPacket(to, null, encodeMessage({ type: 'user', payload }));
  }

  /** Sends a user message to a member; a CRC is added if it understands one (memberlist SendBestEffort). */
  sendBestEffort(nowMs: number, nodeName: string, payload: Uint8Array): boolean {
    this.advance(nowMs);
    const node = this.nodeMap.get(nodeName);
    if (node === undefined) return false;
    this.rawSendMsgPacket(addressOf(node), node, encodeMessage({ type: 'user', payload }));
    return true;
  }

  /**
   * Sends a user message to a member over TCP, for payloads too large for one packet (memberlist
   * SendReliable). No answer is read; a failure is only logged.
   */
  sendReliable(nowMs: number, nodeName: string, payload: Uint8Array): boolean {
    this.advance(nowMs);
    const node = this.nodeMap.get(nodeName);
    if (node === undefined) return false;
    const message: StreamMessage = { type: 'user', header: { UserMsgLen: payload.length }, payload };
    this.openStream(addressOf(node), message, false, this.nowMs + this.config.tcpTimeoutMs, (result) => {
      if (!result.ok) this.log('DEBUG', `failed to send a reliable user message to ${nodeName}: ${result.reason}`);
    });
    return true;
  }

  // ---------------------------------------------------------------- receiving packets

  /** One UDP datagram arrived. Malformed packets are counted and dropped. */
  receivePacket(nowMs: number, from: Address, bytes: Uint8Array): void {
    this.advance(nowMs);
    if (this.stopped) return;
    this.stats.packetsReceived++;
    this.stats.bytesReceived += bytes.length;
    const c = this.config;
    const decoded = decodePacket(bytes, c.keyring === undefined ? {} : { keyring: c.keyring, verifyIncoming: c.gossipVerifyIncoming });
    if (!decoded.ok) {
      this.countDropped(decoded.error);
      this.log('WARN', `dropped a malformed packet from ${addressToString(from)}: ${decoded.error.message}`);
      return;
    }
    for (const msg of decoded.value.messages) this.handleMessage(from, msg);
  }

  /** Counts a dropped packet under its reason, for stats and the agent's `drops` section. */
  private countDropped(error: WireError): void {
    this.stats.malformedPackets++;
    if (error.layer === 'encrypt') this.stats.packetsUndecryptable++;
    else if (error.layer === 'input' || /over the|exceeds the limit/.test(error.reason)) this.stats.packetsOversized++;
    else if (/nest(ed|ing) deeper/.test(error.reason)) this.stats.packetsTooDeep++;
  }

  private handleMessage(from: Address, msg: MemberlistMessage): void {
    switch (msg.type) {
      case 'ping': return this.handlePing(from, msg.body);
      case 'indirectPing': return this.handleIndirectPing(from, msg.body);
      case 'ack': return this.handleAck(msg.body);
      case 'nack': return this.handleNack(msg.body);
      case 'alive': return this.aliveNode(this.withBindPort(msg.body), null, false);
      case 'suspect': return this.suspectNode(msg.body);
      case 'dead': return this.deadNode(msg.body);
      case 'user':
        if (msg.payload.length > 0) this.delegates.notifyMsg?.(this.nowMs, msg.payload);
        return;
      case 'err':
        this.log('ERR', `unexpected error message over UDP from ${addressToString(from)}: ${msg.body.Error}`);
        return;
    }
  }

  /** memberlist handleAlive/readRemoteState: protocol 1 carried no ports, and a port of 0 means ours. */
  private withBindPort<T extends { Port: number }>(m: T): T {
    return this.config.protocolVersion < 2 || m.Port === 0 ? { ...m, Port: this.config.bindPort } : m;
  }

  private handlePing(from: Address, p: Ping): void {
    if (p.Node !== '' && p.Node !== this.config.name) {
      this.log('WARN', `got ping for unexpected node '${p.Node}' from ${addressToString(from)}`);
      return;
    }
    const ack: Ack = { SeqNo: p.SeqNo, Payload: this.delegates.ackPayload?.() ?? null };
    const to = p.SourceAddr !== undefined && p.SourceAddr.length > 0 && (p.SourcePort ?? 0) > 0 ? { ip: p.SourceAddr, port: p.SourcePort as number } : from;
    this.encodeAndSendMsg(to, { type: 'ack', body: ack });
  }

  private handleIndirectPing(from: Address, ind: IndirectPing): void {
    // Not in memberlist: bound what anyone can make us send to an address of their choice
    // (rate-limit.ts). Keyed by where the request came from, never by what it claims.
    const verdict = this.relayLimiter.allow(addressToString(from), this.nowMs);
    if (verdict !== 'ok') {
      this.stats.indirectPingsRefused++;
      if (this.stats.indirectPingsRefused === 1 || this.stats.indirectPingsRefused % 1000 === 0) {
        this.log('WARN', `not relaying indirect ping from ${addressToString(from)}: ${verdict === 'source' ? "this requester's" : "the node's"} relay rate limit is spent (${this.stats.indirectPingsRefused} refused so far)`);
      }
      return;
    }
    const port = this.config.protocolVersion < 2 || ind.Port === 0 ? this.config.bindPort : ind.Port;
    const localSeqNo = this.nextSeqNo();
    const self = this.config.advertise;
    const ping: Ping = { SeqNo: localSeqNo, Node: ind.Node, SourceAddr: self.ip, SourcePort: self.port, SourceNode: this.config.name };
    const requester = ind.SourceAddr !== undefined && ind.SourceAddr.length > 0 && (ind.SourcePort ?? 0) > 0 ? { ip: ind.SourceAddr, port: ind.SourcePort as number } : from;
    let nackTimer = -1;
    this.setAckHandler(localSeqNo, this.config.probeTimeoutMs, () => {
      // Relay the ack to whoever asked, and stop the nack if it has not gone yet.
      if (nackTimer >= 0) this.cancel(nackTimer);
      this.encodeAndSendMsg(requester, { type: 'ack', body: { SeqNo: ind.SeqNo, Payload: null } });
    });
    this.encodeAndSendMsg({ ip: ind.Target, port }, { type: 'ping', body: ping });
    if (ind.Nack) {
      // Lifeguard §IV-A: tell the requester we tried but heard nothing, so it can tell its own
      // trouble from the target's.
      nackTimer = this.schedule('nack', this.config.probeTimeoutMs, () => {
        this.encodeAndSendMsg(requester, { type: 'nack', body: { SeqNo: ind.SeqNo } });
      });
    }
  }

  private setAckHandler(seqNo: number, timeoutMs: number, ackFn: (payload: Uint8Array | null) => void, nackFn?: () => void): void {
    const timerId = this.schedule('ackTimeout', timeoutMs, () => this.ackHandlers.delete(seqNo));
    this.ackHandlers.set(seqNo, nackFn === undefined ? { ackFn, timerId } : { ackFn, nackFn, timerId });
  }

  private handleAck(ack: Ack): void {
    const handler = this.ackHandlers.get(ack.SeqNo);
    if (handler === undefined) return;
    this.ackHandlers.delete(ack.SeqNo);
    if (handler.timerId >= 0) this.cancel(handler.timerId);
    handler.ackFn(ack.Payload);
  }

  private handleNack(nack: Nack): void {
    this.ackHandlers.get(nack.SeqNo)?.nackFn?.();
  }

  // ---------------------------------------------------------------- probing (SWIM §4, Lifeguard §IV)

  private probeTick(): void {
    this.schedule('probe', this.config.probeIntervalMs, () => this.probeTick());
    // Go's ticker keeps one tick while a probe blocks; the next probe starts when this one ends.
    if (this.probe !== null) {
      this.probeTickPending = true;
      return;
    }
    this.startProbe();
  }

  /** memberlist probe(): the next node round-robin, skipping ourselves and dead or left nodes. */
  private startProbe(): void {
    let numCheck = 0;
    for (;;) {
      if (numCheck >= this.nodes.length) return;
      if (this.probeIndex >= this.nodes.length) {
        this.resetNodes();
        this.probeIndex = 0;
        numCheck++;
        continue;
      }
      const node = this.nodes[this.probeIndex] as NodeState;
      this.probeIndex++;
      if (node.name === this.config.name || deadOrLeft(node)) {
        numCheck++;
        continue;
      }
      this.probeNode(node);
      return;
    }
  }

  /** Drops dead nodes past GossipToTheDeadTime and shuffles the rest (memberlist resetNodes). */
  private resetNodes(): void {
    const keep: NodeState[] = [];
    for (const n of this.nodes) {
      if (n.state === NodeStateType.dead && this.nowMs - n.stateChangeMs > this.config.gossipToTheDeadTimeMs) {
        this.nodeMap.delete(n.name);
        this.stats.nodesReaped++;
        this.env.onMemberState?.(this.nowMs, n.name, -1, n.incarnation);
      } else {
        keep.push(n);
      }
    }
    this.nodes.length = 0;
    this.nodes.push(...keep);
    const rng = this.env.rng;
    for (let i = this.nodes.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const tmp = this.nodes[i] as NodeState;
      this.nodes[i] = this.nodes[j] as NodeState;
      this.nodes[j] = tmp;
    }
  }

  private probeNode(node: NodeState): void {
    const c = this.config;
    const probeIntervalMs = this.awareness.scaleTimeout(c.probeIntervalMs);
    const seqNo = this.nextSeqNo();
    const self = c.advertise;
    const ping: Ping = { SeqNo: seqNo, Node: node.name, SourceAddr: self.ip, SourcePort: self.port, SourceNode: c.name };
    const sentMs = this.nowMs;
    const run: ProbeRun = {
      node, incarnation: node.incarnation, seqNo, sentMs, deadlineMs: sentMs + probeIntervalMs,
      directTimerId: this.schedule('probeTimeout', c.probeTimeoutMs, () => this.probeDirectTimeout(run)),
      endTimerId: -1,
      indirect: false, expectedNacks: 0, nacks: 0, fallback: 'none', waitingForFallback: false,
    };
    this.probe = run;
    this.stats.probes++;
    // The probe's end (at the scaled probe interval) also retires this handler, as the ack
    // handler's timeout does in memberlist, so it needs no timer of its own.
    this.ackHandlers.set(seqNo, {
      ackFn: (payload) => this.probeAcked(run, payload),
      nackFn: () => {
        if (this.probe === run) run.nacks++;
      },
      timerId: -1,
    });
    this.setProbeEnd(run, probeIntervalMs);
    if (node.state === NodeStateType.alive) {
      this.encodeAndSendMsg(addressOf(node), { type: 'ping', body: ping });
    } else {
      // Buddy system (Lifeguard §IV-C): a suspect node hears of its suspicion with the probe.
      const suspect: Suspect = { Incarnation: node.incarnation, Node: node.name, From: c.name };
      const compound = encodeCompound([encodeMessage({ type: 'ping', body: ping }), encodeMessage({ type: 'suspect', body: suspect })]);
      this.rawSendMsgPacket(addressOf(node), node, compound);
    }
  }

  private setProbeEnd(run: ProbeRun, probeIntervalMs: number): void {
    run.endTimerId = this.schedule('probeEnd', probeIntervalMs, () => {
      if (this.ackHandlers.get(run.seqNo)?.timerId === -1) this.ackHandlers.delete(run.seqNo);
      if (this.probe !== run) return;
      if (run.fallback === 'pending') {
        run.waitingForFallback = true;
        return;
      }
      this.concludeFailedProbe(run);
    });
  }

  private probeAcked(run: ProbeRun, payload: Uint8Array | null): void {
    if (this.probe !== run) return;
    // memberlist reports the RTT only for an ack that arrives in the direct phase.
    if (!run.indirect) {
      this.delegates.notifyPingComplete?.(this.nowMs, viewOf(run.node), this.nowMs - run.sentMs, payload);
    }
    this.finishProbe(run, -1);
  }

  private probeDirectTimeout(run: ProbeRun): void {
    if (this.probe !== run) return;
    run.indirect = true;
    const c = this.config;
    const node = run.node;
    this.log('DEBUG', `failed ping: ${node.name} (timeout reached)`);
    const peers = this.kRandomNodes(c.indirectChecks, (n) => n.name === c.name || n.name === node.name || n.state !== NodeStateType.alive);
    const self = c.advertise;
    for (const peer of peers) {
      // Only peers that speak protocol 4 send nacks (memberlist state.go probeNode).
      const nack = peer.pMax >= 4;
      if (nack) run.expectedNacks++;
      const ind: IndirectPing = {
        SeqNo: run.seqNo, Target: node.addr, Port: node.port, Node: node.name, Nack: nack,
        SourceAddr: self.ip, SourcePort: self.port, SourceNode: c.name,
      };
      this.encodeAndSendMsg(addressOf(peer), { type: 'indirectPing', body: ind });
    }
    this.stats.indirectProbes++;
    if (!c.disableTcpPings && node.pMax >= 3) {
      // TCP fallback: a node that lost UDP but still speaks TCP is not suspected.
      run.fallback = 'pending';
      const ping: Ping = { SeqNo: run.seqNo, Node: node.name, SourceAddr: self.ip, SourcePort: self.port, SourceNode: c.name };
      this.openStream(addressOf(node), { type: 'ping', body: ping }, true, run.deadlineMs, (result) => {
        const ok = result.ok && result.message.type === 'ack' && result.message.body.SeqNo === run.seqNo;
        if (!result.ok) this.log('ERR', `failed fallback ping: ${result.reason}`);
        run.fallback = ok ? 'ok' : 'failed';
        if (this.probe === run && run.waitingForFallback) this.concludeFailedProbe(run);
      });
    }
  }

  private concludeFailedProbe(run: ProbeRun): void {
    if (run.fallback === 'ok') {
      this.log('WARN', `was able to connect to ${run.node.name} but other probes failed, network may be misconfigured`);
      this.finishProbe(run, -1);
      return;
    }
    // Lifeguard §IV-A: missing nacks mean the trouble may be ours; without nacking peers, any
    // failed probe counts against us.
    const delta = run.expectedNacks > 0 ? Math.max(0, run.expectedNacks - run.nacks) : 1;
    this.finishProbe(run, delta);
    this.log('INFO', `suspect ${run.node.name} has failed, no acks received`);
    this.stats.failedProbes++;
    this.suspectNode({ Incarnation: run.incarnation, Node: run.node.name, From: this.config.name });
  }

  private finishProbe(run: ProbeRun, awarenessDelta: number): void {
    if (this.probe !== run) return;
    this.cancel(run.directTimerId);
    this.cancel(run.endTimerId);
    const handler = this.ackHandlers.get(run.seqNo);
    if (handler !== undefined && handler.timerId === -1) this.ackHandlers.delete(run.seqNo);
    this.awareness.applyDelta(awarenessDelta);
    this.probe = null;
    if (this.probeTickPending) {
      this.probeTickPending = false;
      this.startProbe();
    }
  }

  /** Up to k distinct random nodes the filter does not exclude, trying 3n times (memberlist kRandomNodes). */
  private kRandomNodes(k: number, exclude: (n: NodeState) => boolean): NodeState[] {
    const n = this.nodes.length;
    const picked: NodeState[] = [];
    for (let i = 0; i < 3 * n && picked.length < k; i++) {
      const node = this.nodes[this.env.rng.int(n)] as NodeState;
      if (exclude(node) || picked.includes(node)) continue;
      picked.push(node);
    }
    return picked;
  }

  // ---------------------------------------------------------------- gossip (SWIM §4.4)

  private gossipTick(): void {
    // Nothing queued means nothing to send (memberlist's tick then finds no broadcasts and
    // sends nothing): skip choosing targets, and arm no next tick either — in a quiet cluster
    // that is most ticks, and most of a big simulation's events. takeEffects, which runs after
    // every input that could have queued something, resumes the ticks on the same phase.
    if (!this.anythingToGossip()) {
      this.gossipIdleSinceMs = this.nowMs;
      return;
    }
    this.schedule('gossip', this.config.gossipIntervalMs, () => this.gossipTick());
    const c = this.config;
    const now = this.nowMs;
    const targets = this.kRandomNodes(c.gossipNodes, (n) => {
      if (n.name === c.name) return true;
      if (n.state === NodeStateType.alive || n.state === NodeStateType.suspect) return false;
      // Gossip to the dead for a while, so a node wrongly declared dead hears it and refutes.
      if (n.state === NodeStateType.dead) return now - n.stateChangeMs > c.gossipToTheDeadTimeMs;
      return true;
    });
    let bytesAvail = c.udpBufferSize - COMPOUND_HEADER_OVERHEAD;
    if (this.config.keyring !== undefined) bytesAvail -= this.encryptionOverhead();
    for (const node of targets) {
      const msgs = this.getBroadcasts(COMPOUND_PART_OVERHEAD, bytesAvail);
      if (msgs.length === 0) return;
      this.stats.gossipPackets++;
      this.rawSendMsgPacket(addressOf(node), node, msgs.length === 1 ? (msgs[0] as Uint8Array) : encodeCompound(msgs));
    }
  }

  /** Whether a gossip tick would find anything to send; a delegate without hasBroadcasts counts as yes. */
  private anythingToGossip(): boolean {
    if (this.broadcasts.size > 0) return true;
    const d = this.delegates;
    return d.getBroadcasts !== undefined && d.hasBroadcasts?.() !== false;
  }

  /**
   * Arms the gossip tick that an idle loop skipped to: the first tick after now on the ticker's
   * phase, reached by the same repeated additions the running loop makes, so it falls at the
   * very time it would have had the idle ticks run. takeEffects has no clock, and our `nowMs`
   * can lag behind (the Serf layer queues broadcasts without calling us), so a tick armed for
   * a time already past is only a wake-up: it re-arms on the phase after the time it fires.
   */
  private resumeGossip(): void {
    const plannedMs = this.nextGossipPhase(this.gossipIdleSinceMs as number, this.nowMs);
    this.gossipIdleSinceMs = null;
    this.armGossip(plannedMs, (firedMs) => {
      if (firedMs <= plannedMs) return this.gossipTick();
      this.armGossip(this.nextGossipPhase(plannedMs, firedMs), () => this.gossipTick());
    });
  }

  /** The first gossip tick time after `afterMs`, counting from the tick at `fromMs`. */
  private nextGossipPhase(fromMs: number, afterMs: number): number {
    let atMs = fromMs;
    do atMs += this.config.gossipIntervalMs;
    while (atMs <= afterMs);
    return atMs;
  }

  private armGossip(atMs: number, fn: (nowMs: number) => void): void {
    const id = this.nextTimerId++;
    this.timers.set(id, fn);
    this.outbox.push({ kind: 'timer', timer: { id, kind: 'gossip', atMs } });
  }

  // ---------------------------------------------------------------- state transitions (§6.5–6.7)

  /** memberlist aliveNode. `bootstrap` is true for our own alive at start and on meta updates. */
  private aliveNode(a: Alive, finished: (() => void) | null, bootstrap: boolean): void {
    const c = this.config;
    const isLocal = a.Node === c.name;
    if (this.leaving && isLocal) return;
    if (a.Vsn.length >= 3) {
      const pMin = a.Vsn[0] as number;
      const pMax = a.Vsn[1] as number;
      if (pMin === 0 || pMax === 0 || pMin > pMax) {
        this.log('WARN', `ignoring an alive message for '${a.Node}' because protocol version(s) are wrong`);
        return;
      }
    }
    if (this.delegates.notifyAlive !== undefined) {
      if (a.Vsn.length < 6) {
        this.log('WARN', `ignoring an alive message for '${a.Node}' because protocol versions are missing`);
        return;
      }
      const refusal = this.delegates.notifyAlive(viewOf(nodeFromAlive(a, NodeStateType.alive, this.nowMs)));
      if (refusal !== null) {
        this.log('WARN', `ignoring alive message for '${a.Node}': ${refusal}`);
        return;
      }
    }
    let state = this.nodeMap.get(a.Node);
    let updatesNode = false;
    if (state === undefined) {
      // New nodes start as dead so that the transition to alive below reports a join.
      state = nodeFromAlive(a, NodeStateType.dead, this.nowMs);
      this.nodeMap.set(a.Node, state);
      // Insert at a random position: appending would make new nodes wait a whole round to be probed.
      const n = this.nodes.length;
      const offset = this.env.rng.int(n + 1);
      this.nodes.push(state);
      const displaced = this.nodes[offset] as NodeState;
      this.nodes[offset] = state;
      this.nodes[n] = displaced;
    } else if (!sameIp(state.addr, a.Addr) || state.port !== a.Port) {
      const canReclaim = c.deadNodeReclaimTimeMs > 0 && this.nowMs - state.stateChangeMs > c.deadNodeReclaimTimeMs;
      if (state.state === NodeStateType.left || (state.state === NodeStateType.dead && canReclaim)) {
        this.log('INFO', `updating address for left or failed node ${state.name} to ${addressToString({ ip: a.Addr, port: a.Port })}`);
        updatesNode = true;
      } else {
        this.log('ERR', `conflicting address for ${state.name}. Mine: ${addressToString(addressOf(state))} Theirs: ${addressToString({ ip: a.Addr, port: a.Port })}`);
        this.stats.conflicts++;
        this.delegates.notifyConflict?.(this.nowMs, viewOf(state), viewOf(nodeFromAlive(a, NodeStateType.alive, this.nowMs)));
        return;
      }
    }
    const isLocalNode = state.name === c.name;
    if (a.Incarnation <= state.incarnation && !isLocalNode && !updatesNode) return;
    if (a.Incarnation < state.incarnation && isLocalNode) return;
    this.clearSuspicion(a.Node);
    const oldState = state.state;
    const oldMeta = state.meta;
    if (!bootstrap && isLocalNode) {
      // A restarted node may see its own old incarnation with other data: refute unless identical.
      const versions = Uint8Array.of(state.pMin, state.pMax, state.pCur, state.dMin, state.dMax, state.dCur);
      if (a.Incarnation === state.incarnation && sameIp(a.Meta, state.meta) && sameIp(a.Vsn, versions)) return;
      this.refute(state, a.Incarnation);
      this.log('WARN', `refuting an alive message for '${a.Node}'`);
    } else {
      this.queueMemberlistBroadcast(a.Node, { type: 'alive', body: a }, finished ?? undefined);
      if (a.Vsn.length > 0) setVsn(state, a.Vsn);
      state.incarnation = a.Incarnation;
      // Decoded byte fields are views into the whole received packet or push/pull buffer;
      // keeping a view would keep that buffer alive as long as the member (Go's decoder copies).
      if (!sameIp(state.meta, a.Meta)) state.meta = detached(a.Meta);
      if (!sameIp(state.addr, a.Addr)) state.addr = detached(a.Addr);
      state.port = a.Port;
      if (state.state !== NodeStateType.alive) {
        // Not in memberlist: names the refutation so `shoal tui` can show who refuted a suspicion.
        if (oldState === NodeStateType.suspect) this.log('DEBUG', `suspect ${a.Node} refuted (incarnation ${a.Incarnation})`);
        state.state = NodeStateType.alive;
        state.stateChangeMs = this.nowMs;
      }
      this.env.onMemberState?.(this.nowMs, state.name, state.state, state.incarnation);
    }
    if (oldState === NodeStateType.dead || oldState === NodeStateType.left) {
      this.delegates.notifyJoin?.(this.nowMs, viewOf(state));
    } else if (!sameIp(oldMeta, state.meta)) {
      this.delegates.notifyUpdate?.(this.nowMs, viewOf(state));
    }
  }

  /** memberlist suspectNode: start (or confirm) a suspicion, or refute one about us. */
  private suspectNode(s: Suspect): void {
    const c = this.config;
    const state = this.nodeMap.get(s.Node);
    if (state === undefined) return;
    if (s.Incarnation < state.incarnation) return;
    const existing = this.suspicions.get(s.Node);
    if (existing !== undefined) {
      // Lifeguard §IV-B: an independent confirmation shortens the timeout; pass it on once.
      if (existing.suspicion.confirm(s.From, this.nowMs)) {
        this.log('DEBUG', `suspect ${s.Node} confirmed (from: ${s.From})`);
        this.queueMemberlistBroadcast(s.Node, { type: 'suspect', body: s });
        this.cancel(existing.timerId);
        existing.timerId = this.schedule('suspicion', existing.suspicion.deadlineMs - this.nowMs, () => this.suspicionExpired(s.Node, state.stateChangeMs, existing.suspicion));
      }
      return;
    }
    if (state.state !== NodeStateType.alive) return;
    if (state.name === c.name) {
      this.refute(state, s.Incarnation);
      this.log('WARN', `refuting a suspect message (from: ${s.From})`);
      return;
    }
    this.queueMemberlistBroadcast(s.Node, { type: 'suspect', body: s });
    // Not in memberlist, which logs only its own failed probes: says who suspected whom (`shoal tui`).
    this.log('DEBUG', `marking ${s.Node} as suspect (from: ${s.From})`);
    this.stats.suspicionsStarted++;
    state.incarnation = s.Incarnation;
    state.state = NodeStateType.suspect;
    state.stateChangeMs = this.nowMs;
    this.env.onMemberState?.(this.nowMs, state.name, state.state, state.incarnation, s.From);
    const changeMs = this.nowMs;
    const { minMs, maxMs, k } = suspicionBounds(c.suspicionMult, c.suspicionMaxTimeoutMult, this.estNumNodes(), c.probeIntervalMs);
    const suspicion = new Suspicion(s.From, k, minMs, maxMs, this.nowMs);
    const entry = { suspicion, timerId: this.schedule('suspicion', suspicion.deadlineMs - this.nowMs, () => this.suspicionExpired(s.Node, changeMs, suspicion)) };
    this.suspicions.set(s.Node, entry);
  }

  private suspicionExpired(name: string, changeMs: number, suspicion: Suspicion): void {
    const current = this.suspicions.get(name);
    if (current?.suspicion !== suspicion) return;
    const state = this.nodeMap.get(name);
    if (state === undefined || state.state !== NodeStateType.suspect || state.stateChangeMs !== changeMs) return;
    this.log('INFO', `marking ${name} as failed, suspect timeout reached (${suspicion.confirmationCount} peer confirmations)`);
    this.deadNode({ Incarnation: state.incarnation, Node: name, From: this.config.name });
  }

  private clearSuspicion(name: string): void {
    const entry = this.suspicions.get(name);
    if (entry === undefined) return;
    this.cancel(entry.timerId);
    this.suspicions.delete(name);
  }

  /** memberlist deadNode: From == Node means a graceful leave, so the node is left, not dead. */
  private deadNode(d: Dead, finished?: () => void): void {
    const state = this.nodeMap.get(d.Node);
    if (state === undefined) return;
    if (d.Incarnation < state.incarnation) return;
    this.clearSuspicion(d.Node);
    if (deadOrLeft(state)) return;
    if (state.name === this.config.name) {
      if (!this.leaving) {
        this.refute(state, d.Incarnation);
        this.log('WARN', `refuting a dead message (from: ${d.From})`);
        return;
      }
      this.queueMemberlistBroadcast(d.Node, { type: 'dead', body: d }, finished);
    } else {
      this.queueMemberlistBroadcast(d.Node, { type: 'dead', body: d });
    }
    state.incarnation = d.Incarnation;
    state.state = d.Node === d.From ? NodeStateType.left : NodeStateType.dead;
    state.stateChangeMs = this.nowMs;
    this.env.onMemberState?.(this.nowMs, state.name, state.state, state.incarnation, d.From);
    if (state.state === NodeStateType.dead) this.stats.declaredDead++;
    this.delegates.notifyLeave?.(this.nowMs, viewOf(state));
  }

  /** Beats an accusation with a higher incarnation (memberlist refute; Lifeguard counts it against our health). */
  private refute(me: NodeState, accusedInc: number): void {
    // A deliberately broken build for the simulator's own tests: without refutation a healthy
    // node wrongly suspected is declared dead, and the scenario checkers must catch it.
    if (this.config.testOnlyDisableRefutation === true) return;
    let inc = this.nextIncarnation();
    if (accusedInc >= inc) {
      this.incarnation = (accusedInc + 1) >>> 0;
      inc = this.incarnation;
    }
    me.incarnation = inc;
    this.env.onMemberState?.(this.nowMs, me.name, me.state, inc);
    this.awareness.applyDelta(1);
    this.stats.refutations++;
    const a: Alive = { Incarnation: inc, Node: me.name, Addr: me.addr, Port: me.port, Meta: me.meta, Vsn: Uint8Array.of(me.pMin, me.pMax, me.pCur, me.dMin, me.dMax, me.dCur) };
    // memberlist names this broadcast by our bare IP (me.Addr.String()), not our name (a quirk we
    // keep, so a refute does not replace an update of our meta queued under our name).
    this.queueMemberlistBroadcast(ipToString(me.addr), { type: 'alive', body: a });
  }

  // ---------------------------------------------------------------- streams: push/pull and TCP ping (§5)

  private openStream(to: Address, message: StreamMessage | Uint8Array, expectReply: boolean, deadlineMs: number, done: (result: StreamResult) => void): void {
    const id = this.nextStreamId++;
    this.streams.set(id, done);
    const bytes = message instanceof Uint8Array ? message : this.encodeStreamMessage(message);
    this.stats.streamsOpened++;
    this.stats.bytesSent += bytes.length;
    this.outbox.push({ kind: 'stream', id, to, bytes, expectReply, deadlineMs });
  }

  private encodeStreamMessage(message: StreamMessage): Uint8Array {
    const c = this.config;
    return encodeStream(message, { compress: c.enableCompression, ...this.encryptionOptions() });
  }

  /** The outcome of a stream effect: the reply message, or why there is none. */
  streamResult(nowMs: number, id: number, result: StreamResult): void {
    this.advance(nowMs);
    const done = this.streams.get(id);
    if (done === undefined || this.stopped) return;
    this.streams.delete(id);
    done(result);
  }

  /**
   * A peer opened a stream and sent `message`. Returns the bytes to answer with, or null to
   * close without answering. A push/pull is answered with our state and then merged.
   */
  handleStream(nowMs: number, from: Address, message: StreamMessage): Uint8Array | null {
    this.advance(nowMs);
    if (this.stopped) return null;
    this.stats.streamsAccepted++;
    switch (message.type) {
      case 'ping': {
        const p = message.body;
        if (p.Node !== '' && p.Node !== this.config.name) {
          this.log('WARN', `got ping for unexpected node ${p.Node} from ${addressToString(from)}`);
          return null;
        }
        return this.encodeStreamMessage({ type: 'ack', body: { SeqNo: p.SeqNo, Payload: null } });
      }
      case 'pushPull': {
        // memberlist refuses a 129th concurrent push/pull; here each is answered in one call, so
        // the runtime bounds concurrent connections instead.
        const join = message.header.Join;
        const reply = this.localStateBytes(join);
        const error = this.mergeRemoteState(join, message.nodes, message.userState);
        if (error !== null) this.log('ERR', `failed push/pull merge: ${error} from ${addressToString(from)}`);
        return reply;
      }
      case 'user':
        if (message.payload.length > 0) this.delegates.notifyMsg?.(this.nowMs, message.payload);
        return null;
      default:
        this.log('ERR', `received invalid msgType (${message.type}) over a stream from ${addressToString(from)}`);
        return null;
    }
  }

  /** The answer to a stream we could not read (memberlist handleConn sends errResp). */
  streamErrorReply(reason: string): Uint8Array {
    return this.encodeStreamMessage({ type: 'err', body: { Error: reason } });
  }

  /** Our push/pull state as stream bytes (memberlist sendLocalState), encoded anew only when it changed. */
  private localStateBytes(join: boolean): Uint8Array {
    const userState = this.delegates.localState?.(join) ?? new Uint8Array(0);
    let plain = this.pushPullCache.lookup(this.nodes, join, userState);
    if (plain === null) {
      const nodes: PushNodeState[] = this.nodes.map((n) => ({
        Name: n.name, Addr: n.addr, Port: n.port, Meta: n.meta, Incarnation: n.incarnation, State: n.state,
        Vsn: Uint8Array.of(n.pMin, n.pMax, n.pCur, n.dMin, n.dMax, n.dCur),
      }));
      const message: StreamMessage = { type: 'pushPull', header: { Join: join, Nodes: nodes.length, UserStateLen: userState.length }, nodes, userState };
      plain = encodeStreamPlain(message, this.config.enableCompression);
      this.pushPullCache.store(this.nodes, join, userState, plain);
    }
    return sealStream(plain, this.encryptionOptions());
  }

  private pushPullTick(): void {
    const c = this.config;
    this.schedule('pushPull', pushPullScaleMs(c.pushPullIntervalMs, this.estNumNodes()), () => this.pushPullTick());
    const [node] = this.kRandomNodes(1, (n) => n.name === c.name || n.state !== NodeStateType.alive);
    if (node === undefined) return;
    this.pushPullNode(addressOf(node), false, (error) => {
      if (error !== null) this.log('ERR', `push/pull with ${node.name} failed: ${error}`);
    });
  }

  private pushPullNode(to: Address, join: boolean, done: (error: string | null) => void): void {
    this.stats.pushPulls++;
    this.openStream(to, this.localStateBytes(join), true, this.nowMs + this.config.tcpTimeoutMs, (result) => {
      if (!result.ok) return done(result.reason);
      const reply = result.message;
      if (reply.type === 'err') return done(`remote error: ${reply.body.Error}`);
      if (reply.type !== 'pushPull') return done(`expected a push/pull reply, got ${reply.type}`);
      done(this.mergeRemoteState(join, reply.nodes, reply.userState));
    });
  }

  /** memberlist mergeRemoteState: verify versions, ask the merge delegate on join, merge, hand over user state. */
  private mergeRemoteState(join: boolean, remote: PushNodeState[], userState: Uint8Array): string | null {
    const versionError = this.verifyProtocol(remote);
    if (versionError !== null) return versionError;
    if (join && this.delegates.notifyMerge !== undefined) {
      const refusal = this.delegates.notifyMerge(remote.map((r) => viewOf(nodeFromPushState(r, this.nowMs))));
      if (refusal !== null) return refusal;
    }
    for (const entry of remote) {
      const r = this.withBindPort(entry);
      switch (r.State) {
        case NodeStateType.alive:
          this.aliveNode({ Incarnation: r.Incarnation, Node: r.Name, Addr: r.Addr, Port: r.Port, Meta: r.Meta, Vsn: r.Vsn }, null, false);
          break;
        case NodeStateType.left:
          this.deadNode({ Incarnation: r.Incarnation, Node: r.Name, From: r.Name });
          break;
        case NodeStateType.dead:
        case NodeStateType.suspect:
          // A remote "dead" only makes us suspect: we check for ourselves.
          this.suspectNode({ Incarnation: r.Incarnation, Node: r.Name, From: this.config.name });
          break;
      }
    }
    if (userState.length > 0) this.delegates.mergeRemoteState?.(this.nowMs, userState, join);
    return null;
  }

  /** memberlist verifyProtocol: every alive node's current versions must lie in the range all understand. */
  private verifyProtocol(remote: PushNodeState[]): string | null {
    let maxPMin = 0, minPMax = 255, maxDMin = 0, minDMax = 255;
    for (const r of remote) {
      if (r.State !== NodeStateType.alive || r.Vsn.length === 0) continue;
      if (r.Vsn.length < 6) return `node '${r.Name}' sent ${r.Vsn.length} version bytes, expected 6`;
      maxPMin = Math.max(maxPMin, r.Vsn[0] as number);
      minPMax = Math.min(minPMax, r.Vsn[1] as number);
      maxDMin = Math.max(maxDMin, r.Vsn[3] as number);
      minDMax = Math.min(minDMax, r.Vsn[4] as number);
    }
    for (const n of this.nodes) {
      if (n.state !== NodeStateType.alive) continue;
      maxPMin = Math.max(maxPMin, n.pMin);
      minPMax = Math.min(minPMax, n.pMax);
      maxDMin = Math.max(maxDMin, n.dMin);
      minDMax = Math.min(minDMax, n.dMax);
    }
    const check = (name: string, pCur: number, dCur: number): string | null => {
      if (pCur < maxPMin || pCur > minPMax) return `node '${name}' protocol version (${pCur}) is incompatible: [${maxPMin}, ${minPMax}]`;
      if (dCur < maxDMin || dCur > minDMax) return `node '${name}' delegate protocol version (${dCur}) is incompatible: [${maxDMin}, ${minDMax}]`;
      return null;
    };
    for (const r of remote) {
      const error = check(r.Name, r.Vsn.length >= 6 ? (r.Vsn[2] as number) : 0, r.Vsn.length >= 6 ? (r.Vsn[5] as number) : 0);
      if (error !== null) return error;
    }
    for (const n of this.nodes) {
      const error = check(n.name, n.pCur, n.dCur);
      if (error !== null) return error;
    }
    return null;
  }

  // ---------------------------------------------------------------- API: join, leave, update

  /**
   * Joins through each address with a push/pull (Join=true). `done` gets how many answered and
   * the errors of those that did not (memberlist Join).
   */
  join(nowMs: number, addresses: readonly Address[], done?: (numSuccess: number, errors: string[]) => void): void {
    this.advance(nowMs);
    let pending = addresses.length;
    let numSuccess = 0;
    const errors: string[] = [];
    if (pending === 0) {
      done?.(0, ['no addresses to join']);
      return;
    }
    for (const to of addresses) {
      this.pushPullNode(to, true, (error) => {
        if (error === null) numSuccess++;
        else errors.push(`failed to join ${addressToString(to)}: ${error}`);
        if (--pending === 0) done?.(numSuccess, errors);
      });
    }
  }

  /**
   * Announces our departure: a dead message about ourselves (From = us), so peers mark us left.
   * `done` runs once the broadcast has used its retransmits, at once if nobody else is alive,
   * or with timedOut = true after `timeoutMs`.
   */
  leave(nowMs: number, timeoutMs: number, done?: (timedOut: boolean) => void): void {
    this.advance(nowMs);
    if (this.leaving) {
      done?.(false);
      return;
    }
    this.leaving = true;
    const me = this.nodeMap.get(this.config.name) as NodeState;
    let settled = false;
    const settle = (timedOut: boolean): void => {
      if (settled) return;
      settled = true;
      done?.(timedOut);
    };
    const alive = this.anyAlive();
    this.deadNode({ Incarnation: me.incarnation, Node: me.name, From: me.name }, () => settle(false));
    if (!alive) return settle(false);
    if (timeoutMs > 0) this.schedule('leaveTimeout', timeoutMs, () => settle(true));
  }

  get hasLeft(): boolean {
    return this.leaving;
  }

  private anyAlive(): boolean {
    for (const n of this.nodes) if (n.name !== this.config.name && !deadOrLeft(n)) return true;
    return false;
  }

  /**
   * Re-announces ourselves with fresh meta (memberlist UpdateNode); `done` runs when the alive
   * broadcast has gone out (at once if nobody else is alive).
   */
  updateMeta(nowMs: number, done?: () => void): void {
    this.advance(nowMs);
    const alive = this.anyAlive();
    let settled = false;
    const settle = (): void => {
      if (!settled) {
        settled = true;
        done?.();
      }
    };
    this.aliveNode(this.localAlive(this.nextIncarnation()), settle, true);
    if (!alive) settle();
  }
}

/** `bytes` itself if it owns its buffer, else a copy: a member must not pin a whole received buffer. */
function detached(bytes: Uint8Array): Uint8Array {
  return bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

function setVsn(state: NodeState, vsn: Uint8Array): void {
  state.pMin = vsn[0] ?? 0;
  state.pMax = vsn[1] ?? 0;
  state.pCur = vsn[2] ?? 0;
  state.dMin = vsn[3] ?? 0;
  state.dMax = vsn[4] ?? 0;
  state.dCur = vsn[5] ?? 0;
}

function nodeFromAlive(a: Alive, state: NodeStateType, nowMs: number): NodeState {
  const n: NodeState = {
    // Copies, not views into the received buffer (see aliveNode).
    name: a.Node, addr: detached(a.Addr), port: a.Port, meta: detached(a.Meta), incarnation: 0, state, stateChangeMs: nowMs,
    pMin: 0, pMax: 0, pCur: 0, dMin: 0, dMax: 0, dCur: 0,
  };
  if (a.Vsn.length > 5) setVsn(n, a.Vsn);
  return n;
}

function nodeFromPushState(r: PushNodeState, nowMs: number): NodeState {
  const n = nodeFromAlive({ Incarnation: r.Incarnation, Node: r.Name, Addr: r.Addr, Port: r.Port, Meta: r.Meta, Vsn: r.Vsn }, r.State as NodeStateType, nowMs);
  n.incarnation = r.Incarnation;
  return n;
}
