// Runs a sans-IO engine (Serf over memberlist) on real sockets: UDP and TCP on one port, the
// real clock driving its timers. Everything the engine asks for (send, stream, timer, log) is
// carried out here; everything that arrives is handed to it with the current time.
import dgram from 'node:dgram';
import net from 'node:net';
import { addressToString, ipToString, parseIpv4, parseIpv6, type Address } from '../protocol/address.js';
import type { Effect, LogLevel } from '../protocol/effects.js';
import type { ProtocolEngine } from '../protocol/engine.js';
import type { StreamResult } from '../protocol/memberlist.js';
import { concatBytes } from '../wire/bytes.js';
import { parseStream } from '../wire/stream.js';
import { DEFAULT_LIMITS } from '../wire/limits.js';
import { monotonicMs } from './clock.js';

/** The engine a transport drives (see ProtocolEngine). */
export type Engine = ProtocolEngine;

export interface TransportOptions {
  readonly bindIp: string;
  readonly bindPort: number;
  /** How long an inbound TCP exchange may take (memberlist TCPTimeout). */
  readonly tcpTimeoutMs: number;
  readonly log: (level: LogLevel, message: string) => void;
  /** Most concurrent inbound TCP connections (memberlist refuses push/pulls past 128). */
  readonly maxInboundStreams?: number;
  /**
   * Most bytes buffered by all inbound TCP exchanges together (default 64 MiB). Each one is also
   * held to the codec's stream limit; past either, the connection is cut before it costs more.
   */
  readonly maxInboundBufferedBytes?: number;
}

/** See TransportOptions.maxInboundBufferedBytes. */
export const DEFAULT_MAX_INBOUND_BUFFERED_BYTES = 64 * 1024 * 1024;

/** Parses a literal IPv4/IPv6 address into the raw bytes memberlist carries. */
export function ipBytes(text: string): Uint8Array | null {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

/** Joins many chunks without spreading them as arguments (there may be very many). */
function joinChunks(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Room for the framing around a stream message that may itself be maxStreamBytes long. */
const STREAM_FRAMING_SLACK = 64 * 1024;

export class Transport {
  private udp: dgram.Socket | null = null;
  private tcp: net.Server | null = null;
  private engine: Engine | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sockets = new Set<net.Socket>();
  private closed = false;
  /** Counters for stats and metrics. */
  readonly counters = {
    udpIn: 0, udpOut: 0, udpBytesIn: 0, udpBytesOut: 0, tcpIn: 0, tcpOut: 0, sendErrors: 0,
    /** Inbound connections refused: over the concurrent-connection limit. */
    tcpRefused: 0,
    /** Inbound exchanges cut: over the per-stream or total buffer limit (hostile or broken peer). */
    tcpOversized: 0,
    /** Inbound exchanges that could not be read (bad framing, wrong key, plaintext when encrypted). */
    tcpMalformed: 0,
    /** Network input the engine threw on (a bug, logged with its stack; the input is dropped). */
    engineErrors: 0,
  };
  /** Bytes buffered by inbound exchanges right now (bounded by maxInboundBufferedBytes). */
  private inboundBuffered = 0;

  constructor(private readonly options: TransportOptions) {}

  /** Binds UDP and TCP on the same address and port; rejects with a readable error if taken. */
  async listen(): Promise<void> {
    const { bindIp, bindPort } = this.options;
    const family = bindIp.includes(':') ? 'udp6' : 'udp4';
    const udp = dgram.createSocket({ type: family, reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(bindPort, bindIp, () => {
        udp.off('error', reject);
        resolve();
      });
    }).catch((err: unknown) => {
      throw new Error(`cannot bind UDP ${bindIp}:${bindPort}: ${err instanceof Error ? err.message : String(err)}`);
    });
    udp.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
    udp.on('error', (err) => this.options.log('ERR', `memberlist: UDP socket error: ${err.message}`));
    this.udp = udp;
    const tcp = net.createServer((socket) => this.onConnection(socket));
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(bindPort, bindIp, () => {
        tcp.off('error', reject);
        resolve();
      });
    }).catch((err: unknown) => {
      udp.close();
      throw new Error(`cannot bind TCP ${bindIp}:${bindPort}: ${err instanceof Error ? err.message : String(err)}`);
    });
    this.tcp = tcp;
  }

  /** The port actually bound (useful with port 0). */
  get port(): number {
    const a = this.udp?.address();
    return a === undefined ? this.options.bindPort : a.port;
  }

  attach(engine: Engine): void {
    this.engine = engine;
    this.flush();
  }

  /** Runs `fn` on the engine with the current time, then carries out its effects. */
  drive(fn: (engine: Engine, nowMs: number) => void): void {
    const engine = this.engine;
    if (engine === null || this.closed) return;
    fn(engine, monotonicMs());
    this.flush();
  }

  flush(): void {
    const engine = this.engine;
    if (engine === null) return;
    for (const effect of engine.takeEffects()) this.perform(effect);
  }

  private perform(effect: Effect): void {
    if (this.closed) return;
    switch (effect.kind) {
      case 'send':
        return this.sendDatagram(effect.to, effect.bytes);
      case 'timer': {
        const delay = Math.max(0, effect.timer.atMs - monotonicMs());
        const handle = setTimeout(() => {
          this.timers.delete(handle);
          this.drive((engine, now) => engine.fireTimer(now, effect.timer));
        }, delay);
        this.timers.add(handle);
        return;
      }
      case 'stream':
        return this.openStream(effect);
      case 'log':
        return this.options.log(effect.level, effect.message);
    }
  }

  /**
   * Runs the engine on network input; if it throws (a bug — fuzzing hunts for these), the input
   * is dropped, counted and logged with the stack, and the agent keeps running: no packet from
   * anyone may take it down. Effects queued before the throw are still carried out.
   */
  private guarded(what: string, run: () => void): void {
    try {
      run();
    } catch (err) {
      this.counters.engineErrors++;
      this.options.log('ERR', `memberlist: internal error handling ${what} (dropped): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      this.flush();
    }
  }

  private sendDatagram(to: Address, bytes: Uint8Array): void {
    const udp = this.udp;
    if (udp === null) return;
    this.counters.udpOut++;
    this.counters.udpBytesOut += bytes.length;
    udp.send(bytes, to.port, ipToString(to.ip), (err) => {
      if (err !== null && err !== undefined) {
        this.counters.sendErrors++;
        this.options.log('ERR', `memberlist: failed to send to ${addressToString(to)}: ${err.message}`);
      }
    });
  }

  private onDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    this.counters.udpIn++;
    this.counters.udpBytesIn += msg.length;
    const ip = ipBytes(rinfo.address);
    if (ip === null) return;
    const bytes = new Uint8Array(msg.buffer, msg.byteOffset, msg.length);
    this.guarded(`a packet from ${rinfo.address}:${rinfo.port}`, () => this.drive((engine, now) => engine.receivePacket(now, { ip, port: rinfo.port }, bytes)));
  }

  /** An inbound TCP exchange: read one stream message, let the engine answer, close. */
  private onConnection(socket: net.Socket): void {
    const engine = this.engine;
    const limit = this.options.maxInboundStreams ?? 128;
    if (engine === null || this.closed || this.sockets.size >= limit) {
      if (engine !== null && !this.closed) this.counters.tcpRefused++;
      socket.destroy();
      return;
    }
    this.counters.tcpIn++;
    this.sockets.add(socket);
    const ip = ipBytes(socket.remoteAddress ?? '') ?? new Uint8Array(4);
    const from: Address = { ip, port: socket.remotePort ?? 0 };
    // Chunks are kept apart and joined only when the parser can use them: a large stream that
    // trickles in then costs linear time, not quadratic.
    let chunks: Uint8Array[] = [];
    let buffered = 0;
    let waitUntil = 1;
    let done = false;
    const release = (): void => {
      this.inboundBuffered -= buffered;
      buffered = 0;
      chunks = [];
    };
    const finish = (reply: Uint8Array | null): void => {
      if (done) return;
      done = true;
      release();
      if (reply !== null) socket.end(reply);
      else socket.end();
    };
    const perStreamLimit = (engine.streamOptions().limits?.maxStreamBytes ?? DEFAULT_LIMITS.maxStreamBytes) + STREAM_FRAMING_SLACK;
    const totalLimit = this.options.maxInboundBufferedBytes ?? DEFAULT_MAX_INBOUND_BUFFERED_BYTES;
    socket.setTimeout(this.options.tcpTimeoutMs, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.sockets.delete(socket);
      if (!done) release();
      done = true;
    });
    socket.on('data', (chunk: Buffer) => {
      if (done) return;
      if (buffered + chunk.length > perStreamLimit || this.inboundBuffered + chunk.length > totalLimit) {
        this.counters.tcpOversized++;
        const which = buffered + chunk.length > perStreamLimit ? `${perStreamLimit}-byte stream` : `${totalLimit}-byte total inbound`;
        this.options.log('ERR', `memberlist: cut an inbound stream from ${addressToString(from)} at ${buffered + chunk.length} bytes: over the ${which} limit`);
        done = true;
        release();
        socket.destroy();
        return;
      }
      this.inboundBuffered += chunk.length;
      buffered += chunk.length;
      chunks.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
      // The parser said how many more bytes it needs at least; parsing sooner is wasted work.
      if (buffered < waitUntil) return;
      const buf = chunks.length === 1 ? (chunks[0] as Uint8Array) : joinChunks(chunks, buffered);
      chunks = [buf];
      const parsed = parseStream(buf, engine.streamOptions());
      if (parsed.status === 'incomplete') {
        waitUntil = buffered + parsed.needed;
        return;
      }
      if (parsed.status === 'error') {
        this.counters.tcpMalformed++;
        this.options.log('ERR', `memberlist: failed to receive: ${parsed.error.reason} from ${addressToString(from)}`);
        return finish(engine.streamErrorReply(parsed.error.reason));
      }
      let reply: Uint8Array | null = null;
      this.guarded(`a stream from ${addressToString(from)}`, () =>
        this.drive((e, now) => {
          reply = e.handleStream(now, from, parsed.message);
        }),
      );
      finish(reply);
    });
    socket.on('end', () => finish(null));
  }

  /** An outbound TCP exchange (push/pull, fallback ping): write, read one reply, report by the deadline. */
  private openStream(effect: Extract<Effect, { kind: 'stream' }>): void {
    const engine = this.engine;
    if (engine === null) return;
    this.counters.tcpOut++;
    let settled = false;
    let buf: Uint8Array = new Uint8Array(0);
    const socket = net.connect({ host: ipToString(effect.to.ip), port: effect.to.port });
    this.sockets.add(socket);
    const settle = (result: StreamResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      this.timers.delete(deadline);
      socket.destroy();
      this.drive((e, now) => e.streamResult(now, effect.id, result));
    };
    const deadline = setTimeout(() => settle({ ok: false, reason: 'i/o timeout' }), Math.max(0, effect.deadlineMs - monotonicMs()));
    this.timers.add(deadline);
    socket.on('connect', () => {
      socket.write(effect.bytes);
      if (!effect.expectReply) settle({ ok: true, message: { type: 'err', body: { Error: '' } } });
    });
    socket.on('error', (err) => settle({ ok: false, reason: `dial tcp ${addressToString(effect.to)}: ${err.message}` }));
    socket.on('close', () => {
      this.sockets.delete(socket);
      settle({ ok: false, reason: 'EOF' });
    });
    const perStreamLimit = (engine.streamOptions().limits?.maxStreamBytes ?? DEFAULT_LIMITS.maxStreamBytes) + STREAM_FRAMING_SLACK;
    socket.on('data', (chunk: Buffer) => {
      if (settled) return;
      if (buf.length + chunk.length > perStreamLimit) {
        this.counters.tcpOversized++;
        return settle({ ok: false, reason: `reply over the ${perStreamLimit}-byte stream limit` });
      }
      buf = concatBytes(buf, chunk);
      const parsed = parseStream(buf, engine.streamOptions());
      if (parsed.status === 'complete') settle({ ok: true, message: parsed.message });
      else if (parsed.status === 'error') settle({ ok: false, reason: parsed.error.message });
    });
  }

  /** Closes the sockets and cancels every timer; the engine gets no more input. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await Promise.all([
      new Promise<void>((resolve) => (this.udp === null ? resolve() : this.udp.close(() => resolve()))),
      new Promise<void>((resolve) => (this.tcp === null ? resolve() : this.tcp.close(() => resolve()))),
    ]);
  }
}
