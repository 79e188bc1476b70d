// One shoal agent: the Serf layer over the membership core, run on real sockets, with its
// snapshot file, its logs and the event stream the RPC server and handlers follow.
import { appendFileSync, closeSync, truncateSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { EventEmitter } from 'node:events';
import { lookup } from 'node:dns/promises';
import type { LogLevel } from '../protocol/effects.js';
import type { ProfileName } from '../protocol/config.js';
import type { Serf, SerfEvent } from '../cluster/serf.js';
import { ShoalNode } from '../catalog/node.js';
import type { SerfConfig } from '../cluster/config.js';
import { COMPACT_TMP_EXT, replaySnapshot, Snapshotter, type SnapshotReplay, type SnapshotWrite } from '../cluster/snapshot.js';
import { Keyring } from '../wire/encryption.js';
import { monotonicMs } from '../runtime/clock.js';
import { osRandomBytes, osSeededRng } from '../runtime/random.js';
import { ipBytes, Transport } from '../runtime/transport.js';
import { addressToString, ipToString, type Address } from '../protocol/address.js';
import { MemberStatus } from '../cluster/member.js';
import { MdnsDiscovery, type DiscoverConfig } from './discover.js';

export interface AgentConfig {
  readonly nodeName: string;
  readonly bindIp: string;
  readonly bindPort: number;
  /** What peers use to reach us; defaults to the bind address (which must then not be 0.0.0.0). */
  readonly advertiseIp?: string;
  readonly advertisePort?: number;
  readonly tags: ReadonlyMap<string, string>;
  readonly profile: ProfileName;
  /** Base64 keys; the first is primary. Empty: no encryption. */
  readonly keys: readonly string[];
  readonly snapshotPath?: string;
  readonly rejoinAfterLeave: boolean;
  readonly protocol: number;
  readonly logLevel: LogLevel;
  /** Serf settings the agent config may change (reconnect_timeout, tombstone_timeout, …). */
  readonly serf?: SerfOverrides;
  /** Where the keyring is saved (JSON array of base64 keys) whenever a key query changes it. */
  readonly keyringFile?: string;
  /** Where setTags saves the tags (JSON object) before gossiping them, as Serf's -tags-file. */
  readonly tagsFile?: string;
  /** Takes every log line instead of the default stderr output (the caller filters by level). */
  readonly logOutput?: (line: LogLine) => void;
  /** mDNS discovery (Serf's -discover): advertise this agent and join the others found. */
  readonly discover?: DiscoverConfig;
}

/** The Serf settings `serf agent` exposes in its config file. */
export type SerfOverrides = Partial<
  Pick<
    SerfConfig,
    | 'reconnectIntervalMs'
    | 'reconnectTimeoutMs'
    | 'tombstoneTimeoutMs'
    | 'broadcastTimeoutMs'
    | 'querySizeLimit'
    | 'queryResponseSizeLimit'
    | 'userEventSizeLimit'
    | 'enableNameConflictResolution'
    | 'disableCoordinates'
  >
>;

const LEVELS: Record<LogLevel, number> = { DEBUG: 0, INFO: 1, WARN: 2, ERR: 3 };

export interface LogLine {
  readonly level: LogLevel;
  readonly message: string;
  readonly atMs: number;
}

/** Events: 'serf' (SerfEvent), 'log' (LogLine), 'shutdown'. */
export class Agent extends EventEmitter {
  readonly serf: Serf;
  /** Serf plus the gossiped catalog (src/catalog): the engine the transport drives. */
  readonly node: ShoalNode;
  readonly transport: Transport;
  readonly keyring: Keyring | undefined;
  private snapshotFd: number | null = null;
  private discovery: MdnsDiscovery | undefined;
  /** Consecutive failed snapshot writes (a full disk), for logging without a flood. */
  private snapshotWriteFailures = 0;
  readonly startedAt = Date.now();

  private constructor(readonly config: AgentConfig, transport: Transport, restored: SnapshotReplay | undefined) {
    super();
    this.transport = transport;
    this.keyring = config.keys.length > 0 ? Keyring.fromBase64(config.keys) : undefined;
    const advertiseIpText = config.advertiseIp ?? config.bindIp;
    const advertiseIp = ipBytes(advertiseIpText);
    if (advertiseIp === null || advertiseIpText === '0.0.0.0' || advertiseIpText === '::') {
      throw new Error(`advertise address ${advertiseIpText} is not usable: give -advertise with the IP peers should reach`);
    }
    const advertise: Address = { ip: advertiseIp, port: config.advertisePort ?? transport.port };
    let snapshot: { snapshotter: Snapshotter; write: (w: SnapshotWrite) => void } | undefined;
    if (config.snapshotPath !== undefined) {
      const snapshotter = new Snapshotter({ rejoinAfterLeave: config.rejoinAfterLeave }, restored);
      const path = config.snapshotPath;
      this.snapshotFd = openSync(path, 'a');
      snapshot = { snapshotter, write: (w) => this.writeSnapshot(path, w) };
    }
    this.node = new ShoalNode(
      {
        nodeName: config.nodeName,
        tags: config.tags,
        protocolVersion: config.protocol,
        ...config.serf,
        memberlist: { profile: config.profile, advertise, bindPort: transport.port, ...(this.keyring === undefined ? {} : { keyring: this.keyring }) },
      },
      {
        rng: osSeededRng(),
        randomBytes: osRandomBytes,
        onEvent: (event) => this.emit('serf', event),
        ...(config.keyringFile === undefined ? {} : { onKeyringChange: () => this.writeKeyringFile(config.keyringFile as string) }),
        ...(snapshot === undefined ? {} : { snapshot }),
        ...(restored === undefined ? {} : { restored }),
      },
      // Wall-clock microseconds: a restarted agent's catalog entry is newer than its previous run's.
      { versionBase: Date.now() * 1000 },
    );
    this.serf = this.node.serf;
  }

  /**
   * Binds the sockets, restores the snapshot, starts the protocol. `beforeStart` runs just
   * before the protocol starts, so listeners it adds see every event, the node's own join
   * included (Serf's agent registers its handlers before Start for the same reason).
   */
  static async start(config: AgentConfig, beforeStart?: (agent: Agent) => void): Promise<Agent> {
    let restored: SnapshotReplay | undefined;
    if (config.snapshotPath !== undefined && existsSync(config.snapshotPath)) {
      restored = replaySnapshot(readFileSync(config.snapshotPath), config.rejoinAfterLeave);
      // A torn last line (a crash mid-write) is cut off, so the next record starts on its own line.
      if (restored.tornBytes > 0) truncateSync(config.snapshotPath, restored.keptBytes);
    }
    let agent: Agent | undefined;
    const transport = new Transport({
      bindIp: config.bindIp,
      bindPort: config.bindPort,
      tcpTimeoutMs: 10_000,
      log: (level, message) => agent?.log(level, message),
    });
    await transport.listen();
    try {
      agent = new Agent(config, transport, restored);
    } catch (err) {
      await transport.close();
      throw err;
    }
    for (const w of restored?.warnings ?? []) agent.log('WARN', `agent: snapshot line ${w.line}: ${w.reason}`);
    const a = agent;
    beforeStart?.(a);
    transport.attach(a.node);
    transport.drive((_engine, now) => a.node.start(now));
    if (config.discover !== undefined) await a.startDiscovery(config.discover);
    return a;
  }

  /** command.go startAgent: mDNS starts after the agent, advertising memberlist's local address. */
  private async startDiscovery(config: DiscoverConfig): Promise<void> {
    const local = this.serf.localMember();
    try {
      this.discovery = await MdnsDiscovery.start(config, { nodeName: this.config.nodeName, ip: ipToString(local.addr), port: local.port }, {
        join: (addresses, replay) => this.join(addresses, replay),
        isAliveMember: (address) => this.serf.members().some((m) => m.status === MemberStatus.alive && addressToString({ ip: m.addr, port: m.port }) === address),
        log: (level, message) => this.log(level, message),
      });
    } catch (err) {
      await this.shutdown();
      throw new Error(`Error starting mDNS listener: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  log(level: LogLevel, message: string): void {
    const line: LogLine = { level, message, atMs: Date.now() };
    this.emit('log', line);
    if (this.config.logOutput !== undefined) this.config.logOutput(line);
    else if (LEVELS[level] >= LEVELS[this.config.logLevel]) {
      process.stderr.write(`${new Date().toISOString()} [${level}] ${message}\n`);
    }
  }

  /** serf.go writeKeyringFile: the keys, primary first, as an indented JSON array, mode 0600. */
  private writeKeyringFile(path: string): string | null {
    if (this.keyring === undefined) return null;
    const keys = this.keyring.keys().map((k) => Buffer.from(k).toString('base64'));
    try {
      writeFileSync(path, JSON.stringify(keys, null, 2), { mode: 0o600 });
      return null;
    } catch (err) {
      return `Failed to write keyring file: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  /**
   * Changes this node's tags; with a tags file, saves them there first (agent.go SetTags).
   * Returns an error message if the file could not be written (the tags are then not changed).
   */
  setTags(tags: ReadonlyMap<string, string>): Promise<string | null> {
    if (this.config.tagsFile !== undefined) {
      try {
        writeFileSync(this.config.tagsFile, JSON.stringify(Object.fromEntries(tags), null, 2), { mode: 0o600 });
      } catch (err) {
        const message = `Failed to write tags file: ${err instanceof Error ? err.message : String(err)}`;
        this.log('ERR', `agent: ${message}`);
        return Promise.resolve(message);
      }
    }
    return new Promise((resolve) => {
      try {
        this.act((serf, now) => serf.setTags(now, tags, () => resolve(null)));
      } catch (err) {
        resolve(err instanceof Error ? err.message : String(err));
      }
    });
  }

  private writeSnapshot(path: string, w: SnapshotWrite): void {
    try {
      if (w.compact !== undefined) {
        const tmp = path + COMPACT_TMP_EXT;
        writeFileSync(tmp, w.compact);
        const fd = openSync(tmp, 'r+');
        fsyncSync(fd);
        closeSync(fd);
        renameSync(tmp, path);
        if (this.snapshotFd !== null) closeSync(this.snapshotFd);
        this.snapshotFd = openSync(path, 'a');
      }
      if (w.append.length > 0) appendFileSync(this.snapshotFd ?? path, w.append.join(''));
      if (w.sync && this.snapshotFd !== null) fsyncSync(this.snapshotFd);
      if (this.snapshotWriteFailures > 0) {
        this.log('INFO', `agent: snapshot ${path} is written again (${this.snapshotWriteFailures} writes failed; peers will fill in what they missed at the next start)`);
        this.snapshotWriteFailures = 0;
      }
    } catch (err) {
      // A full disk fails every write: say so at once, then every 100th time, not at every flush.
      if (this.snapshotWriteFailures++ % 100 === 0) {
        this.log('ERR', `agent: failed to write snapshot ${path}: ${err instanceof Error ? err.message : String(err)}${this.snapshotWriteFailures > 1 ? ` (${this.snapshotWriteFailures} failures so far)` : ''}; the agent keeps running without it`);
      }
    }
  }

  /** Runs something on the Serf engine now and carries out its effects. */
  act<T>(fn: (serf: Serf, nowMs: number) => T): T {
    return this.actNode((node, now) => fn(node.serf, now));
  }

  /** Runs something on the node (Serf and the catalog) now and carries out its effects. */
  actNode<T>(fn: (node: ShoalNode, nowMs: number) => T): T {
    let out: T | undefined;
    let threw: unknown = null;
    this.transport.drive((_engine, now) => {
      try {
        out = fn(this.node, now);
      } catch (err) {
        threw = err;
      }
    });
    if (threw !== null) throw threw;
    return out as T;
  }

  /**
   * Joins through "ip", "ip:port", "[v6]:port", "host[:port]" or "name/…" addresses; host names
   * are looked up (A and AAAA) as memberlist's resolveAddr does.
   */
  async join(addresses: readonly string[], replay: boolean): Promise<{ num: number; errors: string[] }> {
    const parsed: Address[] = [];
    const errors: string[] = [];
    for (const text of addresses) {
      const a = parseJoinAddress(text, this.transport.port);
      if (a !== null) {
        parsed.push(a);
        continue;
      }
      const resolved = await resolveJoinAddress(text, this.transport.port);
      if (typeof resolved === 'string') errors.push(resolved);
      else parsed.push(...resolved);
    }
    if (parsed.length === 0) return { num: 0, errors };
    return new Promise((resolve) => {
      this.act((serf, now) => serf.join(now, parsed, !replay, (num, errs) => resolve({ num, errors: [...errors, ...errs] })));
    });
  }

  leave(): Promise<string | null> {
    return new Promise((resolve) => this.act((serf, now) => serf.leave(now, resolve)));
  }

  async shutdown(): Promise<void> {
    this.discovery?.stop();
    this.act((serf) => serf.shutdown());
    await this.transport.close();
    if (this.snapshotFd !== null) {
      closeSync(this.snapshotFd);
      this.snapshotFd = null;
    }
    this.emit('shutdown');
  }

  /** Seconds since start, for `info`/stats. */
  uptimeMs(): number {
    return monotonicMs();
  }

  static defaultNodeName(): string {
    return hostname();
  }
}

/** "ip", "ip:port", "[v6]:port" or "name/ip:port" (memberlist's join syntax); no DNS here. */
export function parseJoinAddress(text: string, defaultPort: number): Address | null {
  const bare = text.includes('/') ? text.slice(text.indexOf('/') + 1) : text;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(bare);
  const plain = /^([^:]+)(?::(\d+))?$/.exec(bare);
  const m = bracketed ?? plain ?? (bare.includes(':') ? [bare, bare, undefined] : null);
  if (m === null) return null;
  const ip = ipBytes(m[1] as string);
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (ip === null || !(port > 0 && port < 65536)) return null;
  return { ip, port };
}

/** Looks a host name up; returns its addresses, or an error message naming the address. */
async function resolveJoinAddress(text: string, defaultPort: number): Promise<Address[] | string> {
  const bare = text.includes('/') ? text.slice(text.indexOf('/') + 1) : text;
  const m = /^([A-Za-z0-9.-]+)(?::(\d+))?$/.exec(bare);
  if (m === null) return `${text}: not an address ("ip[:port]" or "host[:port]")`;
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (!(port > 0 && port < 65536)) return `${text}: port must be 1..65535`;
  try {
    const found = await lookup(m[1] as string, { all: true });
    const out: Address[] = [];
    for (const f of found) {
      const ip = ipBytes(f.address);
      if (ip !== null) out.push({ ip, port });
    }
    return out.length > 0 ? out : `${text}: no addresses found`;
  } catch (err) {
    return `${text}: ${err instanceof Error ? err.message : String(err)}`;
  }
}

export type { SerfEvent };
