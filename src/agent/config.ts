// `shoal agent` settings as the Serf agent takes them (cmd/serf/command/agent config.go,
// command.go readConfig/setupAgent, agent.go loadTagsFile/loadKeyringFile): JSON config files
// with Serf's keys, later files over earlier ones, a directory's *.json files in lexical order,
// flags over files; then the AgentConfig, the handler scripts and the agent-level settings.
// Every error names where the value came from (file and key, or flag), what is expected and
// what was found, on one line.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import type { NetworkInterfaceInfo } from 'node:os';
import type { LogLevel } from '../protocol/effects.js';
import type { ProfileName } from '../protocol/config.js';
import { parseIpv4, parseIpv6 } from '../protocol/address.js';
import { SERF_PROTOCOL_MAX, SERF_PROTOCOL_MIN } from '../cluster/config.js';
import type { AgentConfig, SerfOverrides } from './agent.js';
import { describeScript, isValidFilter, parseEventScript, type EventScript } from './handlers.js';
import { DefinitionError, parseServiceDefinition, type ServiceDefinition } from './service-definition.js';
import { checkClusterName, type DiscoverConfig } from './discover.js';

/** config.go DefaultBindPort. */
export const DEFAULT_BIND_PORT = 7946;
/** config.go DefaultConfig RPCAddr. */
export const DEFAULT_RPC_ADDR = '127.0.0.1:7373';
/** Consul's HTTP API and DNS addresses (shoal serves both; see docs/catalog.md). */
export const DEFAULT_HTTP_ADDR = '127.0.0.1:8500';
export const DEFAULT_DNS_ADDR = '127.0.0.1:8600';
/** command.go minRetryInterval and minBroadcastTimeout. */
const MIN_RETRY_INTERVAL_MS = 1_000;
const MIN_BROADCAST_TIMEOUT_MS = 1_000;

/** A configuration problem: the message is the whole explanation (one line). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Serf's Config as far as shoal implements it; absent = not set at this level. */
export interface Settings {
  nodeName?: string;
  role?: string;
  tags?: Map<string, string>;
  tagsFile?: string;
  bind?: string;
  advertise?: string;
  encryptKey?: string;
  keyringFile?: string;
  logLevel?: string;
  logJson?: boolean;
  rpcAddr?: string;
  rpcAuth?: string;
  protocol?: number;
  replayOnJoin?: boolean;
  startJoin?: string[];
  retryJoin?: string[];
  retryMaxAttempts?: number;
  retryIntervalMs?: number;
  rejoinAfterLeave?: boolean;
  eventHandlers?: string[];
  profile?: string;
  snapshotPath?: string;
  leaveOnTerminate?: boolean;
  skipLeaveOnInterrupt?: boolean;
  reconnectIntervalMs?: number;
  reconnectTimeoutMs?: number;
  tombstoneTimeoutMs?: number;
  broadcastTimeoutMs?: number;
  querySizeLimit?: number;
  queryResponseSizeLimit?: number;
  userEventSizeLimit?: number;
  disableNameResolution?: boolean;
  disableCoordinates?: boolean;
  httpAddr?: string;
  dnsAddr?: string;
  dataDir?: string;
  /** Consul-format service definitions (`service` and `services` keys), in file order. */
  services?: ServiceDefinition[];
  discover?: string;
  mdnsInterface?: string;
  mdnsDisableIpv4?: boolean;
  mdnsDisableIpv6?: boolean;
}

type Kind = 'string' | 'bool' | 'int' | 'strings' | 'tags' | 'duration' | 'service' | 'services';

interface Field {
  readonly key: keyof Settings;
  readonly kind: Kind;
  /** What a valid value looks like, and the check (returns false when invalid). */
  readonly check?: { readonly expected: string; readonly valid: (value: never) => boolean };
}

const ADDR = { expected: '"ip[:port]"', valid: (v: string) => parseAddrParts(v) !== null };
const HOST_PORT = { expected: '"ip:port"', valid: (v: string) => parseHostPortStrict(v.replace(/^localhost:/, '127.0.0.1:')) !== null };
const PROFILE = { expected: 'one of "lan", "wan", "local"', valid: (v: string) => v === 'lan' || v === 'wan' || v === 'local' };
const LOG_LEVEL = { expected: 'one of "trace", "debug", "info", "warn", "err"', valid: (v: string) => parseLogLevel(v) !== null };
const KEY = { expected: 'a base64-encoded 16, 24 or 32-byte key', valid: (v: string) => decodeKey(v) !== null };
const PROTOCOL = {
  expected: `an integer from ${SERF_PROTOCOL_MIN} to ${SERF_PROTOCOL_MAX}`,
  valid: (v: number) => v >= SERF_PROTOCOL_MIN && v <= SERF_PROTOCOL_MAX,
};
const NON_NEGATIVE = { expected: 'an integer of 0 or more', valid: (v: number) => v >= 0 };
const SIZE = { expected: 'a size in bytes above 0', valid: (v: number) => v > 0 };
const DISCOVER = { expected: 'a cluster name that fits one DNS label (no dots or spaces)', valid: (v: string) => v === '' || checkClusterName(v) === null };
const HANDLERS = {
  expected:
    '"[filter=]script" with filters member-join, member-leave, member-failed, member-update, member-reap, user, user:NAME, query, query:NAME (comma-separated)',
  valid: (v: string[]) => v.every((spec) => parseEventScript(spec).every(isValidFilter)),
};

/** config.go's mapstructure keys (Serf 0.9.4) that shoal implements. */
export const JSON_FIELDS: Readonly<Record<string, Field>> = {
  node_name: { key: 'nodeName', kind: 'string' },
  role: { key: 'role', kind: 'string' },
  tags: { key: 'tags', kind: 'tags' },
  tags_file: { key: 'tagsFile', kind: 'string' },
  bind: { key: 'bind', kind: 'string', check: ADDR },
  advertise: { key: 'advertise', kind: 'string', check: ADDR },
  encrypt_key: { key: 'encryptKey', kind: 'string', check: KEY },
  keyring_file: { key: 'keyringFile', kind: 'string' },
  log_level: { key: 'logLevel', kind: 'string', check: LOG_LEVEL },
  log_json: { key: 'logJson', kind: 'bool' },
  rpc_addr: { key: 'rpcAddr', kind: 'string', check: HOST_PORT },
  rpc_auth: { key: 'rpcAuth', kind: 'string' },
  protocol: { key: 'protocol', kind: 'int', check: PROTOCOL },
  replay_on_join: { key: 'replayOnJoin', kind: 'bool' },
  start_join: { key: 'startJoin', kind: 'strings' },
  retry_join: { key: 'retryJoin', kind: 'strings' },
  retry_max_attempts: { key: 'retryMaxAttempts', kind: 'int', check: NON_NEGATIVE },
  retry_interval: { key: 'retryIntervalMs', kind: 'duration' },
  rejoin_after_leave: { key: 'rejoinAfterLeave', kind: 'bool' },
  event_handlers: { key: 'eventHandlers', kind: 'strings', check: HANDLERS },
  profile: { key: 'profile', kind: 'string', check: PROFILE },
  snapshot_path: { key: 'snapshotPath', kind: 'string' },
  leave_on_terminate: { key: 'leaveOnTerminate', kind: 'bool' },
  skip_leave_on_interrupt: { key: 'skipLeaveOnInterrupt', kind: 'bool' },
  reconnect_interval: { key: 'reconnectIntervalMs', kind: 'duration' },
  reconnect_timeout: { key: 'reconnectTimeoutMs', kind: 'duration' },
  tombstone_timeout: { key: 'tombstoneTimeoutMs', kind: 'duration' },
  broadcast_timeout: { key: 'broadcastTimeoutMs', kind: 'duration' },
  query_size_limit: { key: 'querySizeLimit', kind: 'int', check: SIZE },
  query_response_size_limit: { key: 'queryResponseSizeLimit', kind: 'int', check: SIZE },
  user_event_size_limit: { key: 'userEventSizeLimit', kind: 'int', check: SIZE },
  disable_name_resolution: { key: 'disableNameResolution', kind: 'bool' },
  disable_coordinates: { key: 'disableCoordinates', kind: 'bool' },
  // shoal's own: Consul's addresses and service definitions (Consul spells them addresses.http,
  // ports.http; one flat key each is simpler and cannot be confused with Serf's).
  http_addr: { key: 'httpAddr', kind: 'string', check: HOST_PORT },
  dns_addr: { key: 'dnsAddr', kind: 'string', check: HOST_PORT },
  // Consul's data_dir: where services and checks registered through the API are kept.
  data_dir: { key: 'dataDir', kind: 'string' },
  service: { key: 'services', kind: 'service' },
  services: { key: 'services', kind: 'services' },
  discover: { key: 'discover', kind: 'string', check: DISCOVER },
};

/** The keys of the "mdns" object (newer Serf's MDNSConfig: interface, disable_ipv4, disable_ipv6). */
const MDNS_FIELDS: Readonly<Record<string, Field>> = {
  interface: { key: 'mdnsInterface', kind: 'string' },
  disable_ipv4: { key: 'mdnsDisableIpv4', kind: 'bool' },
  disable_ipv6: { key: 'mdnsDisableIpv6', kind: 'bool' },
};

/** Serf keys shoal knows but does not implement: named in the error rather than called unknown. */
const UNSUPPORTED_KEYS = new Set(['interface', 'enable_syslog', 'syslog_facility', 'statsite_addr', 'statsd_addr', 'enable_compression']);

/** The flags, by their Serf names, for the settings they set (see src/cli/agent.ts). */
export const FLAG_FIELDS: Readonly<Record<string, Field>> = {
  node: JSON_FIELDS['node_name'] as Field,
  role: JSON_FIELDS['role'] as Field,
  tag: { key: 'tags', kind: 'tags' },
  'tags-file': JSON_FIELDS['tags_file'] as Field,
  bind: JSON_FIELDS['bind'] as Field,
  advertise: JSON_FIELDS['advertise'] as Field,
  encrypt: JSON_FIELDS['encrypt_key'] as Field,
  'keyring-file': JSON_FIELDS['keyring_file'] as Field,
  'log-level': JSON_FIELDS['log_level'] as Field,
  'log-json': JSON_FIELDS['log_json'] as Field,
  'rpc-addr': JSON_FIELDS['rpc_addr'] as Field,
  'rpc-auth': JSON_FIELDS['rpc_auth'] as Field,
  protocol: JSON_FIELDS['protocol'] as Field,
  replay: JSON_FIELDS['replay_on_join'] as Field,
  join: JSON_FIELDS['start_join'] as Field,
  'retry-join': JSON_FIELDS['retry_join'] as Field,
  'retry-max': JSON_FIELDS['retry_max_attempts'] as Field,
  'retry-interval': JSON_FIELDS['retry_interval'] as Field,
  rejoin: JSON_FIELDS['rejoin_after_leave'] as Field,
  'event-handler': JSON_FIELDS['event_handlers'] as Field,
  profile: JSON_FIELDS['profile'] as Field,
  snapshot: JSON_FIELDS['snapshot_path'] as Field,
  'leave-on-terminate': JSON_FIELDS['leave_on_terminate'] as Field,
  'skip-leave-on-interrupt': JSON_FIELDS['skip_leave_on_interrupt'] as Field,
  'reconnect-timeout': JSON_FIELDS['reconnect_timeout'] as Field,
  'tombstone-timeout': JSON_FIELDS['tombstone_timeout'] as Field,
  'broadcast-timeout': JSON_FIELDS['broadcast_timeout'] as Field,
  'http-addr': JSON_FIELDS['http_addr'] as Field,
  'dns-addr': JSON_FIELDS['dns_addr'] as Field,
  'data-dir': JSON_FIELDS['data_dir'] as Field,
  discover: JSON_FIELDS['discover'] as Field,
  'mdns-iface': MDNS_FIELDS['interface'] as Field,
  'mdns-disable-ipv4': MDNS_FIELDS['disable_ipv4'] as Field,
  'mdns-disable-ipv6': MDNS_FIELDS['disable_ipv6'] as Field,
};

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** Go's time.ParseDuration, in milliseconds (null: not a duration). */
export function parseGoDuration(text: string): number | null {
  const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return null;
  let total = 0;
  const part = /^(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  while (s.length > 0) {
    const m = part.exec(s);
    if (m === null) return null;
    total += Number(m[1]) * (UNITS[m[2] as string] as number);
    s = s.slice(m[0].length);
  }
  return sign * total;
}

/** config.go AddrParts: "ip" or "ip:port" ("[v6]" / "[v6]:port"), port defaulting to 7946. */
export function parseAddrParts(text: string): { ip: string; port: number } | null {
  const withPort = parseHostPortStrict(text);
  if (withPort !== null) return withPort;
  const bracketed = /^\[([^\]]+)\]$/.exec(text);
  if (bracketed !== null) return parseIpv6(bracketed[1] as string) === null ? null : { ip: bracketed[1] as string, port: DEFAULT_BIND_PORT };
  return parseIpv4(text) === null ? null : { ip: text, port: DEFAULT_BIND_PORT };
}

/** "ip:port" or "[v6]:port", port 0–65535. */
export function parseHostPortStrict(text: string): { ip: string; port: number } | null {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (m === null) return null;
  const port = Number(m[3]);
  if (port > 65535) return null;
  if (m[1] !== undefined) return parseIpv6(m[1]) === null ? null : { ip: m[1], port };
  const host = m[2] as string;
  return parseIpv4(host) === null ? null : { ip: host, port };
}

/** Serf's log levels (TRACE is shown as DEBUG: shoal has no finer level). */
export function parseLogLevel(text: string): LogLevel | null {
  switch (text.toUpperCase()) {
    case 'TRACE':
    case 'DEBUG':
      return 'DEBUG';
    case 'INFO':
      return 'INFO';
    case 'WARN':
      return 'WARN';
    case 'ERR':
      return 'ERR';
    default:
      return null;
  }
}

/** base64.StdEncoding, then memberlist's key sizes (AES-128/192/256). */
export function decodeKey(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  const key = Buffer.from(text, 'base64');
  return key.length === 16 || key.length === 24 || key.length === 32 ? new Uint8Array(key) : null;
}

/** agent.go UnmarshalTags: "key=value", the key not empty. */
export function parseTagPair(text: string): [string, string] | null {
  const eq = text.indexOf('=');
  if (eq <= 0) return null;
  return [text.slice(0, eq), text.slice(eq + 1)];
}

/**
 * Converts one raw value to its setting, or throws a ConfigError naming `where` (the file and
 * field, or the flag). Flags arrive as strings (repeatable ones as arrays of strings), JSON as
 * JSON values.
 */
function convert(where: string, field: Field, raw: unknown, fromFlag: boolean): unknown {
  const fail = (expected: string): never => {
    throw new ConfigError(`${where}: expected ${expected}, got ${show(raw)}`);
  };
  let value: unknown;
  switch (field.kind) {
    case 'string':
      if (typeof raw !== 'string') fail('a string');
      value = raw;
      break;
    case 'bool':
      if (typeof raw !== 'boolean') fail('true or false');
      value = raw;
      break;
    case 'int': {
      const n = fromFlag && typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isSafeInteger(n)) fail(field.check?.expected ?? 'an integer');
      value = n;
      break;
    }
    case 'duration': {
      if (typeof raw !== 'string') fail('a duration such as "30s", "1m30s" or "24h"');
      const ms = parseGoDuration(raw as string);
      if (ms === null || ms < 0) fail('a duration such as "30s", "1m30s" or "24h"');
      value = ms;
      break;
    }
    case 'strings':
      if (!Array.isArray(raw) || !raw.every((s) => typeof s === 'string')) fail('an array of strings');
      value = [...(raw as string[])];
      break;
    case 'tags': {
      const tags = new Map<string, string>();
      if (fromFlag) {
        for (const pair of raw as string[]) {
          const kv = parseTagPair(pair);
          if (kv === null) throw new ConfigError(`${where}: expected "key=value", got ${show(pair)}`);
          tags.set(kv[0], kv[1]);
        }
      } else {
        if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('an object of string values');
        for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
          if (typeof v !== 'string') throw new ConfigError(`${where}: expected an object of string values, got ${show(v)} for tag ${show(k)}`);
          tags.set(k, v);
        }
      }
      value = tags;
      break;
    }
    case 'service':
    case 'services': {
      const list = field.kind === 'service' ? [raw] : raw;
      if (!Array.isArray(list)) fail('an array of service definitions');
      try {
        value = (list as unknown[]).map((def, i) => parseServiceDefinition(def, field.kind === 'service' ? where : `${where}[${i}]`));
      } catch (err) {
        if (err instanceof DefinitionError) throw new ConfigError(err.message);
        throw err;
      }
      break;
    }
  }
  const check = field.check as { expected: string; valid: (v: unknown) => boolean } | undefined;
  if (check !== undefined && !check.valid(value)) {
    if (field.kind === 'strings') {
      const bad = (value as string[]).find((v) => !check.valid([v]));
      throw new ConfigError(`${where}: expected ${check.expected}, got ${show(bad)}`);
    }
    fail(check.expected);
  }
  return value;
}

/** DecodeConfig for one file's text: every key known and well-typed, or a ConfigError. */
export function decodeConfig(path: string, text: string): Settings {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    // JSON.parse quotes the text around the error, control characters and all; keep the error on one line.
    const text = err instanceof Error ? err.message : String(err);
    const why = [...text].map((ch) => (ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f ? `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}` : ch)).join('');
    throw new ConfigError(`${path}: expected a JSON object: ${why}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${path}: expected a JSON object, got ${show(raw)}`);
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (name === 'mdns') {
      Object.assign(out, decodeMdns(`${path}: field "mdns"`, value));
      continue;
    }
    const field = JSON_FIELDS[name];
    if (field === undefined) {
      if (UNSUPPORTED_KEYS.has(name)) throw new ConfigError(`${path}: field ${show(name)}: a Serf setting shoal does not support`);
      throw new ConfigError(`${path}: unknown field ${show(name)} (known: ${Object.keys(JSON_FIELDS).join(', ')})`);
    }
    out[field.key] = convert(`${path}: field ${show(name)}`, field, value, false);
  }
  return out as Settings;
}

/** The "mdns" object: its keys become the flat mdns* settings. */
function decodeMdns(where: string, raw: unknown): Settings {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${where}: expected an object with interface, disable_ipv4, disable_ipv6, got ${show(raw)}`);
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    const field = MDNS_FIELDS[name];
    if (field === undefined) throw new ConfigError(`${where}: unknown field ${show(name)} (known: ${Object.keys(MDNS_FIELDS).join(', ')})`);
    out[field.key] = convert(`${where}.${name}`, field, value, false);
  }
  return out as Settings;
}

/** Settings from flag values keyed by Serf flag name (strings; repeatable flags as arrays). */
export function settingsFromFlags(flags: Readonly<Record<string, unknown>>): Settings {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    const field = FLAG_FIELDS[name];
    if (field === undefined) throw new ConfigError(`unknown flag -${name}`);
    out[field.key] = convert(`flag -${name}`, field, value, true);
  }
  return out as Settings;
}

/** config.go MergeConfig: b over a; tags merged, join lists and handlers appended. */
export function mergeSettings(a: Settings, b: Settings): Settings {
  const out: Settings = { ...a };
  for (const [key, value] of Object.entries(b) as Array<[keyof Settings, unknown]>) {
    if (value === undefined) continue;
    if (key === 'tags') out.tags = new Map([...(a.tags ?? []), ...(value as Map<string, string>)]);
    else if (key === 'startJoin' || key === 'retryJoin' || key === 'eventHandlers') out[key] = [...(a[key] ?? []), ...(value as string[])];
    else if (key === 'services') out.services = [...(a.services ?? []), ...(value as ServiceDefinition[])];
    // A boolean set false at a later level does not undo an earlier true (MergeConfig).
    else if (typeof value === 'boolean') (out as Record<string, unknown>)[key] = value || a[key] === true;
    else (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

/** ReadConfigPaths: files as given, directories' *.json files in lexical order. */
export function readConfigPaths(paths: readonly string[]): Settings {
  let result: Settings = {};
  const readOne = (path: string): Settings => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError(`${path}: cannot read: ${err instanceof Error ? err.message : String(err)}`);
    }
    return decodeConfig(path, text);
  };
  for (const path of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch (err) {
      throw new ConfigError(`${path}: cannot read: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!isDir) {
      result = mergeSettings(result, readOne(path));
      continue;
    }
    const names = readdirSync(path, { withFileTypes: true })
      .filter((e) => !e.isDirectory() && e.name.endsWith('.json'))
      .map((e) => e.name)
      .sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    for (const name of names) result = mergeSettings(result, readOne(joinPath(path, name)));
  }
  return result;
}

/** Everything `shoal agent` runs with once the settings are resolved. */
export interface ResolvedAgent {
  readonly agent: AgentConfig;
  readonly scripts: EventScript[];
  readonly startJoin: string[];
  readonly retryJoin: string[];
  readonly retryIntervalMs: number;
  readonly retryMaxAttempts: number;
  readonly replayOnJoin: boolean;
  readonly rpcAddr: string;
  readonly rpcAuth: string;
  readonly leaveOnTerminate: boolean;
  readonly skipLeaveOnInterrupt: boolean;
  readonly logJson: boolean;
  readonly httpAddr: string;
  readonly dnsAddr: string;
  /** Whether each address was set (flag or file): a default one that is taken is skipped with a warning. */
  readonly httpAddrSet: boolean;
  readonly dnsAddrSet: boolean;
  readonly services: ServiceDefinition[];
  /** Where API-registered services and checks are kept across restarts (Consul's data_dir); none: not kept. */
  readonly dataDir?: string;
  /** The bind address as Serf prints it. */
  readonly bindAddr: string;
  /** Lines Serf prints as "Warning: …" or informational notes at start. */
  readonly notes: string[];
}

export interface HostInfo {
  readonly hostname: string;
  readonly interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>;
  readonly readFile: (path: string) => string | null;
}

/** RFC 1918 and RFC 6598 ranges: what memberlist's GetPrivateIP prefers. */
function isPrivateIpv4(ip: string): boolean {
  const [a, b] = ip.split('.').map(Number) as [number, number];
  return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
}

/**
 * The IP to advertise when bound to 0.0.0.0 (memberlist picks a private IP itself): the first
 * private IPv4 of the host, else its first non-loopback IPv4; null when it has none.
 */
export function pickAdvertiseIp(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string | null {
  const v4 = Object.values(interfaces)
    .flatMap((list) => list ?? [])
    .filter((i) => i.family === 'IPv4' && !i.internal && !i.address.startsWith('169.254.'))
    .map((i) => i.address);
  return v4.find(isPrivateIpv4) ?? v4[0] ?? null;
}

function readKeyringFile(path: string, host: HostInfo): string[] {
  const text = host.readFile(path);
  if (text === null) throw new ConfigError(`keyring file ${path}: cannot read it (Serf needs it to exist when -keyring-file is given)`);
  let keys: unknown;
  try {
    keys = JSON.parse(text);
  } catch {
    keys = text;
  }
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) {
    throw new ConfigError(`keyring file ${path}: expected a JSON array of base64 keys, got ${show(keys)}`);
  }
  if (keys.length === 0) throw new ConfigError(`keyring file ${path}: expected at least one key, got []`);
  const bad = keys.find((k) => decodeKey(k) === null);
  if (bad !== undefined) throw new ConfigError(`keyring file ${path}: expected base64-encoded 16, 24 or 32-byte keys, got ${show(bad)}`);
  return keys as string[];
}

/** agent.go loadTagsFile: absent is fine (no tags yet); present must be an object of strings. */
export function readTagsFile(path: string, host: HostInfo): Map<string, string> | null {
  const text = host.readFile(path);
  if (text === null) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = text;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || !Object.values(raw).every((v) => typeof v === 'string')) {
    throw new ConfigError(`tags file ${path}: expected a JSON object of string values, got ${show(raw)}`);
  }
  return new Map(Object.entries(raw as Record<string, string>));
}

/**
 * Serf's defaults, then the files, then the flags (readConfig), checked and turned into what the
 * agent runs with (setupAgent, agent.go Create).
 */
export function resolveSettings(fromFiles: Settings, fromFlags: Settings, host: HostInfo): ResolvedAgent {
  const s = mergeSettings(mergeSettings({}, fromFiles), fromFlags);
  const notes: string[] = [];
  let tags = new Map(s.tags ?? []);
  if (s.role !== undefined && s.role !== '') {
    notes.push("Deprecation warning: 'Role' has been replaced with 'Tags'");
    tags.set('role', s.role);
  }
  for (const script of (s.eventHandlers ?? []).flatMap(parseEventScript)) {
    if (!isValidFilter(script)) throw new ConfigError(`Invalid event script: ${describeScript(script)}`);
  }
  let retryIntervalMs = s.retryIntervalMs ?? 30_000;
  if (retryIntervalMs < MIN_RETRY_INTERVAL_MS) {
    retryIntervalMs = MIN_RETRY_INTERVAL_MS;
    notes.push("Warning: 'RetryInterval' is too low. Setting to 1s");
  }
  let broadcastTimeoutMs = s.broadcastTimeoutMs;
  if (broadcastTimeoutMs !== undefined && broadcastTimeoutMs < MIN_BROADCAST_TIMEOUT_MS) {
    broadcastTimeoutMs = MIN_BROADCAST_TIMEOUT_MS;
    notes.push("Warning: 'BroadcastTimeout' is too low. Setting to 1s");
  }
  if (s.rejoinAfterLeave === true && s.snapshotPath === undefined) notes.push("Warning: 'RejoinAfterLeave' enabled without snapshot file");

  const bind = parseAddrParts(s.bind ?? '0.0.0.0') as { ip: string; port: number };
  let advertise = s.advertise === undefined || s.advertise === '' ? null : parseAddrParts(s.advertise);
  if (advertise === null && (bind.ip === '0.0.0.0' || bind.ip === '::')) {
    const ip = bind.ip === '0.0.0.0' ? pickAdvertiseIp(host.interfaces) : null;
    if (ip === null) {
      throw new ConfigError(`bind address ${bind.ip} needs -advertise (or "advertise"): this host has no non-loopback IPv4 address to advertise`);
    }
    advertise = { ip, port: bind.port };
    notes.push(`Advertising ${ip}:${bind.port} (the first non-loopback IPv4 address of this host)`);
  }

  let keys: string[] = [];
  if (s.keyringFile !== undefined && s.keyringFile !== '') {
    if (s.encryptKey !== undefined && s.encryptKey !== '') throw new ConfigError('Encryption key not allowed while using a keyring (give -encrypt or -keyring-file, not both)');
    keys = readKeyringFile(s.keyringFile, host);
  } else if (s.encryptKey !== undefined && s.encryptKey !== '') {
    keys = [s.encryptKey];
  }
  if (s.tagsFile !== undefined && s.tagsFile !== '') {
    if (tags.size > 0) throw new ConfigError('Tags config not allowed while using tag files (give -tag or -tags-file, not both)');
    tags = readTagsFile(s.tagsFile, host) ?? tags;
  }

  const serf: SerfOverrides = {
    ...(s.reconnectIntervalMs ? { reconnectIntervalMs: s.reconnectIntervalMs } : {}),
    ...(s.reconnectTimeoutMs ? { reconnectTimeoutMs: s.reconnectTimeoutMs } : {}),
    ...(s.tombstoneTimeoutMs ? { tombstoneTimeoutMs: s.tombstoneTimeoutMs } : {}),
    ...(broadcastTimeoutMs ? { broadcastTimeoutMs } : {}),
    querySizeLimit: s.querySizeLimit ?? 1024,
    queryResponseSizeLimit: s.queryResponseSizeLimit ?? 1024,
    userEventSizeLimit: s.userEventSizeLimit ?? 512,
    enableNameConflictResolution: s.disableNameResolution !== true,
    disableCoordinates: s.disableCoordinates === true,
  };
  let discover: DiscoverConfig | undefined;
  if (s.discover !== undefined && s.discover !== '') {
    if (s.mdnsDisableIpv4 === true && s.mdnsDisableIpv6 === true) throw new ConfigError('-mdns-disable-ipv4 and -mdns-disable-ipv6 together leave mDNS discovery nothing to run on: drop one');
    discover = {
      cluster: s.discover,
      ...(s.mdnsInterface !== undefined && s.mdnsInterface !== '' ? { iface: s.mdnsInterface } : {}),
      ipv4: s.mdnsDisableIpv4 !== true,
      ipv6: s.mdnsDisableIpv6 !== true,
      replay: s.replayOnJoin === true,
    };
  }
  const agent: AgentConfig = {
    nodeName: s.nodeName !== undefined && s.nodeName !== '' ? s.nodeName : host.hostname,
    bindIp: bind.ip,
    bindPort: bind.port,
    ...(advertise === null ? {} : { advertiseIp: advertise.ip, advertisePort: advertise.port }),
    tags,
    profile: (s.profile ?? 'lan') as ProfileName,
    keys,
    ...(s.snapshotPath !== undefined && s.snapshotPath !== '' ? { snapshotPath: s.snapshotPath } : {}),
    rejoinAfterLeave: s.rejoinAfterLeave === true,
    protocol: s.protocol ?? SERF_PROTOCOL_MAX,
    logLevel: parseLogLevel(s.logLevel ?? 'INFO') as LogLevel,
    serf,
    ...(s.keyringFile !== undefined && s.keyringFile !== '' ? { keyringFile: s.keyringFile } : {}),
    ...(s.tagsFile !== undefined && s.tagsFile !== '' ? { tagsFile: s.tagsFile } : {}),
    ...(discover === undefined ? {} : { discover }),
  };
  return {
    agent,
    scripts: (s.eventHandlers ?? []).flatMap(parseEventScript),
    startJoin: s.startJoin ?? [],
    retryJoin: s.retryJoin ?? [],
    retryIntervalMs,
    retryMaxAttempts: s.retryMaxAttempts ?? 0,
    replayOnJoin: s.replayOnJoin === true,
    rpcAddr: s.rpcAddr ?? DEFAULT_RPC_ADDR,
    rpcAuth: s.rpcAuth ?? '',
    httpAddr: s.httpAddr ?? DEFAULT_HTTP_ADDR,
    dnsAddr: s.dnsAddr ?? DEFAULT_DNS_ADDR,
    httpAddrSet: s.httpAddr !== undefined,
    dnsAddrSet: s.dnsAddr !== undefined,
    services: s.services ?? [],
    ...(s.dataDir !== undefined && s.dataDir !== '' ? { dataDir: s.dataDir } : {}),
    leaveOnTerminate: s.leaveOnTerminate === true,
    skipLeaveOnInterrupt: s.skipLeaveOnInterrupt === true,
    logJson: s.logJson === true,
    bindAddr: bind.ip.includes(':') ? `[${bind.ip}]:${bind.port}` : `${bind.ip}:${bind.port}`,
    notes,
  };
}

/** readConfig: the flags, then the config files they name, resolved (throws ConfigError). */
export function loadAgentConfig(flags: Readonly<Record<string, unknown>>, configPaths: readonly string[], host: HostInfo): ResolvedAgent {
  const fromFlags = settingsFromFlags(flags);
  const fromFiles = readConfigPaths(configPaths);
  return resolveSettings(fromFiles, fromFlags, host);
}
