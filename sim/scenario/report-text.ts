// The terminal summary of a run: verdict, a text timeline (fault windows as bars, the cluster's
// state per column), checkers, assertions, headline metrics and the replay command.
import type { RunResult, Verdict } from './result.js';

const WIDTH = 60;

function bar(startS: number, endS: number, totalS: number, fill: string): string {
  let out = '';
  for (let c = 0; c < WIDTH; c++) {
    const t0 = (c / WIDTH) * totalS;
    const t1 = ((c + 1) / WIDTH) * totalS;
    out += t1 > startS && t0 < endS ? fill : '·';
  }
  return out;
}

/** One character per column: the worst cluster state in that slice of time. */
function stateRow(result: RunResult): string {
  const total = result.timeline.endSeconds;
  const cols: string[] = Array.from({ length: WIDTH }, () => ' ');
  const rank = (ch: string): number => ' =~sF'.indexOf(ch);
  for (const s of result.timeline.samples) {
    const c = Math.min(WIDTH - 1, Math.floor((s.atSeconds / Math.max(total, 1e-9)) * WIDTH));
    const ch = s.failed > 0 ? 'F' : s.suspect > 0 ? 's' : s.converged ? '=' : '~';
    if (rank(ch) > rank(cols[c] as string)) cols[c] = ch;
  }
  return cols.join('');
}

function verdictLine(v: Verdict): string {
  const where = v.line > 0 ? `line ${v.line}: ` : '';
  return `  ${v.passed ? '✓ PASS' : '✗ FAIL'}  ${where}${v.name} — ${v.detail}`;
}

export function textReport(result: RunResult, options: { readonly quiet?: boolean } = {}): string {
  const s = result.scenario;
  const m = result.metrics;
  const t = result.timeline;
  const head = `${result.passed ? 'PASSED' : 'FAILED'}  ${s.name} (${s.file}, seed ${s.seed}, ${s.nodes} nodes, ${s.profile})`;
  const failed = [...result.checkers, ...result.assertions].filter((v) => !v.passed);
  if (options.quiet === true) {
    return [head, ...failed.map(verdictLine), ...(result.passed ? [] : [`  replay: ${result.replay}`])].join('\n');
  }
  const total = t.endSeconds;
  const lines: string[] = [head];
  if (s.description !== '') lines.push(`  ${s.description}`);
  lines.push('', `timeline 0s ${'─'.repeat(WIDTH - 8)} ${total}s`);
  for (const f of t.faults) lines.push(`  ${bar(f.startSeconds, f.endSeconds, total, '█')}  ${f.startSeconds}s–${f.endSeconds}s ${f.kind}: ${f.label} (${summarizeNodes(f.nodes)})`);
  for (const a of t.actions) lines.push(`  ${bar(a.atSeconds, a.atSeconds + total / WIDTH, total, '▲')}  ${a.atSeconds}s ${a.kind}: ${a.label} (${summarizeNodes(a.nodes)})`);
  if (t.healSeconds !== null) lines.push(`  ${bar(t.healSeconds, t.healSeconds + total / WIDTH, total, '┃')}  ${t.healSeconds}s final heal`);
  lines.push(`  ${stateRow(result)}  views: = agree, ~ differ, s suspicion, F failed`);
  lines.push('', 'checkers', ...result.checkers.map(verdictLine));
  if (result.assertions.length > 0) lines.push('', 'assertions', ...result.assertions.map(verdictLine));
  for (const v of failed) {
    for (const x of (v.violations ?? []).slice(0, 5)) lines.push(`    at ${x.atSeconds}s: ${x.detail}`);
  }
  const d = m.detection;
  lines.push('', 'metrics');
  if (d.crashes.length > 0) {
    lines.push(`  detection (s after a crash): first p50 ${d.firstDetectionSeconds.p50} p99 ${d.firstDetectionSeconds.p99}; everyone p50 ${d.allDetectedSeconds.p50} p99 ${d.allDetectedSeconds.p99} (${d.crashes.length} crashes)`);
  }
  if (m.dissemination.events.length > 0) {
    const e = m.dissemination.events;
    lines.push(`  user events: ${e.length} fired, delivery ratio ${m.dissemination.deliveryRatio}; to 100% p50 of the events: ${median(e.map((x) => x.curve['p100'] ?? null))}s`);
  }
  lines.push(`  failure declarations: ${m.falsePositives.declarations.expected} of failed nodes, ${m.falsePositives.declarations.network} across network faults, ${m.falsePositives.count} false positives`);
  lines.push(`  lifeguard: ${m.lifeguard.suspicions} suspicions, ${m.lifeguard.refutations} refutations`);
  lines.push(`  traffic per node: ${m.traffic.messagesPerNodePerSecond.mean} datagrams/s, ${m.traffic.bytesPerNodePerSecond.mean} bytes/s (p99 ${m.traffic.bytesPerNodePerSecond.p99})`);
  if (m.catalog !== undefined && m.catalog !== null) {
    const k = m.catalog;
    lines.push(`  catalog: full at every node ${k.afterHealSeconds === null ? 'not reached' : `${k.afterHealSeconds}s`} after the heal; after each change p50 ${k.fullCatalogSeconds.p50 ?? '–'}s p99 ${k.fullCatalogSeconds.p99 ?? '–'}s (${k.changes.length} changes); `
      + `${k.bytesPerNodePerSecond} catalog bytes/s per node, ${k.publications} publications (${k.coalesced} changes coalesced)`);
  }
  if (m.queries.length > 0) lines.push(`  queries: ${m.queries.map((q) => `${q.name} ${q.responses}/${q.of} responses`).join(', ')}`);
  const c = m.convergence;
  lines.push(`  convergence: ${c.afterHealSeconds === null ? 'not reached' : `${c.afterHealSeconds}s after the heal`}${c.afterFaults.length > 0 ? `; after each fault: ${c.afterFaults.map((f) => `${f.fault} ${f.convergedAfterSeconds ?? '–'}s`).join(', ')}` : ''}`);
  if (result.wall !== undefined) {
    const w = result.wall;
    lines.push(`  speed: ${m.virtualSeconds} virtual s in ${w.seconds} s wall (${w.simSecondsPerWallSecond}× real time), peak RSS ${w.peakRssMiB} MiB`);
  }
  lines.push('', `replay: ${result.replay}`);
  return lines.join('\n');
}

function median(values: ReadonlyArray<number | null>): string {
  const v = values.filter((x): x is number => x !== null).sort((a, b) => a - b);
  return v.length === 0 ? '–' : String(v[Math.floor((v.length - 1) / 2)]);
}

/** node-0, node-1, … node-9 (10 nodes) — short enough for one line. */
export function summarizeNodes(nodes: readonly string[]): string {
  if (nodes.length <= 4) return nodes.join(', ');
  return `${nodes.slice(0, 3).join(', ')} … ${nodes[nodes.length - 1]}; ${nodes.length} nodes`;
}
