// The services view's state: the service catalog as one agent's HTTP API reports it (Consul's
// /v1/health/service shapes, reduced to what the screen shows), and what changed between two
// reads — an instance whose health moved is news for the event log. No terminal, no clock, no I/O.

export interface ServiceCheckInfo {
  readonly id: string;
  readonly name: string;
  /** Consul's check states: passing, warning, critical (maintenance counts as critical). */
  readonly status: string;
  /** First line of the check's output, trimmed. */
  readonly output: string;
}

export interface ServiceInstanceInfo {
  readonly node: string;
  readonly id: string;
  /** The service's address, or the node's when the service has none (as Consul's clients use it). */
  readonly address: string;
  readonly port: number;
  readonly tags: readonly string[];
  readonly checks: readonly ServiceCheckInfo[];
}

export interface ServiceInfo {
  readonly name: string;
  readonly instances: readonly ServiceInstanceInfo[];
}

export const HealthStates = ['passing', 'warning', 'critical'] as const;
export type HealthState = (typeof HealthStates)[number];

/**
 * Where the catalog stands: `none` (the source has no catalog: a simulation), `connecting` (no
 * answer yet), `ok`, or `unavailable` (no HTTP API there — a serf agent — or another agent's).
 */
export type CatalogState = 'none' | 'connecting' | 'ok' | 'unavailable';

/** Limits: a catalog larger than this shows its first services (sorted by name) only. */
export const SERVICE_LIMIT = 500;
export const INSTANCE_LIMIT = 2_000;

/** An instance's health: its worst check (Consul's AggregatedStatus; no checks is passing). */
export function instanceHealth(instance: ServiceInstanceInfo): HealthState {
  let worst: HealthState = 'passing';
  for (const c of instance.checks) {
    const s: HealthState = c.status === 'passing' ? 'passing' : c.status === 'warning' ? 'warning' : 'critical';
    if (HealthStates.indexOf(s) > HealthStates.indexOf(worst)) worst = s;
  }
  return worst;
}

export function healthCounts(service: ServiceInfo): Record<HealthState, number> {
  const counts: Record<HealthState, number> = { passing: 0, warning: 0, critical: 0 };
  for (const i of service.instances) counts[instanceHealth(i)]++;
  return counts;
}

/** A service's health for its row: critical if any instance is, else warning if any is, else passing. */
export function serviceHealth(service: ServiceInfo): HealthState {
  const c = healthCounts(service);
  return c.critical > 0 ? 'critical' : c.warning > 0 ? 'warning' : 'passing';
}

/** Every tag of any instance, once, sorted. */
export function serviceTags(service: ServiceInfo): string[] {
  return [...new Set(service.instances.flatMap((i) => i.tags))].sort();
}

/** What changed from one read of the catalog to the next, as lines for the event log. */
export function catalogChanges(before: readonly ServiceInfo[], after: readonly ServiceInfo[]): string[] {
  const key = (s: ServiceInfo, i: ServiceInstanceInfo): string => `${s.name}\u0000${i.node}\u0000${i.id}`;
  const old = new Map<string, HealthState>();
  for (const s of before) for (const i of s.instances) old.set(key(s, i), instanceHealth(i));
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const s of after) {
    for (const i of s.instances) {
      const k = key(s, i);
      seen.add(k);
      const was = old.get(k);
      const now = instanceHealth(i);
      const what = `service ${s.name} on ${i.node}${i.id === s.name ? '' : ` (${i.id})`}`;
      if (was === undefined) lines.push(`${what} registered: ${now}`);
      else if (was !== now) lines.push(`${what}: ${was} → ${now}${now === 'passing' ? '' : explain(i)}`);
    }
  }
  for (const s of before) for (const i of s.instances) if (!seen.has(key(s, i))) lines.push(`service ${s.name} on ${i.node}${i.id === s.name ? '' : ` (${i.id})`} deregistered`);
  return lines;
}

/** "(serfHealth: Agent not live or unreachable)": the first check that is not passing. */
function explain(i: ServiceInstanceInfo): string {
  const c = i.checks.find((x) => x.status !== 'passing');
  return c === undefined ? '' : ` (${c.id === '' ? c.name : c.id}${c.output === '' ? '' : `: ${c.output}`})`;
}
