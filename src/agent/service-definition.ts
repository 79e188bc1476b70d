// Service and check definitions in Consul's format (agent/config service and check blocks; the
// HTTP API's ServiceDefinition and CheckDefinition). Keys match case-insensitively and with or
// without underscores, as Consul's decoder lets them (Port, port; DeregisterCriticalServiceAfter,
// deregister_critical_service_after). Errors name where the value was, what was expected and
// what was found.
import { parseGoDuration } from './config.js';
import { isHealthStatus, type Check, type HealthStatusName, type Service } from '../catalog/types.js';

export class DefinitionError extends Error {
  override readonly name = 'DefinitionError';
}

/** How a check is run by the local agent. */
export type CheckKind =
  | { readonly type: 'http'; readonly url: string; readonly method: string; readonly header: Readonly<Record<string, readonly string[]>>; readonly body: string }
  | { readonly type: 'tcp'; readonly address: string }
  | { readonly type: 'script'; readonly args: readonly string[] }
  | { readonly type: 'ttl'; readonly ttlMs: number };

export interface CheckDefinition {
  readonly id: string;
  readonly name: string;
  readonly notes: string;
  readonly serviceId: string;
  readonly kind: CheckKind;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly initialStatus: HealthStatusName;
  /** 0: never. Otherwise the service goes once this check has been critical this long. */
  readonly deregisterCriticalAfterMs: number;
}

export interface ServiceDefinition {
  readonly service: Service;
  readonly checks: CheckDefinition[];
}

/** Consul's default check timeout (agent/checks: 10 s). */
const DEFAULT_TIMEOUT_MS = 10_000;
/** Consul refuses intervals under 1 s (MinInterval) by raising them; so do we. */
const MIN_INTERVAL_MS = 1_000;

type Obj = Record<string, unknown>;

function norm(key: string): string {
  return key.replace(/_/g, '').toLowerCase();
}

function show(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

class Reader {
  private readonly map = new Map<string, [string, unknown]>();
  constructor(
    readonly where: string,
    obj: Obj,
  ) {
    for (const [k, v] of Object.entries(obj)) this.map.set(norm(k), [k, v]);
  }

  has(key: string): boolean {
    const v = this.map.get(norm(key));
    return v !== undefined && v[1] !== null && v[1] !== undefined;
  }

  private raw(key: string): [string, unknown] | undefined {
    const v = this.map.get(norm(key));
    return v === undefined || v[1] === null || v[1] === undefined ? undefined : v;
  }

  fail(key: string, expected: string, got: unknown): never {
    const name = this.map.get(norm(key))?.[0] ?? key;
    throw new DefinitionError(`${this.where}.${name}: expected ${expected}, got ${show(got)}`);
  }

  string(key: string, dflt = ''): string {
    const r = this.raw(key);
    if (r === undefined) return dflt;
    if (typeof r[1] !== 'string') this.fail(key, 'a string', r[1]);
    return r[1];
  }

  port(key: string): number {
    const r = this.raw(key);
    if (r === undefined) return 0;
    if (typeof r[1] !== 'number' || !Number.isInteger(r[1]) || r[1] < 0 || r[1] > 65535) this.fail(key, 'a port number 0-65535', r[1]);
    return r[1];
  }

  strings(key: string): string[] {
    const r = this.raw(key);
    if (r === undefined) return [];
    if (!Array.isArray(r[1]) || !r[1].every((x) => typeof x === 'string')) this.fail(key, 'an array of strings', r[1]);
    return [...(r[1] as string[])];
  }

  stringMap(key: string): Record<string, string> {
    const r = this.raw(key);
    if (r === undefined) return {};
    if (typeof r[1] !== 'object' || Array.isArray(r[1]) || !Object.values(r[1] as Obj).every((x) => typeof x === 'string')) this.fail(key, 'an object of string values', r[1]);
    return { ...(r[1] as Record<string, string>) };
  }

  /** "10s"-style Go durations, or a number of nanoseconds (what Consul's API clients send). */
  duration(key: string): number {
    const r = this.raw(key);
    if (r === undefined) return 0;
    const v = r[1];
    if (typeof v === 'number' && v >= 0) return v / 1e6;
    const ms = typeof v === 'string' ? parseGoDuration(v) : null;
    if (ms === null || ms < 0) this.fail(key, 'a duration such as "10s" or "1m"', v);
    return ms;
  }

  object(key: string): Obj | undefined {
    const r = this.raw(key);
    if (r === undefined) return undefined;
    if (typeof r[1] !== 'object' || Array.isArray(r[1])) this.fail(key, 'an object', r[1]);
    return r[1] as Obj;
  }

  objects(key: string): Obj[] {
    const r = this.raw(key);
    if (r === undefined) return [];
    if (!Array.isArray(r[1]) || !r[1].every((x) => typeof x === 'object' && x !== null && !Array.isArray(x))) this.fail(key, 'an array of objects', r[1]);
    return r[1] as Obj[];
  }

  headers(key: string): Record<string, string[]> {
    const r = this.raw(key);
    if (r === undefined) return {};
    const v = r[1];
    if (typeof v !== 'object' || Array.isArray(v) || !Object.values(v as Obj).every((x) => Array.isArray(x) && x.every((s) => typeof s === 'string'))) {
      this.fail(key, 'an object of string arrays ({"Name": ["value"]})', v);
    }
    return v as Record<string, string[]>;
  }
}

/** A service definition (`service` block, or the register endpoint's body). */
export function parseServiceDefinition(raw: unknown, where: string): ServiceDefinition {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new DefinitionError(`${where}: expected an object, got ${show(raw)}`);
  const r = new Reader(where, raw as Obj);
  const name = r.string('Name');
  if (name === '') throw new DefinitionError(`${where}: Missing service name`);
  const id = r.string('ID', name) || name;
  const tags = r.strings('Tags');
  const service: Service = { ID: id, Service: name, Tags: tags, Address: r.string('Address'), Port: r.port('Port'), Meta: r.stringMap('Meta') };
  const checkObjs: Array<[Obj, string]> = [];
  const single = r.object('Check');
  if (single !== undefined) checkObjs.push([single, `${where}.check`]);
  r.objects('Checks').forEach((c, i) => checkObjs.push([c, `${where}.checks[${i}]`]));
  const checks = checkObjs.map(([c, w], i) => parseCheckDefinition(c, w, { serviceId: id, defaultId: checkObjs.length > 1 ? `service:${id}:${i + 1}` : `service:${id}` }));
  return { service, checks };
}

/** A check definition; for a service's check, `owner` gives its service and default ID. */
export function parseCheckDefinition(raw: unknown, where: string, owner?: { readonly serviceId: string; readonly defaultId: string }): CheckDefinition {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new DefinitionError(`${where}: expected an object, got ${show(raw)}`);
  const r = new Reader(where, raw as Obj);
  const serviceId = owner?.serviceId ?? r.string('ServiceID');
  let name = r.string('Name');
  const id = r.string('CheckID', r.string('ID')) || owner?.defaultId || name;
  if (name === '') name = owner !== undefined ? `Service '${owner.serviceId}' check` : '';
  if (id === '' && name === '') throw new DefinitionError(`${where}: Missing check name`);
  let kind: CheckKind;
  const intervalRaw = r.duration('Interval');
  const needsInterval = (what: string): number => {
    if (intervalRaw <= 0) throw new DefinitionError(`${where}: ${what} checks need an interval (such as "10s")`);
    return Math.max(MIN_INTERVAL_MS, intervalRaw);
  };
  let intervalMs = 0;
  if (r.has('TTL')) {
    const ttlMs = r.duration('TTL');
    if (ttlMs <= 0) r.fail('TTL', 'a duration above 0 such as "30s"', ttlMs);
    kind = { type: 'ttl', ttlMs };
  } else if (r.has('HTTP')) {
    const url = r.string('HTTP');
    if (!/^https?:\/\//.test(url)) r.fail('HTTP', 'an http:// or https:// URL', url);
    kind = { type: 'http', url, method: r.string('Method', 'GET') || 'GET', header: r.headers('Header'), body: r.string('Body') };
    intervalMs = needsInterval('HTTP');
  } else if (r.has('TCP')) {
    const address = r.string('TCP');
    if (!/^(\[[^\]]+\]|[^:]+):\d+$/.test(address)) r.fail('TCP', '"host:port"', address);
    kind = { type: 'tcp', address };
    intervalMs = needsInterval('TCP');
  } else if (r.has('Args') || r.has('ScriptArgs')) {
    const args = r.has('Args') ? r.strings('Args') : r.strings('ScriptArgs');
    if (args.length === 0) r.fail('Args', 'a command and its arguments', args);
    kind = { type: 'script', args };
    intervalMs = needsInterval('script');
  } else {
    throw new DefinitionError(`${where}: a check needs one of TTL, HTTP, TCP or Args (got ${show(Object.keys(raw as Obj))})`);
  }
  const status = r.string('Status', '');
  if (status !== '' && !isHealthStatus(status)) r.fail('Status', '"passing", "warning" or "critical"', status);
  const timeoutMs = r.duration('Timeout');
  return {
    id,
    name: name || id,
    notes: r.string('Notes'),
    serviceId,
    kind,
    intervalMs,
    timeoutMs: timeoutMs > 0 ? timeoutMs : DEFAULT_TIMEOUT_MS,
    // Consul starts checks critical unless told otherwise (structs.HealthCritical).
    initialStatus: status === '' ? 'critical' : (status as HealthStatusName),
    deregisterCriticalAfterMs: r.duration('DeregisterCriticalServiceAfter'),
  };
}

/** The check's state as first registered. */
export function initialCheck(def: CheckDefinition): Check {
  return {
    CheckID: def.id,
    Name: def.name,
    Status: def.initialStatus,
    Notes: def.notes,
    Output: '',
    ServiceID: def.serviceId,
    ServiceName: '',
    Type: def.kind.type,
  };
}
