// The catalog checker's rule, shared by the catalog stories (CatalogCluster) and the scenario
// runner: every live node's catalog matches the truth.
//  - a live node's services and check states as its owner holds them (its LocalCatalog), with
//    serfHealth passing;
//  - a failed (crashed) node: still listed, serfHealth critical (so none of its services passes),
//    and every observer holding the same entry of it — the newest any live observer holds, since a
//    dead node can no longer tell anyone what it last had;
//  - a node that left: no services and no checks anywhere (Consul deregisters them).
import type { ShoalNode } from '../src/catalog/node.js';
import { SERF_CHECK_ID } from '../src/catalog/types.js';

export type SubjectState = 'live' | 'failed' | 'left';

export interface CatalogSubject {
  readonly name: string;
  readonly state: SubjectState;
  /** The subject's own process (its LocalCatalog is the truth) — live subjects only. */
  readonly engine?: ShoalNode;
}

export interface CatalogObserver {
  readonly name: string;
  readonly engine: ShoalNode;
}

/** How one observer's view of one subject differs from the truth, or null when it matches. */
export function subjectMismatch(observer: CatalogObserver, subject: CatalogSubject, failedVersion: number): string | null {
  const cat = observer.engine.catalog;
  const who = `${observer.name} on ${subject.name}`;
  if (subject.state === 'left') {
    const services = cat.servicesOf(subject.name).length;
    const checks = cat.checksOf(subject.name).length;
    return services === 0 && checks === 0 ? null : `${who}: left, but ${services} services and ${checks} checks still listed`;
  }
  const serf = cat.checksOf(subject.name).find((c) => c.CheckID === SERF_CHECK_ID);
  if (subject.state === 'failed') {
    if (serf?.Status !== 'critical') return `${who}: failed, but serfHealth is ${serf?.Status ?? 'missing'}`;
    const held = cat.version(subject.name);
    return held === failedVersion ? null : `${who}: failed; holds its entry version ${held}, the newest any live node holds is ${failedVersion}`;
  }
  const truth = subject.engine;
  if (truth === undefined) throw new Error(`catalog checker: live subject ${subject.name} without its process`);
  if (serf?.Status !== 'passing') return `${who}: alive, but serfHealth is ${serf?.Status ?? 'missing'}`;
  const seen = cat.servicesOf(subject.name);
  const want = truth.local.allServices();
  if (seen.length !== want.length) return `${who}: sees ${seen.length} services, it has ${want.length}`;
  for (const s of want) {
    const x = seen.find((y) => y.ID === s.ID);
    if (x === undefined) return `${who}: misses service ${s.ID}`;
    if (x.Service !== s.Service || x.Port !== s.Port || x.Address !== s.Address || x.Tags.join('\u0000') !== s.Tags.join('\u0000')) return `${who}: service ${s.ID} differs`;
  }
  const checks = cat.checksOf(subject.name).filter((c) => c.CheckID !== SERF_CHECK_ID);
  const wantChecks = truth.local.allChecks();
  if (checks.length !== wantChecks.length) return `${who}: sees ${checks.length} checks, it has ${wantChecks.length}`;
  for (const c of wantChecks) {
    const x = checks.find((y) => y.CheckID === c.CheckID);
    if (x === undefined) return `${who}: misses check ${c.CheckID}`;
    if (x.Status !== c.Status) return `${who}: check ${c.CheckID} is ${x.Status}, it is ${c.Status}`;
  }
  return null;
}

/**
 * Every (observer, subject) pair whose view differs from the truth, up to `limit` descriptions,
 * and how many observers match it for every subject (a full, correct catalog).
 */
export function catalogMismatches(
  observers: readonly CatalogObserver[],
  subjects: readonly CatalogSubject[],
  limit = 10,
): { readonly mismatches: string[]; readonly completeObservers: number; readonly wrongPairs: number } {
  const failedVersion = new Map<string, number>();
  for (const s of subjects) {
    if (s.state !== 'failed') continue;
    let newest = -1;
    for (const o of observers) newest = Math.max(newest, o.engine.catalog.version(s.name));
    failedVersion.set(s.name, newest);
  }
  const mismatches: string[] = [];
  let completeObservers = 0;
  let wrongPairs = 0;
  for (const o of observers) {
    let complete = true;
    for (const s of subjects) {
      if (s.name === o.name) continue;
      const why = subjectMismatch(o, s, failedVersion.get(s.name) ?? -1);
      if (why === null) continue;
      complete = false;
      wrongPairs++;
      if (mismatches.length < limit) mismatches.push(why);
    }
    if (complete) completeObservers++;
  }
  return { mismatches, completeObservers, wrongPairs };
}
