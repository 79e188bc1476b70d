// The services and checks registered on this node: the only entry this node may change. Every
// change raises the version; the gossip layer decides when the new entry goes out.
import { CATALOG_LIMITS, type Check, type HealthStatusName, type NodeCatalog, type Service } from './types.js';

export class CatalogError extends Error {
  override readonly name = 'CatalogError';
}

export class LocalCatalog {
  private readonly services = new Map<string, Service>();
  private readonly checks = new Map<string, Check>();
  private versionValue: number;

  /**
   * `versionBase`: where versions start. The runtime passes wall-clock microseconds, so a
   * restarted agent's entry is newer than anything its previous run gossiped.
   */
  constructor(
    readonly node: string,
    versionBase: number,
  ) {
    this.versionValue = versionBase;
  }

  get version(): number {
    return this.versionValue;
  }

  /** Jumps past a version of our own entry seen in gossip (a previous run's), as a refutation. */
  witness(version: number): void {
    if (version >= this.versionValue) this.versionValue = version + 1;
  }

  /** The entry as it stands now, at a fresh version. */
  nextState(): NodeCatalog {
    this.versionValue++;
    return { node: this.node, version: this.versionValue, services: [...this.services.values()], checks: [...this.checks.values()] };
  }

  service(id: string): Service | undefined {
    return this.services.get(id);
  }

  allServices(): Service[] {
    return [...this.services.values()];
  }

  check(id: string): Check | undefined {
    return this.checks.get(id);
  }

  allChecks(): Check[] {
    return [...this.checks.values()];
  }

  /** Adds or replaces a service and its checks (a re-registration replaces the service's old checks). */
  registerService(service: Service, checks: readonly Check[]): void {
    if (!this.services.has(service.ID) && this.services.size >= CATALOG_LIMITS.servicesPerNode) {
      throw new CatalogError(`too many services on this node (limit ${CATALOG_LIMITS.servicesPerNode}): deregister some first`);
    }
    const oldChecks = [...this.checks.values()].filter((c) => c.ServiceID === service.ID && !checks.some((n) => n.CheckID === c.CheckID));
    if (this.checks.size - oldChecks.length + checks.length > CATALOG_LIMITS.checksPerNode) {
      throw new CatalogError(`too many checks on this node (limit ${CATALOG_LIMITS.checksPerNode}): deregister some first`);
    }
    for (const c of oldChecks) this.checks.delete(c.CheckID);
    this.services.set(service.ID, service);
    for (const c of checks) this.checks.set(c.CheckID, { ...c, ServiceID: service.ID, ServiceName: service.Service });
  }

  /** Removes a service and its checks; false if there was none. */
  deregisterService(id: string): boolean {
    if (!this.services.delete(id)) return false;
    for (const c of [...this.checks.values()]) if (c.ServiceID === id) this.checks.delete(c.CheckID);
    return true;
  }

  registerCheck(check: Check): void {
    if (check.ServiceID !== '' && !this.services.has(check.ServiceID)) {
      throw new CatalogError(`ServiceID "${check.ServiceID}" does not exist`);
    }
    if (!this.checks.has(check.CheckID) && this.checks.size >= CATALOG_LIMITS.checksPerNode) {
      throw new CatalogError(`too many checks on this node (limit ${CATALOG_LIMITS.checksPerNode}): deregister some first`);
    }
    const serviceName = check.ServiceID === '' ? '' : (this.services.get(check.ServiceID)?.Service ?? '');
    this.checks.set(check.CheckID, { ...check, ServiceName: serviceName });
  }

  deregisterCheck(id: string): boolean {
    return this.checks.delete(id);
  }

  /** A check's new result; returns whether anything changed (unchanged results need no gossip). */
  updateCheck(id: string, status: HealthStatusName, output: string): boolean {
    const c = this.checks.get(id);
    if (c === undefined) throw new CatalogError(`Unknown check ID "${id}". Ensure that the check ID is passed, not the check name.`);
    const trimmed = truncateOutput(output);
    if (c.Status === status && c.Output === trimmed) return false;
    this.checks.set(id, { ...c, Status: status, Output: trimmed });
    return true;
  }
}

/** Consul keeps at most 4 KiB of a check's output (agent/checks BufSize), and says so. */
export function truncateOutput(output: string): string {
  const bytes = new TextEncoder().encode(output);
  if (bytes.length <= CATALOG_LIMITS.checkOutputBytes) return output;
  const cut = new TextDecoder().decode(bytes.subarray(0, CATALOG_LIMITS.checkOutputBytes)).replace(/\uFFFD$/, '');
  return `${cut} ... (captured ${CATALOG_LIMITS.checkOutputBytes} of ${bytes.length} bytes)`;
}
