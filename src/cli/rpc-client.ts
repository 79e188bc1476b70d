// A client for a Serf agent's RPC (IPC) port, as serf 0.9.4's client/rpc_client.go: one TCP
// connection, a handshake (and auth when a token is given), then requests matched to responses by
// Seq. Streaming commands (query, monitor, stream) keep their Seq and get one record per later
// response header. All encoding and decoding is src/wire/rpc.ts; this file only moves bytes and
// keeps track of which body follows which header (reference §9).
import { connect as netConnect, type Socket } from 'node:net';
import { WireError } from '../wire/errors.js';
import { decodeRpc, decodeRpcRecord, encodeRpcRequest, responseBodySchema, RpcStreamDecoder } from '../wire/rpc.js';
import {
  RPC_VERSION, responseHeaderSchema, rpcCommands, type RpcCommandName, type RpcRecord, type RpcRequestBody,
  type RpcResponseBody,
} from '../wire/rpc-schemas.js';

/** client.DefaultTimeout: how long dialling (and, in Go, each write) may take. */
export const DEFAULT_RPC_TIMEOUT_MS = 10_000;

/** An error the agent sent back in a response header ("Invalid authentication token", …): Go's strToError. */
export class RpcAgentError extends Error {
  override readonly name = 'RpcAgentError';
}

/** The connection could not be made or was lost; the message reads like Go's net errors. */
export class RpcConnectionError extends Error {
  override readonly name = 'RpcConnectionError';
}

/** The agent's answer to a request: its error text ("" = success) and the body, when the command returns one. */
export interface RpcReply<B> {
  readonly error: string;
  readonly body: B | null;
}

type BodyArgs<B> = [B] extends [never] ? [] : [body: B];

interface Pending {
  readonly command: RpcCommandName;
  /** Resolves the first response; later ones are records of a streaming command. */
  first: ((reply: RpcReply<unknown>) => void) | null;
  readonly onRecord: ((record: RpcRecord) => void) | null;
}

/** A running stream, monitor or query: stop() asks the agent to end it (queries end by themselves). */
export interface RpcStream {
  readonly seq: bigint;
  /** Resolves when the agent sends no more records: a query's "done", or the connection closing. */
  readonly ended: Promise<void>;
}

export interface RpcClientOptions {
  readonly authKey?: string;
  readonly timeoutMs?: number;
}

export class RpcClient {
  private seq = 0n;
  private readonly pending = new Map<bigint, Pending>();
  private readonly streamEnds = new Map<bigint, () => void>();
  private readonly decoder = new RpcStreamDecoder();
  /** Set while the next frame is the body of the response just read. */
  private expectBody: { readonly seq: bigint; readonly error: string; readonly first: boolean } | null = null;
  private closedWith: Error | null = null;
  private readonly closeWaiters: (() => void)[] = [];

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (err) => this.shutdown(new RpcConnectionError(`connection to the agent failed: ${err.message}`)));
    socket.on('close', () => this.shutdown(new RpcConnectionError('client closed')));
  }

  /**
   * Dials `addr` (host:port), performs the handshake and, with a token, the auth step
   * (ClientFromConfig). Errors read as Go's: "dial tcp 127.0.0.1:7373: connect: connection refused".
   */
  static async connect(addr: string, options: RpcClientOptions = {}): Promise<RpcClient> {
    const { host, port } = splitHostPort(addr);
    const timeoutMs = options.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
    const socket = await dial(addr, host, port, timeoutMs);
    const client = new RpcClient(socket);
    try {
      await client.call('handshake', { Version: RPC_VERSION });
      if (options.authKey !== undefined && options.authKey !== '') await client.call('auth', { AuthKey: options.authKey });
    } catch (err) {
      client.close();
      throw err;
    }
    return client;
  }

  /** Sends a request and waits for its response, error text and body both (key commands send a body with an error). */
  async request<C extends RpcCommandName>(command: C, ...body: BodyArgs<RpcRequestBody<C>>): Promise<RpcReply<RpcResponseBody<C>>> {
    const reply = await this.send(command, null, body);
    return reply as RpcReply<RpcResponseBody<C>>;
  }

  /** Like request(), but an error from the agent throws RpcAgentError (genericRPC). */
  async call<C extends RpcCommandName>(command: C, ...body: BodyArgs<RpcRequestBody<C>>): Promise<RpcResponseBody<C> | null> {
    const reply = await this.request(command, ...body);
    if (reply.error !== '') throw new RpcAgentError(reply.error);
    return reply.body;
  }

  /**
   * Starts a streaming command (query, monitor, stream). Resolves once the agent accepted it
   * (throws RpcAgentError if it did not); records then arrive through onRecord until `ended`.
   */
  async stream<C extends 'query' | 'monitor' | 'stream'>(
    command: C,
    body: RpcRequestBody<C>,
    onRecord: (record: RpcRecord) => void,
  ): Promise<RpcStream> {
    let seq = 0n;
    const ended = new Promise<void>((resolve) => {
      seq = this.nextSeq();
      this.streamEnds.set(seq, resolve);
    });
    const reply = await this.send(command, onRecord, [body], seq);
    if (reply.error !== '') {
      this.endStream(seq);
      throw new RpcAgentError(reply.error);
    }
    return { seq, ended };
  }

  /** Ends a stream or monitor (Stop): its records are dropped from now on. */
  async stop(stream: RpcStream): Promise<void> {
    this.endStream(stream.seq);
    await this.call('stop', { Stop: stream.seq });
  }

  /** Resolves when the connection is closed, by either side. */
  closed(): Promise<void> {
    if (this.closedWith !== null) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  close(): void {
    this.shutdown(new RpcConnectionError('client closed'));
    this.socket.destroy();
  }

  private nextSeq(): bigint {
    this.seq += 1n;
    return this.seq;
  }

  private send(command: RpcCommandName, onRecord: Pending['onRecord'], body: unknown[], seq = this.nextSeq()): Promise<RpcReply<unknown>> {
    if (this.closedWith !== null) return Promise.reject(this.closedWith);
    return new Promise((resolve) => {
      this.pending.set(seq, { command, first: resolve, onRecord });
      // The body's type was checked by the public signatures; encodeRpcRequest cannot see it through the generic.
      const encode = encodeRpcRequest as (c: RpcCommandName, s: bigint, ...b: unknown[]) => Uint8Array;
      this.socket.write(encode(command, seq, ...body));
    }).then((reply) => reply as RpcReply<unknown>);
  }

  private receive(chunk: Buffer): void {
    try {
      this.decoder.push(chunk);
      for (let frame = this.decoder.next(); frame !== null; frame = this.decoder.next()) this.dispatch(frame.bytes);
    } catch (err) {
      const reason = err instanceof WireError ? err.message : String(err);
      this.shutdown(new RpcConnectionError(`the agent sent something that is not Serf RPC: ${reason}`));
      this.socket.destroy();
    }
  }

  private dispatch(bytes: Uint8Array): void {
    const expecting = this.expectBody;
    if (expecting === null) {
      const header = decodeRpc(responseHeaderSchema, bytes);
      const p = this.pending.get(header.Seq);
      if (p === undefined) return; // Go ignores a response nobody waits for
      if (p.first !== null) {
        if (responseBodySchema(p.command, header.Error) !== null) {
          this.expectBody = { seq: header.Seq, error: header.Error, first: true };
          return;
        }
        this.answer(header.Seq, p, header.Error, null);
        return;
      }
      this.expectBody = { seq: header.Seq, error: header.Error, first: false };
      return;
    }
    this.expectBody = null;
    const p = this.pending.get(expecting.seq);
    if (p === undefined) return;
    if (expecting.first) {
      const kind = responseBodySchema(p.command, expecting.error);
      this.answer(expecting.seq, p, expecting.error, kind === null ? null : decodeRpc(kind, bytes));
      return;
    }
    const record = decodeRpcRecord(p.command, bytes);
    if (!this.streamEnds.has(expecting.seq)) return; // stopped: the agent may still send a few
    p.onRecord?.(record);
    // A query's "done" record is its last (queryHandler deregisters on it).
    if (record.kind === 'query' && record.value.Type === 'done') {
      this.pending.delete(expecting.seq);
      this.endStream(expecting.seq);
    }
  }

  private answer(seq: bigint, p: Pending, error: string, body: unknown): void {
    const resolve = p.first;
    p.first = null;
    if (!rpcCommands[p.command].streaming || error !== '') this.pending.delete(seq);
    resolve?.({ error, body });
  }

  private endStream(seq: bigint): void {
    const end = this.streamEnds.get(seq);
    this.streamEnds.delete(seq);
    end?.();
  }

  private shutdown(reason: Error): void {
    if (this.closedWith !== null) return;
    this.closedWith = reason;
    for (const [, p] of this.pending) p.first?.({ error: reason.message, body: null });
    this.pending.clear();
    for (const seq of [...this.streamEnds.keys()]) this.endStream(seq);
    for (const wake of this.closeWaiters.splice(0)) wake();
  }
}

/** Go's net.SplitHostPort for the common shapes: host:port and [v6]:port. */
export function splitHostPort(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([0-9]+)$/.exec(addr);
  if (m === null) {
    const reason = addr.includes(':') && !addr.startsWith('[') && addr.indexOf(':') !== addr.lastIndexOf(':')
      ? 'too many colons in address'
      : 'missing port in address';
    throw new RpcConnectionError(`dial tcp: address ${addr}: ${reason}`);
  }
  const port = Number(m[3]);
  if (port > 65535) throw new RpcConnectionError(`dial tcp: address ${addr}: invalid port`);
  return { host: m[1] ?? m[2] ?? '', port };
}

/** Node's error codes as Go's net package words them, so the messages match serf's. */
const DIAL_ERRORS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connect: connection refused',
  EHOSTUNREACH: 'connect: no route to host',
  ENETUNREACH: 'connect: network is unreachable',
  ECONNRESET: 'read: connection reset by peer',
  EADDRNOTAVAIL: 'connect: cannot assign requested address',
};

function dial(addr: string, host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: host === '' ? '127.0.0.1' : host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new RpcConnectionError(`dial tcp ${addr}: i/o timeout`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const code = err.code ?? '';
      if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') reject(new RpcConnectionError(`dial tcp: lookup ${host}: no such host`));
      else reject(new RpcConnectionError(`dial tcp ${addr}: ${DIAL_ERRORS[code] ?? err.message}`));
    });
  });
}
