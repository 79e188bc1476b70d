// Reading a scenario file: YAML parsed with line numbers kept (yaml's LineCounter and node
// ranges), then checked field by field against the format of sim/scenarios/scenario.schema.json.
// Every problem becomes a ScenarioError that says `file:line: what is expected`, the CLI's exit 2.
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node, type YAMLMap } from 'yaml';
import { PROFILES, type ProfileName, type Timings } from '../../src/protocol/config.js';
import { SeededRng } from '../../src/protocol/rng.js';
import type { LatencyModel } from '../network.js';
import {
  METRIC_NAMES, type ActionSpec, type Assertion, type FaultSpec, type LinkRule, type MetricName, type NodeSet, type Predicate,
  type Scenario, type ServiceSpec, type StartMode, type StateName, type TimelineEntry, type CatalogSettings,
} from './types.js';

export class ScenarioError extends Error {
  constructor(readonly file: string, readonly line: number, readonly expected: string) {
    super(`${file}:${line}: ${expected}`);
    this.name = 'ScenarioError';
  }
}

/** The most nodes a scenario may have (memory: every view is an n × n table). */
export const MAX_NODES = 5_000;
const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];
const TIMING_KEYS = Object.keys(PROFILES.lan) as Array<keyof Timings>;
const STATE_NAMES: readonly StateName[] = ['alive', 'suspect', 'failed', 'left'];
export const FAULT_KINDS = ['partition', 'one-way', 'isolate', 'flap', 'loss', 'duplicate', 'reorder', 'latency', 'pause', 'slow'] as const;
export const CATALOG_ACTION_KINDS = ['register', 'deregister', 'check-flap'] as const;
export const ACTION_KINDS = ['crash', 'restart', 'join', 'leave', 'tags', 'event', 'query', ...CATALOG_ACTION_KINDS] as const;
const TOP_KEYS = [
  'name', 'description', 'seed', 'nodes', 'start', 'profile', 'timing', 'latency', 'links', 'duration', 'heal', 'check', 'falsePositives', 'catalog',
  'timeline', 'assertions',
];
const CHECK_STATES = ['passing', 'warning', 'critical'] as const;

export function loadScenarioFile(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ScenarioError(file, 0, `cannot read the scenario file (${err instanceof Error ? err.message : String(err)})`);
  }
  return parseScenario(text, file);
}

/** Parses and checks a scenario; `file` names it in errors and reports. */
export function parseScenario(text: string, file: string): Scenario {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const firstError = doc.errors[0];
  if (firstError !== undefined) {
    const line = lineCounter.linePos(firstError.pos[0]).line;
    throw new ScenarioError(file, line, `valid YAML (${firstError.message.split('\n')[0]})`);
  }
  return new Checker(file, lineCounter).scenario(doc.contents);
}

type Any = Node | null | undefined;

class Checker {
  private nodeCount = 0;
  private nodeNames: string[] = [];
  private rng = new SeededRng(0);

  constructor(private readonly file: string, private readonly lines: LineCounter) {}

  line(node: Any): number {
    const offset = node?.range?.[0];
    return offset === undefined ? 1 : this.lines.linePos(offset).line;
  }

  fail(node: Any, expected: string): never {
    throw new ScenarioError(this.file, this.line(node), expected);
  }

  map(node: Any, what: string): YAMLMap<unknown, unknown> {
    if (!isMap(node)) this.fail(node, `${what}: expected a mapping (key: value lines)`);
    return node;
  }

  /** The map's entries by key, refusing keys not in `allowed`. */
  entries(node: Any, what: string, allowed: readonly string[]): Map<string, Node> {
    const m = this.map(node, what);
    const out = new Map<string, Node>();
    for (const pair of m.items) {
      const key = pair.key as Any;
      if (!isScalar(key) || typeof key.value !== 'string') this.fail(key, `${what}: expected text keys`);
      const name = key.value;
      if (!allowed.includes(name)) this.fail(key, `${what}: unknown key '${name}'; expected one of ${allowed.join(', ')}`);
      out.set(name, (pair.value ?? key) as Node);
    }
    return out;
  }

  scalar(node: Any): unknown {
    return isScalar(node) ? node.value : undefined;
  }

  string(node: Any, what: string): string {
    const v = this.scalar(node);
    if (typeof v !== 'string' || v === '') this.fail(node, `${what}: expected text`);
    return v;
  }

  number(node: Any, what: string, min: number, max: number, integer = false): number {
    const v = this.scalar(node);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
      this.fail(node, `${what}: expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
    }
    return v;
  }

  rate(node: Any, what: string): number {
    return this.number(node, what, 0, 1);
  }

  boolean(node: Any, what: string): boolean {
    const v = this.scalar(node);
    if (typeof v !== 'boolean') this.fail(node, `${what}: expected true or false`);
    return v;
  }

  /** A duration with its unit: 250ms, 10s, 2m, 1.5s. */
  duration(node: Any, what: string): number {
    const v = this.scalar(node);
    const match = typeof v === 'string' ? /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v.trim()) : null;
    if (match === null) this.fail(node, `${what}: expected a duration with a unit, like 250ms, 10s or 2m`);
    const factor = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
    return Math.round(Number(match[1]) * factor);
  }

  // ---------------------------------------------------------------- node sets

  /**
   * A node set: one text or a list of texts, each `node-3`, `node-0..node-9`, `all`,
   * `first N`, `last N`, `first 50%`, `last 50%` or `random N` (drawn from the seed).
   */
  nodes(node: Any, what: string, taken: ReadonlySet<number> = new Set()): NodeSet {
    const items = isSeq(node) ? node.items as Node[] : [node];
    if (items.length === 0) this.fail(node, `${what}: expected at least one node`);
    const out = new Set<number>();
    for (const item of items) for (const i of this.nodeTerm(item, what, taken)) out.add(i);
    if (out.size === 0) this.fail(node, `${what}: names no node`);
    return [...out].sort((a, b) => a - b);
  }

  private nodeTerm(node: Any, what: string, taken: ReadonlySet<number>): number[] {
    const text = this.string(node, what).trim();
    const n = this.nodeCount;
    const all = Array.from({ length: n }, (_, i) => i);
    const count = (spec: string): number => {
      const pct = /^(\d+(?:\.\d+)?)%$/.exec(spec);
      const k = pct !== null ? Math.round((Number(pct[1]) / 100) * n) : /^\d+$/.test(spec) ? Number(spec) : NaN;
      if (!Number.isInteger(k) || k < 1 || k > n) this.fail(node, `${what}: '${text}' should count 1 to ${n} nodes (a number or a percentage)`);
      return k;
    };
    if (text === 'all') return all;
    if (text === 'rest') return all.filter((i) => !taken.has(i));
    const words = text.split(/\s+/);
    if (words.length === 2) {
      const [word, spec] = words as [string, string];
      if (word === 'first') return all.slice(0, count(spec));
      if (word === 'last') return all.slice(n - count(spec));
      if (word === 'random') {
        const k = count(spec);
        const pool = [...all];
        for (let i = 0; i < k; i++) {
          const j = i + this.rng.int(n - i);
          [pool[i], pool[j]] = [pool[j] as number, pool[i] as number];
        }
        return pool.slice(0, k);
      }
    }
    const range = /^(.+)\.\.(.+)$/.exec(text);
    if (range !== null) {
      const a = this.nodeIndex(node, what, range[1] as string);
      const b = this.nodeIndex(node, what, range[2] as string);
      if (b < a) this.fail(node, `${what}: range '${text}' runs backwards`);
      return all.slice(a, b + 1);
    }
    return [this.nodeIndex(node, what, text)];
  }

  private nodeIndex(node: Any, what: string, name: string): number {
    const i = this.nodeNames.indexOf(name);
    if (i < 0) {
      this.fail(node, `${what}: expected a node name node-0 … node-${this.nodeCount - 1}, a range (node-0..node-9), all, first N, last N, first 50%, or random N; got '${name}'`);
    }
    return i;
  }

  // ---------------------------------------------------------------- the file

  scenario(root: Any): Scenario {
    const top = this.entries(root, 'scenario', TOP_KEYS);
    const need = (key: string): Node => {
      const v = top.get(key);
      if (v === undefined) this.fail(root, `scenario: missing '${key}'`);
      return v;
    };
    const seed = this.number(need('seed'), 'seed', 0, 0xffffffff, true);
    this.rng = new SeededRng(seed, 0x5ce4a410);
    this.nodeCount = this.number(need('nodes'), 'nodes', 1, MAX_NODES, true);
    this.nodeNames = Array.from({ length: this.nodeCount }, (_, i) => `node-${i}`);
    const name = top.has('name') ? this.string(top.get('name'), 'name') : basename(this.file, extname(this.file));
    const description = top.has('description') ? this.string(top.get('description'), 'description') : '';
    const profileNode = top.get('profile');
    const profile = profileNode === undefined ? 'lan' : this.string(profileNode, 'profile');
    if (!PROFILE_NAMES.includes(profile as ProfileName)) this.fail(profileNode, `profile: expected one of ${PROFILE_NAMES.join(', ')}`);
    const timing = top.has('timing') ? this.timing(top.get('timing')) : {};
    const latency = top.has('latency') ? this.latency(top.get('latency'), 'latency') : { minMs: 0.2, maxMs: 1 };
    const links = top.has('links') ? this.links(top.get('links')) : [];
    const { start, startMode } = this.start(top.get('start'));
    const healAtMs = this.duration(need('duration'), 'duration');
    if (healAtMs <= 0) this.fail(top.get('duration'), 'duration: expected a positive duration');
    let healWithinMs = 60_000;
    if (top.has('heal')) {
      const heal = this.entries(top.get('heal'), 'heal', ['within']);
      if (heal.has('within')) healWithinMs = this.duration(heal.get('within'), 'heal.within');
    }
    const checkEveryMs = top.has('check') ? this.duration(top.get('check'), 'check') : 500;
    if (checkEveryMs < 10) this.fail(top.get('check'), 'check: expected at least 10ms between checks');
    let falsePositivesMax = 0;
    if (top.has('falsePositives')) {
      const fp = this.entries(top.get('falsePositives'), 'falsePositives', ['max']);
      falsePositivesMax = this.number(fp.get('max'), 'falsePositives.max', 0, 1e9, true);
    }
    const catalogNode = top.get('catalog');
    const initial = catalogNode === undefined ? [] : this.catalogServices(catalogNode);
    const timeline = top.has('timeline') ? this.timeline(top.get('timeline'), healAtMs) : [];
    const catalog = this.catalogSettings(catalogNode, initial, timeline, healWithinMs);
    const assertions = top.has('assertions') ? this.assertions(top.get('assertions'), healAtMs) : [];
    if (catalog === null) {
      const a = assertions.find((x) => x.kind !== 'metric' && x.predicate.kind === 'catalog-converged');
      if (a !== undefined) throw new ScenarioError(this.file, a.line, "catalog-converged: expected a scenario with the catalog (a 'catalog:' key or register/deregister/check-flap entries)");
    }
    return {
      file: this.file, name, description, seed, nodeCount: this.nodeCount, nodeNames: this.nodeNames, start, startMode,
      profile: profile as ProfileName, timing, latency, links, healAtMs, healWithinMs, checkEveryMs, falsePositivesMax, timeline, assertions, catalog,
    };
  }

  // ---------------------------------------------------------------- the catalog

  /** `catalog: { services: [...] }`'s services (checked before the timeline, which may name their IDs). */
  private catalogServices(node: Any): ServiceSpec[] {
    if (isScalar(node) && node.value === true) return [];
    const c = this.entries(node, 'catalog', ['within', 'services']);
    const list = c.get('services');
    if (list === undefined) return [];
    if (!isSeq(list)) this.fail(list, 'catalog.services: expected a list of services (a name, or {name, id, port, tags, checks})');
    const out = (list.items as Node[]).map((item) => this.service(item, 'catalog.services[]'));
    const ids = new Set<string>();
    for (const [k, spec] of out.entries()) {
      if (ids.has(spec.id)) this.fail(list.items[k] as Node, `catalog.services[]: service ID '${spec.id}' twice; give each an 'id' of its own`);
      ids.add(spec.id);
    }
    return out;
  }

  /**
   * The catalog settings, or null when the scenario has no catalog. The timeline's catalog
   * entries must name services and checks that a `register` (or catalog.services) declares.
   */
  private catalogSettings(node: Any, initial: readonly ServiceSpec[], timeline: readonly TimelineEntry[], healWithinMs: number): CatalogSettings | null {
    const catalogEntries = timeline.filter((e) => e.action !== undefined && (CATALOG_ACTION_KINDS as readonly string[]).includes(e.action.kind));
    if (node === undefined && catalogEntries.length === 0) return null;
    const declared = [...initial, ...timeline.flatMap((e) => (e.action?.kind === 'register' ? [e.action.service] : []))];
    for (const e of catalogEntries) {
      const a = e.action as ActionSpec;
      if (a.kind === 'deregister' && !declared.some((s) => s.id === a.serviceId)) {
        throw new ScenarioError(this.file, e.line, `deregister.service: no register entry (or catalog.services) declares a service with ID '${a.serviceId}'`);
      }
      if (a.kind === 'check-flap' && !declared.some((s) => s.checks.some((c) => c.id === a.checkId))) {
        throw new ScenarioError(this.file, e.line, `check-flap.check: no register entry (or catalog.services) declares a check with ID '${a.checkId}'`);
      }
    }
    let withinMs = healWithinMs;
    if (node !== undefined && !(isScalar(node) && node.value === true)) {
      const c = this.entries(node, 'catalog', ['within', 'services']);
      if (c.has('within')) withinMs = this.duration(c.get('within'), 'catalog.within');
    }
    return { withinMs, initial };
  }

  /** A service: its name as text, or {name, id, port, tags, checks}; checks are TTL checks, an ID or {id, status}. */
  private service(node: Any, what: string): ServiceSpec {
    if (isScalar(node)) {
      const name = this.string(node, what);
      return { id: name, name, port: 0, tags: [], checks: [] };
    }
    const m = this.entries(node, what, ['name', 'id', 'port', 'tags', 'checks']);
    if (!m.has('name')) this.fail(node, `${what}: missing 'name'`);
    const name = this.string(m.get('name'), `${what}.name`);
    const id = m.has('id') ? this.string(m.get('id'), `${what}.id`) : name;
    const port = m.has('port') ? this.number(m.get('port'), `${what}.port`, 0, 65_535, true) : 0;
    let tags: string[] = [];
    if (m.has('tags')) {
      const t = m.get('tags');
      if (!isSeq(t)) this.fail(t, `${what}.tags: expected a list of texts`);
      tags = (t.items as Node[]).map((x) => this.string(x, `${what}.tags[]`));
    }
    const checks: Array<ServiceSpec['checks'][number]> = [];
    if (m.has('checks')) {
      const list = m.get('checks');
      if (!isSeq(list)) this.fail(list, `${what}.checks: expected a list of TTL checks (an ID, or {id, status})`);
      for (const item of list.items as Node[]) {
        let check: ServiceSpec['checks'][number];
        if (isScalar(item)) check = { id: this.string(item, `${what}.checks[]`), status: 'passing' };
        else {
          const c = this.entries(item, `${what}.checks[]`, ['id', 'status']);
          if (!c.has('id')) this.fail(item, `${what}.checks[]: missing 'id'`);
          const status = c.has('status') ? this.scalar(c.get('status')) : 'passing';
          if (!(CHECK_STATES as readonly unknown[]).includes(status)) this.fail(c.get('status'), `${what}.checks[].status: expected one of ${CHECK_STATES.join(', ')}`);
          check = { id: this.string(c.get('id'), `${what}.checks[].id`), status: status as (typeof CHECK_STATES)[number] };
        }
        if (checks.some((x) => x.id === check.id)) this.fail(item, `${what}.checks: check ID '${check.id}' twice`);
        checks.push(check);
      }
    }
    return { id, name, port, tags, checks };
  }

  private start(node: Any): { start: NodeSet; startMode: StartMode } {
    const all = Array.from({ length: this.nodeCount }, (_, i) => i);
    if (node === undefined) return { start: all, startMode: 'formed' };
    if (isScalar(node)) {
      const mode = this.scalar(node);
      if (mode !== 'formed' && mode !== 'joined') this.fail(node, "start: expected formed, joined, or a mapping with 'nodes' and 'mode'");
      return { start: all, startMode: mode };
    }
    const s = this.entries(node, 'start', ['nodes', 'mode']);
    const start = s.has('nodes') ? this.nodes(s.get('nodes'), 'start.nodes') : all;
    const modeNode = s.get('mode');
    const mode = modeNode === undefined ? 'formed' : this.scalar(modeNode);
    if (mode !== 'formed' && mode !== 'joined') this.fail(modeNode, 'start.mode: expected formed or joined');
    return { start, startMode: mode };
  }

  private timing(node: Any): Partial<Timings> {
    const t = this.entries(node, 'timing', TIMING_KEYS);
    const out: Record<string, number | boolean> = {};
    for (const [key, value] of t) {
      out[key] = key === 'disableTcpPings' ? this.boolean(value, `timing.${key}`) : this.number(value, `timing.${key}`, 0, 86_400_000);
    }
    return out as Partial<Timings>;
  }

  private latency(node: Any, what: string, extraKeys: readonly string[] = []): LatencyModel {
    const l = this.entries(node, what, ['min', 'max', 'distribution', ...extraKeys]);
    if (!l.has('min') || !l.has('max')) this.fail(node, `${what}: expected 'min' and 'max' (durations, like 1ms and 5ms)`);
    const minMs = this.duration(l.get('min'), `${what}.min`);
    const maxMs = this.duration(l.get('max'), `${what}.max`);
    if (maxMs < minMs) this.fail(l.get('max'), `${what}.max: expected at least min`);
    const d = l.get('distribution');
    if (d === undefined) return { minMs, maxMs };
    const distribution = this.scalar(d);
    if (distribution !== 'uniform' && distribution !== 'normal') this.fail(d, `${what}.distribution: expected uniform or normal`);
    return { minMs, maxMs, distribution };
  }

  private links(node: Any): Array<{ rule: LinkRule; latency: LatencyModel }> {
    if (!isSeq(node)) this.fail(node, 'links: expected a list of {from, to, latency}');
    return (node.items as Node[]).map((item) => {
      const l = this.entries(item, 'links[]', ['from', 'to', 'oneWay', 'latency']);
      if (!l.has('latency')) this.fail(item, "links[]: missing 'latency'");
      return { rule: this.linkRule(item, l, 'links[]', true) as LinkRule, latency: this.latency(l.get('latency'), 'links[].latency') };
    });
  }

  private linkRule(node: Any, m: Map<string, Node>, what: string, required: boolean): LinkRule | null {
    if (!m.has('from') && !m.has('to')) {
      if (required) this.fail(node, `${what}: expected 'from' and 'to' node sets`);
      return null;
    }
    if (!m.has('from') || !m.has('to')) this.fail(node, `${what}: expected both 'from' and 'to' (or neither, for every link)`);
    return {
      from: this.nodes(m.get('from'), `${what}.from`),
      to: this.nodes(m.get('to'), `${what}.to`),
      bothWays: m.has('oneWay') ? !this.boolean(m.get('oneWay'), `${what}.oneWay`) : true,
    };
  }

  // ---------------------------------------------------------------- timeline

  private timeline(node: Any, healAtMs: number): TimelineEntry[] {
    if (!isSeq(node)) this.fail(node, 'timeline: expected a list of entries, each with at: and one fault or workload key');
    const out = (node.items as Node[]).map((item) => this.entry(item, healAtMs));
    return out.sort((a, b) => a.atMs - b.atMs || a.line - b.line);
  }

  private entry(node: Any, healAtMs: number): TimelineEntry {
    const kinds = [...FAULT_KINDS, ...ACTION_KINDS];
    const e = this.entries(node, 'timeline entry', ['at', 'for', 'label', ...kinds]);
    if (!e.has('at')) this.fail(node, "timeline entry: missing 'at' (when it happens, like 10s)");
    const atMs = this.duration(e.get('at'), 'at');
    if (atMs >= healAtMs) this.fail(e.get('at'), `at: expected a time before the final heal at duration ${healAtMs / 1000}s`);
    const present = kinds.filter((k) => e.has(k));
    if (present.length !== 1) this.fail(node, `timeline entry: expected exactly one of ${kinds.join(', ')}; found ${present.length === 0 ? 'none' : present.join(', ')}`);
    const kind = present[0] as string;
    const body = e.get(kind) as Node;
    const line = this.line(node);
    const label = e.has('label') ? this.string(e.get('label'), 'label') : kind;
    if ((FAULT_KINDS as readonly string[]).includes(kind)) {
      let endMs = healAtMs;
      if (e.has('for')) {
        endMs = Math.min(healAtMs, atMs + this.duration(e.get('for'), 'for'));
        if (endMs <= atMs) this.fail(e.get('for'), 'for: expected a positive duration');
      }
      return { line, atMs, endMs, label, fault: this.fault(kind as (typeof FAULT_KINDS)[number], body) };
    }
    if (kind === 'check-flap') {
      // A window, like a fault: until the heal unless `for` ends it sooner.
      const forMs = e.has('for') ? Math.min(healAtMs - atMs, this.duration(e.get('for'), 'for')) : healAtMs - atMs;
      if (forMs <= 0) this.fail(e.get('for'), 'for: expected a positive duration');
      return { line, atMs, label, action: this.checkFlap(body, forMs) };
    }
    if (e.has('for')) this.fail(e.get('for'), `for: '${kind}' happens at one moment; 'for' belongs to faults (${FAULT_KINDS.join(', ')}) and check-flap`);
    return { line, atMs, label, action: this.action(kind as (typeof ACTION_KINDS)[number], body, healAtMs - atMs) };
  }

  /** A rate alone (`loss: 0.1`) or a mapping with rate and optional from/to. */
  private rated(node: Any, what: string, extra: readonly string[] = []): { rate: number; link: LinkRule | null; m: Map<string, Node> } {
    if (isScalar(node)) return { rate: this.rate(node, what), link: null, m: new Map() };
    const m = this.entries(node, what, ['rate', 'from', 'to', 'oneWay', ...extra]);
    if (!m.has('rate')) this.fail(node, `${what}: missing 'rate' (a probability from 0 to 1)`);
    return { rate: this.rate(m.get('rate'), `${what}.rate`), link: this.linkRule(node, m, what, false), m };
  }

  private groups(node: Any, what: string): NodeSet[] {
    if (!isSeq(node) || node.items.length < 2) this.fail(node, `${what}: expected a list of two or more node sets (like ["first 50%", rest])`);
    const taken = new Set<number>();
    const groups: NodeSet[] = [];
    for (const item of node.items as Node[]) {
      const g = this.nodes(item, `${what} group`, taken);
      for (const i of g) {
        if (taken.has(i)) this.fail(item, `${what}: node-${i} is in two groups`);
        taken.add(i);
      }
      groups.push(g);
    }
    return groups;
  }

  private fault(kind: (typeof FAULT_KINDS)[number], node: Node): FaultSpec {
    switch (kind) {
      case 'partition':
        if (isMap(node)) return { kind, groups: this.groups(this.entries(node, 'partition', ['groups']).get('groups'), 'partition.groups') };
        return { kind, groups: this.groups(node, 'partition') };
      case 'one-way': {
        const m = this.entries(node, 'one-way', ['from', 'to']);
        if (!m.has('from') || !m.has('to')) this.fail(node, "one-way: expected 'from' and 'to' node sets (traffic from → to is dropped)");
        return { kind, from: this.nodes(m.get('from'), 'one-way.from'), to: this.nodes(m.get('to'), 'one-way.to') };
      }
      case 'isolate':
        return { kind, nodes: this.nodes(node, 'isolate') };
      case 'flap': {
        const m = this.entries(node, 'flap', ['groups', 'up', 'down']);
        return {
          kind,
          groups: this.groups(m.get('groups'), 'flap.groups'),
          upMs: m.has('up') ? this.duration(m.get('up'), 'flap.up') : 5_000,
          downMs: m.has('down') ? this.duration(m.get('down'), 'flap.down') : 5_000,
        };
      }
      case 'loss':
      case 'duplicate': {
        const { rate, link } = this.rated(node, kind);
        return { kind, rate, link };
      }
      case 'reorder': {
        const { rate, link, m } = this.rated(node, kind, ['delay']);
        return { kind, rate, link, delayMs: m.has('delay') ? this.duration(m.get('delay'), 'reorder.delay') : 50 };
      }
      case 'latency': {
        const m = this.entries(node, 'latency', ['min', 'max', 'distribution', 'from', 'to', 'oneWay']);
        return { kind, latency: this.latency(node, 'latency', ['from', 'to', 'oneWay']), link: this.linkRule(node, m, 'latency', false) };
      }
      case 'pause':
        return { kind, nodes: this.nodes(node, 'pause') };
      case 'slow': {
        if (!isMap(node)) return { kind, nodes: this.nodes(node, 'slow'), stallMs: 1_600, everyMs: 2_100 };
        const m = this.entries(node, 'slow', ['nodes', 'stall', 'every']);
        const stallMs = m.has('stall') ? this.duration(m.get('stall'), 'slow.stall') : 1_600;
        const everyMs = m.has('every') ? this.duration(m.get('every'), 'slow.every') : 2_100;
        if (stallMs >= everyMs || stallMs <= 0) this.fail(node, 'slow: expected 0 < stall < every (the receive path stalls for `stall` out of every `every`)');
        return { kind, nodes: this.nodes(m.get('nodes'), 'slow.nodes'), stallMs, everyMs };
      }
    }
  }

  private checkFlap(node: Node, forMs: number): ActionSpec {
    const m = this.entries(node, 'check-flap', ['nodes', 'check', 'every']);
    if (!m.has('nodes') || !m.has('check')) this.fail(node, "check-flap: expected 'nodes' and 'check' (a TTL check's ID), and 'every' (default 2s)");
    const everyMs = m.has('every') ? this.duration(m.get('every'), 'check-flap.every') : 2_000;
    if (everyMs < 10) this.fail(m.get('every'), 'check-flap.every: expected at least 10ms');
    return { kind: 'check-flap', nodes: this.nodes(m.get('nodes'), 'check-flap.nodes'), checkId: this.string(m.get('check'), 'check-flap.check'), everyMs, forMs };
  }

  private action(kind: (typeof ACTION_KINDS)[number], node: Node, untilHealMs: number): ActionSpec {
    switch (kind) {
      case 'check-flap':
        throw new Error('check-flap is parsed by checkFlap');
      case 'register': {
        const m = this.entries(node, 'register', ['nodes', 'service']);
        if (!m.has('nodes') || !m.has('service')) this.fail(node, "register: expected 'nodes' and 'service' (a name, or {name, id, port, tags, checks})");
        return { kind, nodes: this.nodes(m.get('nodes'), 'register.nodes'), service: this.service(m.get('service'), 'register.service') };
      }
      case 'deregister': {
        const m = this.entries(node, 'deregister', ['nodes', 'service']);
        if (!m.has('nodes') || !m.has('service')) this.fail(node, "deregister: expected 'nodes' and 'service' (the service's ID)");
        return { kind, nodes: this.nodes(m.get('nodes'), 'deregister.nodes'), serviceId: this.string(m.get('service'), 'deregister.service') };
      }
      case 'crash':
      case 'leave':
        return { kind, nodes: this.nodes(node, kind) };
      case 'restart': {
        if (!isMap(node)) return { kind, nodes: this.nodes(node, 'restart'), snapshot: false, everyMs: 0 };
        const m = this.entries(node, 'restart', ['nodes', 'snapshot', 'every']);
        const nodes = this.nodes(m.get('nodes'), 'restart.nodes');
        const everyMs = m.has('every') ? this.duration(m.get('every'), 'restart.every') : 0;
        if (everyMs * (nodes.length - 1) >= untilHealMs) this.fail(m.get('every'), 'restart.every: expected the last restart before the final heal');
        return { kind, nodes, snapshot: m.has('snapshot') ? this.boolean(m.get('snapshot'), 'restart.snapshot') : false, everyMs };
      }
      case 'join': {
        if (!isMap(node)) return { kind, nodes: this.nodes(node, 'join'), overMs: 0, via: [0] };
        const m = this.entries(node, 'join', ['nodes', 'over', 'via']);
        const overMs = m.has('over') ? this.duration(m.get('over'), 'join.over') : 0;
        if (overMs >= untilHealMs) this.fail(m.get('over'), 'join.over: expected the joins to end before the final heal');
        return { kind, nodes: this.nodes(m.get('nodes'), 'join.nodes'), overMs, via: m.has('via') ? this.nodes(m.get('via'), 'join.via') : [0] };
      }
      case 'tags': {
        const m = this.entries(node, 'tags', ['nodes', 'set']);
        const set = m.get('set');
        const tagMap = this.map(set, 'tags.set');
        const tags = new Map<string, string>();
        for (const pair of tagMap.items) {
          const k = this.string(pair.key as Node, 'tags.set key');
          const v = this.scalar(pair.value as Node);
          if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') this.fail(pair.value as Node, `tags.set.${k}: expected a text value`);
          tags.set(k, String(v));
        }
        return { kind, nodes: this.nodes(m.get('nodes'), 'tags.nodes'), tags };
      }
      case 'event': {
        const m = this.entries(node, 'event', ['from', 'name', 'count', 'every']);
        if (!m.has('name')) this.fail(node, "event: missing 'name'");
        return {
          kind,
          from: m.has('from') ? this.nodes(m.get('from'), 'event.from') : [0],
          name: this.string(m.get('name'), 'event.name'),
          count: m.has('count') ? this.number(m.get('count'), 'event.count', 1, 10_000, true) : 1,
          everyMs: m.has('every') ? this.duration(m.get('every'), 'event.every') : 1_000,
        };
      }
      case 'query': {
        const m = this.entries(node, 'query', ['from', 'name']);
        if (!m.has('name')) this.fail(node, "query: missing 'name'");
        return { kind, from: m.has('from') ? this.nodes(m.get('from'), 'query.from') : [0], name: this.string(m.get('name'), 'query.name') };
      }
    }
  }

  // ---------------------------------------------------------------- assertions

  private assertions(node: Any, healAtMs: number): Assertion[] {
    if (!isSeq(node)) this.fail(node, 'assertions: expected a list (always:, never:, eventually: or metric: entries)');
    return (node.items as Node[]).map((item) => this.assertion(item, healAtMs));
  }

  private assertion(node: Node, healAtMs: number): Assertion {
    const keys = ['always', 'never', 'eventually', 'metric', 'within', 'after', 'from', 'until', 'max', 'min'];
    const a = this.entries(node, 'assertion', keys);
    const kinds = ['always', 'never', 'eventually', 'metric'].filter((k) => a.has(k));
    if (kinds.length !== 1) this.fail(node, 'assertion: expected exactly one of always, never, eventually, metric');
    const kind = kinds[0] as 'always' | 'never' | 'eventually' | 'metric';
    const line = this.line(node);
    const text = `${kind} ${describeNode(a.get(kind))}`;
    const allow = (allowed: string[]): void => {
      for (const k of a.keys()) if (k !== kind && !allowed.includes(k)) this.fail(node, `${kind}: '${k}' does not apply; expected ${allowed.join(', ') || 'nothing more'}`);
    };
    if (kind === 'metric') {
      allow(['max', 'min']);
      const metric = this.string(a.get('metric'), 'metric');
      if (!(METRIC_NAMES as readonly string[]).includes(metric)) this.fail(a.get('metric'), `metric: expected one of ${METRIC_NAMES.join(', ')}`);
      if (!a.has('max') && !a.has('min')) this.fail(node, "metric: expected a bound, 'max' or 'min'");
      const bound = (k: string): number | null => {
        if (!a.has(k)) return null;
        const v = a.get(k);
        return isScalar(v) && typeof v.value === 'string' ? this.duration(v, `metric ${k}`) / 1000 : this.number(v, `metric ${k}`, -1e15, 1e15);
      };
      const min = bound('min');
      const max = bound('max');
      return { kind, line, text: `${metric}${min === null ? '' : ` ≥ ${min}`}${max === null ? '' : ` ≤ ${max}`}`, metric: metric as MetricName, min, max };
    }
    const predicate = this.predicate(a.get(kind));
    if (kind === 'eventually') {
      allow(['within', 'after']);
      if (!a.has('within')) this.fail(node, "eventually: missing 'within' (how long it may take, like 40s)");
      const withinMs = this.duration(a.get('within'), 'within');
      let afterMs: number | 'heal' = 'heal';
      if (a.has('after')) {
        const after = a.get('after');
        afterMs = this.scalar(after) === 'heal' ? 'heal' : this.duration(after, "after (a time, or 'heal')");
      }
      const afterText = afterMs === 'heal' ? 'the heal' : `${afterMs / 1000}s`;
      return { kind, line, text: `${text} within ${withinMs / 1000}s of ${afterText}`, predicate, afterMs, withinMs };
    }
    allow(['from', 'until']);
    const fromMs = a.has('from') ? this.duration(a.get('from'), 'from') : 0;
    const toMs = a.has('until') ? (this.scalar(a.get('until')) === 'heal' ? healAtMs : this.duration(a.get('until'), 'until')) : null;
    return { kind, line, text, predicate, fromMs, toMs };
  }

  private predicate(node: Any): Predicate {
    if (isScalar(node)) {
      const v = node.value;
      if (v === 'converged') return { kind: 'converged' };
      if (v === 'false-positive') return { kind: 'false-positive' };
      if (v === 'catalog-converged') return { kind: 'catalog-converged' };
      this.fail(node, "predicate: expected converged, catalog-converged, false-positive, {seen: {...}} or {delivered: NAME}");
    }
    const m = this.entries(node, 'predicate', ['seen', 'delivered']);
    if (m.size !== 1) this.fail(node, 'predicate: expected one of seen, delivered');
    if (m.has('delivered')) return { kind: 'delivered', event: this.string(m.get('delivered'), 'delivered') };
    const s = this.entries(m.get('seen'), 'seen', ['nodes', 'as', 'by']);
    if (!s.has('nodes') || !s.has('as')) this.fail(m.get('seen'), "seen: expected 'nodes' and 'as' (alive, suspect, failed or left)");
    const as = this.scalar(s.get('as'));
    if (!STATE_NAMES.includes(as as StateName)) this.fail(s.get('as'), `seen.as: expected one of ${STATE_NAMES.join(', ')}`);
    const byNode = s.get('by');
    const by = byNode === undefined || this.scalar(byNode) === 'all' ? 'all' : this.nodes(byNode, 'seen.by');
    return { kind: 'seen', nodes: this.nodes(s.get('nodes'), 'seen.nodes'), as: as as StateName, by };
  }
}

/** A short text of a YAML node for naming an assertion (`converged`, `seen {nodes: node-3, as: failed}`). */
function describeNode(node: Any): string {
  if (node === null || node === undefined) return '';
  return String(node.toString()).replace(/\s+/g, ' ').trim();
}
