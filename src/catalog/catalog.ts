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
  /**
   * When a tombstone sweep first found the record's member gone (reaped by Serf, or never known);
   * null while the member is known. The record is forgotten `tombstoneTimeoutMs` later.
   */
  absentSinceMs: number | null;
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
    // A newer version is news from a running node (one whose member event may not be here yet):
    // its absence clock starts again at the next sweep.
    this.records.set(state.node, { state, removed: false, absentSinceMs: null });
    this.bump();
    return 'new';
  }

  /** What gossip says about a member (serf member events). */
  setMember(member: CatalogMember): void {
    const old = this.members.get(member.name);
    if (old !== undefined && old.health === member.health && old.address === member.address && sameTags(old.tags, member.tags)) return;
    this.members.set(member.name, member);
    const rec = this.records.get(member.name);
    if (rec !== undefined) rec.absentSinceMs = null;
    if (member.health === 'left' && rec !== undefined && !rec.removed) rec.removed = true;
    else if (member.health === 'alive' && rec !== undefined && rec.removed && old?.health === 'left') {
      // Back after a leave in the same process (same versions): accept whatever it sends next.
      this.records.set(member.name, { state: { ...rec.state, version: 0, services: [], checks: [] }, removed: false, absentSinceMs: null });
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

  /**
   * Forgets tombstones: the entries of nodes whose member Serf has forgotten (reaped: left, or
   * failed past the reconnect timeout) or never knew, once a sweep has found them so for
   * `tombstoneTimeoutMs` (Serf's tombstone timeout, 24 h by default, so a departed node costs
   * memory for at most reap + that). Time comes from the caller: the first sweep that finds a
   * member gone starts the clock, so expiry is exact to one sweep interval. Returns how many
   * entries were forgotten.
   *
   * Why forgetting cannot bring back what a node's newer version superseded:
   *  1. Until expiry the tombstone keeps the node's last version, so a stale state loses (apply).
   *  2. Tombstones and entries of absent members are never offered to peers (`versions()`), so
   *     once the agents have seen a node go, none gossips its old entry back to an agent that
   *     has forgotten it; and an entry received while its member is absent is no longer
   *     offered after the next sweep, so two agents cannot hand it back and forth forever.
   *  3. A stale entry that still arrives after expiry (from an agent cut off for longer than
   *     reap + timeout) is kept as an absent member's entry: readers see only Serf members, the
   *     node was reaped, so nothing of it is shown, and it expires in its turn.
   *  4. The node itself never goes back: versions start at its start time in microseconds and
   *     only rise, so if it returns (a restart), every state it sends is newer than any state of
   *     its earlier runs and replaces the stale one — at the latest with the hello it sends each
   *     peer on meeting it (the only window in which case 3's entry could show). The version
   *     that must survive is the one in the owner, not the one in the tombstone.
   */
  expireTombstones(nowMs: number, tombstoneTimeoutMs: number): number {
    let forgotten = 0;
    for (const [name, rec] of this.records) {
      if (name === this.localNode || this.members.has(name)) {
        rec.absentSinceMs = null;
        continue;
      }
      if (rec.absentSinceMs === null) rec.absentSinceMs = nowMs;
      else if (nowMs - rec.absentSinceMs >= tombstoneTimeoutMs) {
        this.records.delete(name);
        forgotten++;
      }
    }
    // Nothing a reader sees changes (absent members' entries are not shown): no index bump.
    return forgotten;
  }

  /** Entries held, tombstones included (for metrics and tests). */
  get heldEntries(): number {
    return this.records.size;
  }

  // ---------------------------------------------------------------- anti-entropy views

  /**
   * Node → version for the entries we offer peers: not tombstones, and not entries whose member
   * a sweep has found gone (see expireTombstones). Stale states are still ruled out by every
   * entry we hold, tombstones included (`version`).
   */
  versions(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, rec] of this.records) if (name === this.localNode || (!rec.removed && rec.absentSinceMs === null)) out.set(name, rec.state.version);
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
