// Serf's agent RPC (IPC) server, so the `serf` CLI and Serf RPC clients can drive a shoal agent
// (reference §9; serf cmd/serf/command/agent/ipc.go, ipc_event_stream.go, ipc_log_stream.go,
// ipc_query_response_stream.go). Each connection is served one request at a time, as Serf's
// handleClient loop does, while its event, log and query streams write records in between.
// Every response or record is a single socket write, so a header is never split from its body.
import net from 'node:net';
import { EventEmitter } from 'node:events';
import { timingSafeEqual } from 'node:crypto';
import type { Serf, SerfEvent, IncomingQuery } from '../cluster/serf.js';
import { INTERNAL_QUERY_PREFIX } from '../cluster/serf.js';
import { statusName, type Member } from '../cluster/member.js';
import { keyOperation, type KeyOperation, type KeyResponse } from '../cluster/keyring.js';
import type { LogLevel } from '../protocol/effects.js';
import { MsgpackWriter } from '../wire/msgpack-writer.js';
import { encodeValue, type Infer, type Kind } from '../wire/schema.js';
import { decodeRpc, encodeRpcRecord, RpcStreamDecoder, type RpcFrame } from '../wire/rpc.js';
import {
  RPC_VERSION, RpcError, authRequestSchema, coordinateRequestSchema, coordinateResponseSchema, eventRequestSchema,
  forceLeaveRequestSchema, handshakeRequestSchema, joinRequestSchema, joinResponseSchema, keyRequestSchema,
  keyResponseSchema, membersFilteredRequestSchema, membersResponseSchema, monitorRequestSchema, queryRequestSchema,
  requestHeaderSchema, respondRequestSchema, responseHeaderSchema, statsResponseSchema, stopRequestSchema,
  streamRequestSchema, tagsRequestSchema, type QueryRecord, type RpcMember, type RpcRecord,
} from '../wire/rpc-schemas.js';
import type { Agent, LogLine } from './agent.js';
import { eventPasses, filterMembers, levelPasses, parseEventFilter, parseMonitorLevel, type EventFilter, type MonitorLevel } from './rpc-filters.js';
import { agentStats } from './rpc-stats.js';

export interface RpcServerOptions {
  /** host:port to listen on (Serf's -rpc-addr); port 0 picks a free one. */
  readonly addr: string;
  /** When set, clients must send `auth` with this key after the handshake (Serf's -rpc-auth). */
  readonly authKey?: string;
  /**
   * The agent event streams follow: 'serf' (raw Serf events) or an event the agent emits after
   * its coalescing, as Serf's IPC streams see what the agent's coalescers let through.
   */
  readonly streamEvent?: string;
  /** Most client connections at once (Serf has no limit; each one holds buffers). Default 128. */
  readonly maxConnections?: number;
}

/** What the RPC refused, for the `drops` stats section and tests (counted, never acted on). */
export interface RpcRefusals {
  /** Commands sent before the handshake (answered with an error, then the connection is closed). */
  beforeHandshake: number;
  /** Commands sent before a successful auth, when an auth key is set (answered with an error). */
  beforeAuth: number;
  /** auth requests with the wrong key. */
  badAuth: number;
  /** Requests that are not msgpack, or bodies that do not match their command. */
  malformed: number;
  /** Objects over the size limit (cut before they are buffered whole). */
  oversized: number;
  /** Values nested past the decoder's depth limit. */
  tooDeep: number;
  /** Unknown commands. */
  unknownCommand: number;
  /** Connections refused over maxConnections. */
  connections: number;
}

/** A connection's decoded requests waiting to be served; past this, reading pauses (backpressure). */
const MAX_QUEUED_FRAMES = 64;

/** Log lines kept for a new monitor (Serf's agent keeps 512: command.go NewLogWriter(512)). */
const LOG_BACKLOG = 512;
/** A stream or monitor whose client reads slower than this much queued output loses records, as Serf's full channels do. */
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

/** Events: 'close' once the listener and every connection are closed. */
export class RpcServer extends EventEmitter {
  private readonly connections = new Set<RpcConnection>();
  readonly refusals: RpcRefusals = { beforeHandshake: 0, beforeAuth: 0, badAuth: 0, malformed: 0, oversized: 0, tooDeep: 0, unknownCommand: 0, connections: 0 };
  private maxConnections = 128;
  private readonly backlog: LogLine[] = [];
  private closed = false;
  private readonly onLog = (line: LogLine): void => {
    this.backlog.push(line);
    if (this.backlog.length > LOG_BACKLOG) this.backlog.shift();
    for (const c of this.connections) c.log(line);
  };
  private readonly onSerf = (event: SerfEvent): void => {
    for (const c of this.connections) c.event(event);
  };
  private readonly onShutdown = (): void => void this.close();

  private constructor(readonly agent: Agent, private readonly server: net.Server, readonly authKey: string, private readonly streamEvent: string) {
    super();
    agent.on('log', this.onLog);
    agent.on(streamEvent, this.onSerf);
    agent.once('shutdown', this.onShutdown);
    server.on('connection', (socket) => this.accept(socket));
    server.on('error', (err) => agent.log('ERR', `agent.ipc: ${err.message}`));
  }

  static async listen(agent: Agent, options: RpcServerOptions): Promise<RpcServer> {
    const { host, port } = parseListenAddr(options.addr);
    const server = net.createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: unknown) => {
      throw new Error(`cannot listen for RPC on ${options.addr}: ${err instanceof Error ? err.message : String(err)}`);
    });
    const rpc = new RpcServer(agent, server, options.authKey ?? '', options.streamEvent ?? 'serf');
    if (options.maxConnections !== undefined) rpc.maxConnections = options.maxConnections;
    if (!isLoopback(host)) {
      agent.log('WARN', `agent.ipc: RPC listening on ${options.addr}, which is not a loopback address: whoever reaches it controls this agent${rpc.authKey === '' ? ', and no RPC auth key is set' : ''}`);
    }
    return rpc;
  }

  /** Where it listens (the actual port when 0 was asked for). */
  get address(): { host: string; port: number } {
    const a = this.server.address() as net.AddressInfo;
    return { host: a.address, port: a.port };
  }

  /** The log lines a new monitor is sent first, oldest first. */
  recentLogs(): readonly LogLine[] {
    return this.backlog;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.agent.off('log', this.onLog);
    this.agent.off(this.streamEvent, this.onSerf);
    this.agent.off('shutdown', this.onShutdown);
    const closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const c of this.connections) c.close();
    await closing;
    this.emit('close');
  }

  private accept(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    if (this.connections.size >= this.maxConnections) {
      this.refusals.connections++;
      this.agent.log('WARN', `agent.ipc: refused a client from ${socket.remoteAddress ?? '?'}: ${this.maxConnections} connections already open`);
      socket.destroy();
      return;
    }
    const connection = new RpcConnection(this, socket);
    this.connections.add(connection);
    socket.once('close', () => {
      this.connections.delete(connection);
      connection.close();
    });
    this.agent.log('INFO', `agent.ipc: Accepted client: ${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`);
    void connection.serve();
  }
}

/** Thrown when the client sent something that ends the connection (Serf's handleRequest returning an error). */
class HangUp extends Error {}

/** The agent was shut down under a request. */
class AgentStopped extends Error {
  constructor() {
    super('agent is shut down');
  }
}

type Header = Infer<typeof responseHeaderSchema>;

interface Stream {
  readonly filters: readonly EventFilter[];
}

/** One client connection (ipc.go IPCClient). */
class RpcConnection {
  private readonly decoder = new RpcStreamDecoder();
  private readonly frames: RpcFrame[] = [];
  private waiter: ((frame: RpcFrame | null) => void) | null = null;
  private ended = false;
  private version = 0;
  private didAuth = false;
  private monitor: { seq: bigint; min: MonitorLevel } | null = null;
  private readonly streams = new Map<bigint, Stream>();
  /** Queries delivered on this connection's streams, by the per-connection ID `respond` quotes. */
  private readonly pendingQueries = new Map<bigint, IncomingQuery>();
  private readonly queryTimers = new Set<NodeJS.Timeout>();
  private lastQueryId = 0n;
  private dropping = false;
  private readonly name: string;
  private readonly agent: Agent;

  constructor(private readonly server: RpcServer, private readonly socket: net.Socket) {
    this.agent = server.agent;
    this.name = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('end', () => this.finish());
    socket.on('error', () => this.finish());
  }

  close(): void {
    this.finish();
    this.monitor = null;
    this.streams.clear();
    for (const t of this.queryTimers) clearTimeout(t);
    this.queryTimers.clear();
    this.pendingQueries.clear();
    this.socket.destroy();
  }

  // ------------------------------------------------------------------ reading

  private receive(chunk: Buffer): void {
    try {
      this.decoder.push(chunk);
      for (let f = this.decoder.next(); f !== null; f = this.decoder.next()) this.frames.push(f);
    } catch (err) {
      // Not msgpack at all, or an object past the size limit: nothing more can be read.
      if (/over the .*limit/.test(message(err))) this.server.refusals.oversized++;
      else this.server.refusals.malformed++;
      this.agent.log('ERR', `agent.ipc: failed to decode request from ${this.name}: ${message(err)}`);
      this.close();
      return;
    }
    // Backpressure: a client that pipelines requests faster than they are served waits in TCP.
    if (this.frames.length >= MAX_QUEUED_FRAMES) this.socket.pause();
    this.wake();
  }

  private finish(): void {
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    if (w === null) return;
    const f = this.frames.shift();
    if (f !== undefined) {
      this.waiter = null;
      w(f);
    } else if (this.ended) {
      this.waiter = null;
      w(null);
    }
  }

  private nextFrame(): Promise<RpcFrame | null> {
    if (this.frames.length < MAX_QUEUED_FRAMES / 2 && this.socket.isPaused()) this.socket.resume();
    const f = this.frames.shift();
    if (f !== undefined) return Promise.resolve(f);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Reads and decodes the body of the current request; a missing or malformed one ends the connection. */
  private async body<K extends Kind>(kind: K): Promise<Infer<K>> {
    const frame = await this.nextFrame();
    if (frame === null) throw new HangUp('decode failed: connection closed before the request body');
    try {
      return decodeRpc(kind, frame.bytes);
    } catch (err) {
      this.countUndecodable(err);
      throw new HangUp(`decode failed: ${message(err)}`);
    }
  }

  /** The request loop (ipc.go handleClient): one request at a time until the client leaves or errs. */
  async serve(): Promise<void> {
    try {
      for (;;) {
        const frame = await this.nextFrame();
        if (frame === null) return;
        let header;
        try {
          header = decodeRpc(requestHeaderSchema, frame.bytes);
        } catch (err) {
          this.countUndecodable(err);
          this.agent.log('ERR', `agent.ipc: failed to decode request header: ${message(err)}`);
          return;
        }
        await this.handle(header.Command, header.Seq);
      }
    } catch (err) {
      if (err instanceof HangUp) this.agent.log('ERR', `agent.ipc: Failed to evaluate request: ${err.message}`);
      else if (!(err instanceof AgentStopped)) this.agent.log('ERR', `agent.ipc: internal error serving ${this.name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    } finally {
      this.close();
    }
  }

  private countUndecodable(err: unknown): void {
    if (/nesting deeper/.test(message(err))) this.server.refusals.tooDeep++;
    else this.server.refusals.malformed++;
  }

  // ------------------------------------------------------------------ writing

  /** Sends a header and optionally a body as one write; resolves once the bytes are handed to the OS. */
  private send(header: Header, kind: Kind | null = null, body?: unknown): Promise<void> {
    const w = new MsgpackWriter('rpc');
    encodeValue(w, responseHeaderSchema, header);
    if (kind !== null) encodeValue(w, kind, body);
    return this.write(w.finish());
  }

  private write(bytes: Uint8Array): Promise<void> {
    if (this.socket.destroyed || !this.socket.writable) return Promise.resolve();
    return new Promise((resolve) => this.socket.write(bytes, () => resolve()));
  }

  /** A stream, monitor or query record; dropped (with one warning) while the client is far behind. */
  private sendRecord(seq: bigint, record: RpcRecord): void {
    if (this.socket.destroyed) return;
    if (this.socket.writableLength > MAX_QUEUED_BYTES) {
      if (!this.dropping) {
        this.dropping = true;
        this.agent.log('WARN', `agent.ipc: Dropping records to ipc.client: ${this.name}`);
      }
      return;
    }
    this.dropping = false;
    void this.write(encodeRpcRecord(seq, record));
  }

  // ------------------------------------------------------------------ engine access

  /** Runs fn on the Serf engine; throws AgentStopped if the agent no longer runs one. */
  private onEngine<T>(fn: (serf: Serf, now: number) => T): T {
    let ran = false;
    const out = this.agent.act((serf, now) => {
      ran = true;
      return fn(serf, now);
    });
    if (!ran) throw new AgentStopped();
    return out;
  }

  /** Starts something on the engine that reports through `done`. */
  private onEngineAsync<T>(start: (serf: Serf, now: number, done: (value: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      try {
        this.onEngine((serf, now) => start(serf, now, resolve));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  // ------------------------------------------------------------------ dispatch (ipc.go handleRequest)

  private async handle(command: string, seq: bigint): Promise<void> {
    if (command !== 'handshake' && this.version === 0) {
      this.server.refusals.beforeHandshake++;
      await this.send({ Seq: seq, Error: RpcError.handshakeRequired });
      throw new HangUp(RpcError.handshakeRequired);
    }
    if (this.server.authKey !== '' && !this.didAuth && command !== 'auth' && command !== 'handshake') {
      // Serf answers without reading the body, so a body that follows is taken for the next header.
      this.server.refusals.beforeAuth++;
      this.agent.log('WARN', 'agent.ipc: Client sending commands before auth');
      await this.send({ Seq: seq, Error: RpcError.authRequired });
      return;
    }
    switch (command) {
      case 'handshake': return this.handshake(seq);
      case 'auth': return this.auth(seq);
      case 'event': return this.userEvent(seq);
      case 'members': return this.members(seq, false);
      case 'members-filtered': return this.members(seq, true);
      case 'stream': return this.stream(seq);
      case 'monitor': return this.startMonitor(seq);
      case 'stop': return this.stop(seq);
      case 'force-leave': return this.forceLeave(seq);
      case 'join': return this.join(seq);
      case 'leave': return this.leave(seq);
      case 'install-key': case 'use-key': case 'remove-key': case 'list-keys': return this.keys(seq, command);
      case 'tags': return this.tags(seq);
      case 'query': return this.query(seq);
      case 'respond': return this.respond(seq);
      case 'stats': return this.send({ Seq: seq, Error: '' }, statsResponseSchema, agentStats(this.agent, this.server.refusals));
      case 'get-coordinate': return this.coordinate(seq);
      default:
        this.server.refusals.unknownCommand++;
        await this.send({ Seq: seq, Error: RpcError.unsupportedCommand });
        throw new HangUp(`command ${JSON.stringify(command)} not recognized`);
    }
  }

  private async handshake(seq: bigint): Promise<void> {
    const req = await this.body(handshakeRequestSchema);
    let error = '';
    if (req.Version < RPC_VERSION || req.Version > RPC_VERSION) error = RpcError.unsupportedIpcVersion;
    else if (this.version !== 0) error = RpcError.duplicateHandshake;
    else this.version = req.Version;
    await this.send({ Seq: seq, Error: error });
  }

  private async auth(seq: bigint): Promise<void> {
    const req = await this.body(authRequestSchema);
    const given = Buffer.from(req.AuthKey);
    const want = Buffer.from(this.server.authKey);
    const ok = given.length === want.length && timingSafeEqual(given, want);
    if (ok) this.didAuth = true;
    else this.server.refusals.badAuth++;
    await this.send({ Seq: seq, Error: ok ? '' : RpcError.invalidAuthToken });
  }

  private async userEvent(seq: bigint): Promise<void> {
    const req = await this.body(eventRequestSchema);
    let error = '';
    try {
      this.onEngine((serf, now) => serf.userEvent(now, req.Name, req.Payload, req.Coalesce));
    } catch (err) {
      if (err instanceof AgentStopped) throw err;
      error = message(err);
      this.agent.log('WARN', `agent: failed to send user event: ${error}`);
    }
    await this.send({ Seq: seq, Error: error });
  }

  private async members(seq: bigint, filtered: boolean): Promise<void> {
    let members = this.agent.serf.members();
    if (filtered) {
      const req = await this.body(membersFilteredRequestSchema);
      const result = filterMembers(members, req.Tags, req.Status, req.Name);
      if (!result.ok) throw new HangUp(result.error);
      members = result.members;
    }
    await this.send({ Seq: seq, Error: '' }, membersResponseSchema, { Members: members.map(rpcMember) });
  }

  private async stream(seq: bigint): Promise<void> {
    const req = await this.body(streamRequestSchema);
    const filters = parseEventFilter(req.Type);
    let error = '';
    if (filters === null) error = RpcError.invalidFilter;
    else if (this.streams.has(seq)) error = RpcError.streamExists;
    await this.send({ Seq: seq, Error: error });
    // Registered after the answer, as Serf does, so no record can come before it.
    if (filters !== null && error === '') this.streams.set(seq, { filters });
  }

  /** An agent event, for each of this connection's streams that wants it (ipc_event_stream.go). */
  event(event: SerfEvent): void {
    for (const [seq, stream] of this.streams) {
      if (!eventPasses(stream.filters, event)) continue;
      switch (event.type) {
        case 'user':
          this.sendRecord(seq, {
            kind: 'userEvent',
            value: { Event: 'user', LTime: event.lTime, Name: event.name, Payload: event.payload, Coalesce: event.coalesce },
          });
          break;
        case 'query': {
          const id = this.registerQuery(event.query);
          this.sendRecord(seq, {
            kind: 'queryEvent',
            value: { Event: 'query', ID: id, LTime: event.query.lTime, Name: event.query.name, Payload: event.query.payload },
          });
          break;
        }
        default:
          this.sendRecord(seq, { kind: 'memberEvent', value: { Event: event.type, Members: event.members.map(rpcMember) } });
      }
    }
  }

  /** Gives a query a per-connection ID that `respond` can quote until its deadline (IPCClient.RegisterQuery). */
  private registerQuery(q: IncomingQuery): bigint {
    const id = ++this.lastQueryId;
    const remaining = q.deadlineMs - this.agent.serf.now;
    if (remaining < 0) return id;
    this.pendingQueries.set(id, q);
    const timer = setTimeout(() => {
      this.queryTimers.delete(timer);
      this.pendingQueries.delete(id);
    }, remaining);
    this.queryTimers.add(timer);
    return id;
  }

  private async respond(seq: bigint): Promise<void> {
    const req = await this.body(respondRequestSchema);
    const q = this.pendingQueries.get(req.ID);
    const error = q === undefined ? RpcError.invalidQueryId : this.onEngine((_, now) => q.respond(now, req.Payload ?? new Uint8Array(0)));
    await this.send({ Seq: seq, Error: error ?? '' });
  }

  private async startMonitor(seq: bigint): Promise<void> {
    const req = await this.body(monitorRequestSchema);
    const min = parseMonitorLevel(req.LogLevel);
    let error = '';
    if (min === null) error = `Unknown log level: ${req.LogLevel.toUpperCase()}`;
    else if (this.monitor !== null) error = RpcError.monitorExists;
    await this.send({ Seq: seq, Error: error });
    if (min === null || error !== '') return;
    this.monitor = { seq, min };
    for (const line of this.server.recentLogs()) this.log(line);
  }

  /** An agent log line, for this connection's monitor (ipc_log_stream.go). */
  log(line: LogLine): void {
    const m = this.monitor;
    if (m === null || !levelPasses(m.min, line.level)) return;
    this.sendRecord(m.seq, { kind: 'log', value: { Log: formatLogLine(line) } });
  }

  private async stop(seq: bigint): Promise<void> {
    const req = await this.body(stopRequestSchema);
    if (this.monitor?.seq === req.Stop) this.monitor = null;
    this.streams.delete(req.Stop);
    await this.send({ Seq: seq, Error: '' });
  }

  private async forceLeave(seq: bigint): Promise<void> {
    const req = await this.body(forceLeaveRequestSchema);
    this.agent.log('INFO', `agent: Force leaving node${req.Prune ? ' (prune)' : ''}: ${req.Node}`);
    const error = await this.onEngineAsync<string | null>((serf, now, done) => serf.forceLeave(now, req.Node, req.Prune, done));
    if (error !== null) this.agent.log('WARN', `agent: failed to remove node${req.Prune ? ' (prune)' : ''}: ${error}`);
    await this.send({ Seq: seq, Error: error ?? '' });
  }

  private async join(seq: bigint): Promise<void> {
    const req = await this.body(joinRequestSchema);
    const addrs = req.Existing ?? [];
    this.agent.log('INFO', `agent: joining: [${addrs.join(' ')}] replay: ${req.Replay}`);
    const { num, errors } = await this.agent.join(addrs, req.Replay);
    // Serf reports an error only when no node could be joined (memberlist Join).
    const error = num === 0 && errors.length > 0 ? `${errors.length} error(s) occurred:\n\n* ${errors.join('\n* ')}` : '';
    if (error === '') this.agent.log('INFO', `agent: joined: ${num} nodes`);
    else this.agent.log('WARN', `agent: error joining: ${error}`);
    await this.send({ Seq: seq, Error: error }, joinResponseSchema, { Num: num });
  }

  /** Leaves the cluster, answers, then shuts the agent down (ipc.go handleLeave). */
  private async leave(seq: bigint): Promise<void> {
    this.agent.log('INFO', 'agent.ipc: Graceful leave triggered');
    const error = await this.agent.leave();
    if (error !== null) this.agent.log('ERR', `agent.ipc: leave failed: ${error}`);
    await this.send({ Seq: seq, Error: error ?? '' });
    try {
      await this.agent.shutdown();
    } catch (err) {
      this.agent.log('ERR', `agent.ipc: shutdown failed: ${message(err)}`);
    }
  }

  private async keys(seq: bigint, op: KeyOperation): Promise<void> {
    const key = op === 'list-keys' ? null : (await this.body(keyRequestSchema)).Key;
    const what = { 'install-key': 'key installation', 'use-key': 'primary key change', 'remove-key': 'key removal', 'list-keys': 'key listing' }[op];
    this.agent.log('INFO', `agent: Initiating ${what}`);
    let body: Infer<typeof keyResponseSchema>;
    let error: string;
    try {
      const r = await this.onEngineAsync<KeyResponse>((serf, now, done) => keyOperation(serf, now, op, key, done));
      body = { Messages: r.messages, Keys: op === 'list-keys' ? r.keys : null, NumNodes: r.numNodes, NumErr: r.numErr, NumResp: r.numResp };
      error = r.error ?? '';
    } catch (err) {
      if (err instanceof AgentStopped) throw err;
      body = { Messages: new Map(), Keys: null, NumNodes: 0, NumErr: 0, NumResp: 0 };
      error = message(err);
    }
    await this.send({ Seq: seq, Error: error }, keyResponseSchema, body);
  }

  private async tags(seq: bigint): Promise<void> {
    const req = await this.body(tagsRequestSchema);
    const deleted = new Set(req.DeleteTags ?? []);
    const tags = new Map<string, string>();
    for (const [k, v] of this.agent.serf.localTags) if (!deleted.has(k)) tags.set(k, v);
    for (const [k, v] of req.Tags ?? []) tags.set(k, v);
    if (this.agent.serf.currentState === 'shutdown') throw new AgentStopped();
    const error = await withTimeout(this.agent.setTags(tags), this.agent.serf.config.broadcastTimeoutMs, 'timeout waiting for update broadcast');
    await this.send({ Seq: seq, Error: error ?? '' });
  }

  private async query(seq: bigint): Promise<void> {
    const req = await this.body(queryRequestSchema);
    let error = '';
    // Only the special ping query may use the internal prefix (agent.go Query).
    if (req.Name.startsWith(INTERNAL_QUERY_PREFIX) && (req.Name !== `${INTERNAL_QUERY_PREFIX}ping` || req.Payload !== null)) {
      error = `Queries cannot contain the '${INTERNAL_QUERY_PREFIX}' prefix`;
    }
    // Records that come before the answer wait for it (Serf starts the record stream after answering).
    let early: RpcRecord[] | null = [];
    const record = (value: QueryRecord): void => {
      const r: RpcRecord = { kind: 'query', value };
      if (early !== null) early.push(r);
      else this.sendRecord(seq, r);
    };
    if (error === '') {
      this.agent.log('DEBUG', `agent: Requesting query send: ${req.Name}. Payload: ${JSON.stringify(new TextDecoder().decode(req.Payload ?? new Uint8Array(0)))}`);
      const ns = req.Timeout;
      // Timeout 0 means Serf's default; a negative one ends the query at once.
      const timeoutMs = ns === 0n ? 0 : ns < 0n ? Number.MIN_VALUE : Number(ns) / 1e6;
      try {
        this.onEngine((serf, now) =>
          serf.query(
            now,
            req.Name,
            req.Payload,
            {
              ...(req.FilterNodes === null ? {} : { filterNodes: req.FilterNodes }),
              ...(req.FilterTags === null ? {} : { filterTags: req.FilterTags }),
              requestAck: req.RequestAck,
              relayFactor: req.RelayFactor,
              timeoutMs,
            },
            {
              onAck: (from) => record({ Type: 'ack', From: from, Payload: null }),
              onResponse: (from, payload) => record({ Type: 'response', From: from, Payload: payload }),
              onDone: () => record({ Type: 'done', From: '', Payload: null }),
            },
          ),
        );
      } catch (err) {
        if (err instanceof AgentStopped) throw err;
        error = message(err);
        this.agent.log('WARN', `agent: failed to start user query: ${error}`);
      }
    }
    const answered = this.send({ Seq: seq, Error: error });
    const queued = early;
    early = null;
    if (error === '') for (const r of queued) this.sendRecord(seq, r);
    await answered;
  }

  private async coordinate(seq: bigint): Promise<void> {
    const req = await this.body(coordinateRequestSchema);
    const c = this.agent.serf.getCachedCoordinate(req.Node);
    const coord = c === undefined
      ? { Vec: null, Error: 0, Adjustment: 0, Height: 0 }
      : { Vec: [...c.vec], Error: c.error, Adjustment: c.adjustment, Height: c.height };
    await this.send({ Seq: seq, Error: '' }, coordinateResponseSchema, { Coord: coord, Ok: c !== undefined });
  }
}

/** The RPC's Member: the status by name (ipc.go Member). */
function rpcMember(m: Member): RpcMember {
  return {
    Name: m.name, Addr: m.addr, Port: m.port, Tags: new Map(m.tags), Status: statusName(m.status),
    ProtocolMin: m.protocolMin, ProtocolMax: m.protocolMax, ProtocolCur: m.protocolCur,
    DelegateMin: m.delegateMin, DelegateMax: m.delegateMax, DelegateCur: m.delegateCur,
  };
}

/** A log line as Serf's agent writes it (Go log.LstdFlags, local time): "2006/01/02 15:04:05 [INFO] text". */
export function formatLogLine(line: { readonly level: LogLevel; readonly message: string; readonly atMs: number }): string {
  const d = new Date(line.atMs);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} [${line.level}] ${line.message}`;
}

/** Splits Serf's -rpc-addr: "host:port" or "[v6]:port". */
export function parseListenAddr(addr: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(addr) ?? /^([^:]*):(\d+)$/.exec(addr);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || !(port >= 0 && port < 65536)) throw new Error(`RPC address ${JSON.stringify(addr)} is not host:port`);
  return { host: m[1] === '' ? '0.0.0.0' : (m[1] as string), port };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function withTimeout<T>(p: Promise<T>, ms: number, timeoutValue: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(timeoutValue), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
