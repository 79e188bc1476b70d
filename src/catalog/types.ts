// Services and health checks in Consul's shapes (consul/api agent.go, health.go; agent/structs),
// so the HTTP API can hand them to Consul clients as they are. Field names are Consul's.

/** Consul's check states (api/health.go HealthPassing …). */
export const HealthStatus = { passing: 'passing', warning: 'warning', critical: 'critical' } as const;
export type HealthStatusName = (typeof HealthStatus)[keyof typeof HealthStatus];

/** How bad a state is; the worst of several checks decides a service's health (Consul AggregatedStatus). */
export const HEALTH_SEVERITY: Readonly<Record<HealthStatusName, number>> = { passing: 0, warning: 1, critical: 2 };

export function isHealthStatus(value: unknown): value is HealthStatusName {
  return value === 'passing' || value === 'warning' || value === 'critical';
}

/** One service instance on one node (Consul's AgentService / NodeService). */
export interface Service {
  readonly ID: string;
  readonly Service: string;
  readonly Tags: readonly string[];
  /** Empty: the node's address (Consul falls back the same way in DNS and ServiceAddress). */
  readonly Address: string;
  readonly Port: number;
  readonly Meta: Readonly<Record<string, string>>;
}

/** One health check's current state (Consul's HealthCheck). ServiceID empty: a node-level check. */
export interface Check {
  readonly CheckID: string;
  readonly Name: string;
  readonly Status: HealthStatusName;
  readonly Notes: string;
  readonly Output: string;
  readonly ServiceID: string;
  readonly ServiceName: string;
  /** "http", "tcp", "ttl", "script", "serf" or "" (Consul's Type field). */
  readonly Type: string;
}

/**
 * What one node gossips about itself: all its services and checks at one version. The owner alone
 * changes it and raises `version` each time, so a higher version wins everywhere (stale updates lose).
 */
export interface NodeCatalog {
  readonly node: string;
  readonly version: number;
  readonly services: readonly Service[];
  readonly checks: readonly Check[];
}

/** Consul's node-level check for gossip health (agent/structs SerfCheckID and friends). */
export const SERF_CHECK_ID = 'serfHealth';
export const SERF_CHECK_NAME = 'Serf Health Status';
export const SERF_CHECK_ALIVE_OUTPUT = 'Agent alive and reachable';
export const SERF_CHECK_FAILED_OUTPUT = 'Agent not live or unreachable';

/** Limits that keep one node's entry, and so every message carrying it, bounded. */
export const CATALOG_LIMITS = {
  servicesPerNode: 512,
  checksPerNode: 1024,
  /** Consul truncates check output at 4 KiB (agent/checks BufSize); so do we, before gossip. */
  checkOutputBytes: 4096,
  tagsPerService: 64,
  metaPairsPerService: 64,
} as const;

/** Worst of several states; passing when there are none. */
export function aggregateStatus(checks: Iterable<{ readonly Status: HealthStatusName }>): HealthStatusName {
  let worst: HealthStatusName = 'passing';
  for (const c of checks) if (HEALTH_SEVERITY[c.Status] > HEALTH_SEVERITY[worst]) worst = c.Status;
  return worst;
}
