// `npm run soak -- --minutes M [--agents N] [--anchors K] [--port-base P] [--seed S] [--profile lan|local] [--json FILE]`:
// the soak run of bench/hardening/soak.ts from the command line. Exits non-zero on any violation
// or when an anchor agent's memory grew by 5% or more between the first and the last window.
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { DEFAULT_SOAK, runSoak } from './hardening/soak.js';
import { killAllAgents } from './hardening/agents.js';

const program = new Command('soak')
  .addOption(new Option('--minutes <m>', 'how long to churn').default(String(DEFAULT_SOAK.minutes)))
  .addOption(new Option('--agents <n>', 'agents in the cluster').default(String(DEFAULT_SOAK.agents)))
  .addOption(new Option('--anchors <n>', 'agents never churned (their memory is the trend)').default(String(DEFAULT_SOAK.anchors)))
  .addOption(new Option('--port-base <port>', 'first gossip port (RPC ports are 500 above)').default(String(DEFAULT_SOAK.portBase)))
  .addOption(new Option('--seed <n>', 'seed for the choice of actions').default(String(DEFAULT_SOAK.seed)))
  .addOption(new Option('--profile <name>', 'timing profile of the agents').choices(['lan', 'local']).default(DEFAULT_SOAK.profile))
  .addOption(new Option('--json <file>', 'also write the full report (with every memory sample) as JSON'))
  .parse();
const f = program.opts<{ minutes: string; agents: string; anchors: string; portBase: string; seed: string; profile: 'lan' | 'local'; json?: string }>();

for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { killAllAgents(); process.exit(130); });
process.on('exit', killAllAgents);

const minutes = Number(f.minutes);
if (!(minutes > 0)) {
  console.error(`soak: --minutes must be a positive number, got ${f.minutes}`);
  process.exit(2);
}
const report = await runSoak({
  minutes, agents: Number(f.agents), anchors: Number(f.anchors), portBase: Number(f.portBase), seed: Number(f.seed), profile: f.profile,
  memorySampleEveryMs: Math.max(5_000, Math.min(60_000, (minutes * 60_000) / 40)),
});
if (f.json !== undefined) writeFileSync(f.json, JSON.stringify(report, null, 2));
const fmt = (x: number | null): string => (x === null ? 'n/a' : `${x >= 0 ? '+' : ''}${x.toFixed(1)}%`);
console.log(`soak: ${report.durationS} s, actions ${JSON.stringify(report.actions)}`);
console.log(`soak: convergence after an action: ${report.convergeMs.count} times, median ${report.convergeMs.p50} ms, max ${report.convergeMs.max} ms`);
console.log(`soak: violations: ${report.violations.length}`);
for (const v of report.violations) console.log(`  ${v.atS}s ${v.kind}: ${v.detail}`);
for (const a of report.anchors) {
  const first = a.samples[0];
  const last = a.samples[a.samples.length - 1];
  console.log(`soak: ${a.name}: RSS ${first?.rssMiB.toFixed(1)} → ${last?.rssMiB.toFixed(1)} MiB (window growth ${fmt(a.rssGrowthPct)}), heap ${first?.heapMiB?.toFixed(1)} → ${last?.heapMiB?.toFixed(1)} MiB (floor growth ${fmt(a.heapGrowthPct)})`);
}
console.log(`soak: peak RSS of any agent: ${report.peakRssMiB.toFixed(1)} MiB`);
const grew = report.anchors.some((a) => (a.rssGrowthPct ?? 0) >= 5);
process.exit(report.violations.length > 0 || grew ? 1 : 0);
