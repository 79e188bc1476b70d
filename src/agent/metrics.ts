// /v1/agent/metrics: Consul's JSON shape (go-metrics' inmem sink: Timestamp, Gauges, Points,
// Counters, Samples) and the Prometheus text format for ?format=prometheus.
import type { Agent } from './agent.js';
import { memberStatusNames } from '../cluster/member.js';

interface Gauge {
  Name: string;
  Value: number;
  Labels: Record<string, string>;
}

interface Counter {
  Name: string;
  Count: number;
  Rate: number;
  Sum: number;
  Min: number;
  Max: number;
  Mean: number;
  Stddev: number;
  Labels: Record<string, string>;
}

export interface Metrics {
  Timestamp: string;
  Gauges: Gauge[];
  Points: never[];
  Counters: Counter[];
  Samples: never[];
}

export function collectMetrics(agent: Agent, api: { readonly index: number; readonly counters: Readonly<Record<string, number>> }): Metrics {
  const gauges: Gauge[] = [];
  const counters: Counter[] = [];
  const gauge = (name: string, value: number, labels: Record<string, string> = {}): void => void gauges.push({ Name: name, Value: value, Labels: labels });
  const counter = (name: string, value: number): void =>
    void counters.push({ Name: name, Count: value, Rate: 0, Sum: value, Min: 0, Max: value, Mean: value, Stddev: 0, Labels: {} });
  const ml = agent.serf.memberlist;
  const byState = new Map<string, number>();
  for (const m of agent.serf.members()) byState.set(memberStatusNames[m.status], (byState.get(memberStatusNames[m.status]) ?? 0) + 1);
  for (const state of ['alive', 'leaving', 'left', 'failed']) gauge('shoal.serf.members', byState.get(state) ?? 0, { status: state });
  gauge('shoal.memberlist.health.score', ml.healthScore());
  gauge('shoal.memberlist.queue.broadcasts', ml.broadcasts.size);
  gauge('shoal.catalog.nodes', agent.node.catalog.size);
  gauge('shoal.catalog.peers', agent.node.peers().length);
  gauge('shoal.catalog.index', api.index);
  gauge('shoal.catalog.local.services', agent.node.local.allServices().length);
  gauge('shoal.catalog.local.checks', agent.node.local.allChecks().length);
  for (const [k, v] of Object.entries(ml.stats)) if (typeof v === 'number') counter(`shoal.memberlist.${snake(k)}`, v);
  for (const [k, v] of Object.entries(agent.node.gossip.stats)) if (typeof v === 'number') counter(`shoal.catalog.${snake(k)}`, v);
  for (const [k, v] of Object.entries(agent.transport.counters)) counter(`shoal.transport.${snake(k)}`, v);
  for (const [k, v] of Object.entries(api.counters)) counter(`shoal.http.${snake(k)}`, v);
  return { Timestamp: new Date().toISOString().replace(/\.\d+Z$/, ' +0000 UTC').replace('T', ' '), Gauges: gauges, Points: [], Counters: counters, Samples: [] };
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Prometheus text exposition (version 0.0.4): dots become underscores, counters end in _total. */
export function renderMetrics(m: Metrics): string {
  const lines: string[] = [];
  const seen = new Set<string>();
  const labels = (l: Record<string, string>): string => {
    const parts = Object.entries(l).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
    return parts.length === 0 ? '' : `{${parts.join(',')}}`;
  };
  for (const g of m.Gauges) {
    const name = g.Name.replace(/\./g, '_');
    if (!seen.has(name)) {
      seen.add(name);
      lines.push(`# HELP ${name} ${g.Name}`, `# TYPE ${name} gauge`);
    }
    lines.push(`${name}${labels(g.Labels)} ${g.Value}`);
  }
  for (const c of m.Counters) {
    const name = `${c.Name.replace(/\./g, '_')}_total`;
    lines.push(`# HELP ${name} ${c.Name}`, `# TYPE ${name} counter`, `${name}${labels(c.Labels)} ${c.Count}`);
  }
  return lines.join('\n') + '\n';
}
