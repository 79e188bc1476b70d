// The catalog one node holds: every node's services and checks as gossip delivered them, each
// entry versioned by its owner (a higher version replaces, a lower or equal one is stale and
// loses), plus gossip's own view of each member (alive, failed, left) for Consul's serfHealth.
// `index` rises with every change a reader could see; blocking queries wait on it.
import { aggregateStatus, SERF_CHECK_ALIVE_OUTPUT, SERF_CHECK_FAILED_OUTPUT, SERF_CHECK_ID, SERF_CHECK_NAME, type Check, type HealthStatusName, type NodeCatalog, type Service } from './types.js';

/** Gossip's view of a member, as the catalog needs it. */
export type MemberHealth = 'alive' | 'failed' | 'left';

export interface CatalogMember {
  readonly name: string;
  /** The member's IP as text (what Consul calls the node's Address). */
  readonly address: string;
  readonly health: MemberHealth;
  readonly tags: ReadonlyMap<string, string>;
}

interface NodeRecord {
  state: NodeCatalog;
  /** Left the cluster: nothing of it is shown; only a newer version (a restart) brings it back. */
  removed: boolean;
}

/** One service instance with what a health reader needs (Consul's ServiceEntry). */
export interface Instance {
  readonly node: CatalogMember;
  readonly service: Service;
  /** The node's checks (serfHealth first) and the service's own. */
  readonly checks: Check[];
}

export type ApplyOutcome = 'new' | 'stale';

export class Catalog {
  private readonly records = new Map<string, NodeRecord>();
  private readonly members = new Map<string, CatalogMember>();
  /** Rises with every visible change; starts at 1 because Consul clients treat index 0 as an error. */
  private indexValue = 1;
  /** Called after every change with the new index (the runtime wakes blocking queries). */
  onChange: ((index: number) => void) | undefined;

  constructor(readonly localNode: string) {}

  get index(): number {
    return this.indexValue;
  }

  private bump(): void {
    this.indexValue++;
    this.onChange?.(this.indexValue);
  }

  // ---------------------------------------------------------------- writes

  /** A node's entry from gossip (or our own). Newer versions replace; the rest are stale. */
  apply(state: NodeCatalog): ApplyOutcome {
    const rec = this.records.get(state.node);
    // A state from before a leave may still be travelling: it is not newer than what we hold, so
    // it loses; one from a restart is newer than anything we hold and brings the node back.
    if (rec !== undefined && state.version <= rec.state.version) return 'stale';
    this.records.set(state.node, { state, removed: false });
    this.bump();
    return 'new';
  }

  /** What gossip says about a member (serf member events). */
  setMember(member: CatalogMember): void {
    const old = this.members.get(member.name);
    if (old !== undefined && old.health === member.health && old.address === member.address && sameTags(old.tags, member.tags)) return;
    this.members.set(member.name, member);
    const rec = this.records.get(member.name);
    if (member.health === 'left' && rec !== undefined && !rec.removed) rec.removed = true;
    else if (member.health === 'alive' && rec !== undefined && rec.removed && old?.health === 'left') {
      // Back after a leave in the same process (same versions): accept whatever it sends next.
      this.records.set(member.name, { state: { ...rec.state, version: 0, services: [], checks: [] }, removed: false });
    }
    this.bump();
  }

  /** The member is gone for good (reaped): forget it and its services. */
  removeMember(name: string): void {
    const hadMember = this.members.delete(name);
    const rec = this.records.get(name);
    if (rec !== undefined) rec.removed = true;
    if (hadMember || rec !== undefined) this.bump();
  }

  // ---------------------------------------------------------------- anti-entropy views

  /** Node → version for every entry we hold (removed ones too: their version still rules out stale states). */
  versions(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, rec] of this.records) out.set(name, rec.state.version);
    return out;
  }

  version(node: string): number {
    return this.records.get(node)?.state.version ?? -1;
  }

  stateOf(node: string): NodeCatalog | undefined {
    return this.records.get(node)?.state;
  }

  /** How many nodes' entries are visible (not removed). */
  get size(): number {
    let n = 0;
    for (const rec of this.records.values()) if (!rec.removed) n++;
    return n;
  }

  // ---------------------------------------------------------------- reads (what the HTTP API and DNS serve)

  member(name: string): CatalogMember | undefined {
    return this.members.get(name);
  }

  /** Visible nodes: every member that has not left, with or without services. */
  nodes(): CatalogMember[] {
    const out: CatalogMember[] = [];
    for (const m of this.members.values()) if (m.health !== 'left') out.push(m);
    return out.sort((a, b) => cmp(a.name, b.name));
  }

  /** A visible node's services (none if it has no entry yet). */
  servicesOf(node: string): Service[] {
    const rec = this.records.get(node);
    if (rec === undefined || rec.removed || this.members.get(node)?.health === 'left') return [];
    return [...rec.state.services];
  }

  /** Consul's serfHealth for a member. */
  serfCheck(member: CatalogMember): Check {
    const alive = member.health === 'alive';
    return {
      CheckID: SERF_CHECK_ID,
      Name: SERF_CHECK_NAME,
      Status: alive ? 'passing' : 'critical',
      Notes: '',
      Output: alive ? SERF_CHECK_ALIVE_OUTPUT : SERF_CHECK_FAILED_OUTPUT,
      ServiceID: '',
      ServiceName: '',
      Type: '',
    };
  }

  /** Every check of a visible node: serfHealth, then its own. */
  checksOf(node: string): Check[] {
    const member = this.members.get(node);
    if (member === undefined || member.health === 'left') return [];
    const rec = this.records.get(node);
    const own = rec === undefined || rec.removed ? [] : rec.state.checks;
    return [this.serfCheck(member), ...own];
  }

  /** Service name → union of tags, over every visible node (Consul /v1/catalog/services). */
  serviceNames(): Map<string, string[]> {
    const out = new Map<string, Set<string>>();
    for (const node of this.nodes()) {
      for (const s of this.servicesOf(node.name)) {
        let tags = out.get(s.Service);
        if (tags === undefined) out.set(s.Service, (tags = new Set()));
        for (const t of s.Tags) tags.add(t);
      }
    }
    return new Map([...out].sort((a, b) => cmp(a[0], b[0])).map(([k, v]) => [k, [...v].sort(cmp)]));
  }

  /**
   * Instances of a service (optionally with every one of `tags`, compared case-insensitively as
   * Consul does), with their node's and own checks. `ignoreCase` matches the name that way too (DNS).
   */
  instances(serviceName: string, tags: readonly string[] = [], ignoreCase = false): Instance[] {
    const out: Instance[] = [];
    const wanted = ignoreCase ? serviceName.toLowerCase() : serviceName;
    for (const node of this.nodes()) {
      const services = this.servicesOf(node.name).filter(
        (s) => (ignoreCase ? s.Service.toLowerCase() : s.Service) === wanted && tags.every((t) => s.Tags.some((x) => x.toLowerCase() === t.toLowerCase())),
      );
      if (services.length === 0) continue;
      const nodeChecks = this.checksOf(node.name);
      for (const service of services) {
        const checks = nodeChecks.filter((c) => c.ServiceID === '' || c.ServiceID === service.ID);
        out.push({ node, service, checks });
      }
    }
    return out;
  }

  /** Instances whose every check passes (Consul ?passing; DNS answers only these). */
  passingInstances(serviceName: string, tags: readonly string[] = [], ignoreCase = false): Instance[] {
    return this.instances(serviceName, tags, ignoreCase).filter((i) => aggregateStatus(i.checks) === 'passing');
  }

  /** Every check of every visible node in a given state ('any': all). */
  checksInState(state: HealthStatusName | 'any'): Array<Check & { Node: string }> {
    const out: Array<Check & { Node: string }> = [];
    for (const node of this.nodes()) for (const c of this.checksOf(node.name)) if (state === 'any' || c.Status === state) out.push({ ...c, Node: node.name });
    return out;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sameTags(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
