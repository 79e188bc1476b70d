// A self-contained HTML page (no scripts, no external files) a person opens from a CI artifact:
// per run, the verdicts, an SVG timeline — fault windows shaded, each node's state over time as
// a coloured row, suspicion marks (orange ticks) and refutations (blue dots), the heal line —
// and the metrics.
import { escapeXml } from './report-junit.js';
import type { RunResult, Verdict } from './result.js';
import { summarizeNodes } from './report-text.js';

const COLORS: Record<string, string> = {
  a: '#4caf50', s: '#ffb300', f: '#e53935', p: '#8e24aa', w: '#fdd835', x: '#424242', l: '#9e9e9e', '.': '#ffffff',
};
const LEGEND: ReadonlyArray<[string, string]> = [
  ['a', 'alive everywhere'], ['s', 'suspected by some'], ['f', 'declared failed by some'], ['w', 'slow'], ['p', 'paused'],
  ['x', 'crashed'], ['l', 'left'], ['.', 'not started'],
];
/** Rows drawn at most; nodes touched by faults and actions come first. */
const MAX_ROWS = 120;

function pickRows(r: RunResult): string[] {
  const all = Object.keys(r.timeline.nodeStates);
  if (all.length <= MAX_ROWS) return all;
  const first = new Set<string>();
  for (const f of r.timeline.faults) for (const n of f.nodes.slice(0, 20)) first.add(n);
  for (const a of r.timeline.actions) for (const n of a.nodes.slice(0, 20)) first.add(n);
  const rows = [...first].slice(0, MAX_ROWS / 2);
  const step = Math.ceil(all.length / (MAX_ROWS - rows.length));
  for (let i = 0; i < all.length && rows.length < MAX_ROWS; i += step) if (!rows.includes(all[i] as string)) rows.push(all[i] as string);
  return rows.sort((a, b) => all.indexOf(a) - all.indexOf(b));
}

function svgTimeline(r: RunResult): string {
  const t = r.timeline;
  const rows = pickRows(r);
  const left = 80;
  const width = 900;
  const rowH = rows.length > 60 ? 4 : 10;
  const top = 20;
  const chartH = 60;
  const height = top + rows.length * rowH + 20 + chartH + 30;
  const total = Math.max(t.endSeconds, 1e-9);
  const x = (s: number): number => left + (s / total) * width;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 20}" height="${height}" font-family="sans-serif" font-size="10">`);
  // Fault windows, shaded across every row.
  for (const f of t.faults) {
    parts.push(`<rect x="${x(f.startSeconds).toFixed(1)}" y="${top}" width="${Math.max(1, x(f.endSeconds) - x(f.startSeconds)).toFixed(1)}" height="${rows.length * rowH}" fill="#e53935" fill-opacity="0.12"><title>${escapeXml(`${f.kind}: ${f.label} ${f.startSeconds}s–${f.endSeconds}s (${summarizeNodes(f.nodes)})`)}</title></rect>`);
    parts.push(`<text x="${x(f.startSeconds).toFixed(1)}" y="${top - 6}" fill="#b71c1c">${escapeXml(f.label)}</text>`);
  }
  rows.forEach((name, k) => {
    const y = top + k * rowH;
    const rle = t.nodeStates[name] ?? [];
    rle.forEach(([code, from], j) => {
      const to = j + 1 < rle.length ? (rle[j + 1] as [string, number])[1] : t.endSeconds;
      if (code === '.') return;
      parts.push(`<rect x="${x(from as number).toFixed(1)}" y="${y + 1}" width="${Math.max(0.5, x(to) - x(from as number)).toFixed(1)}" height="${rowH - 2}" fill="${COLORS[code as string] ?? '#000'}" fill-opacity="0.75"/>`);
    });
    if (rowH >= 8) parts.push(`<text x="${left - 4}" y="${y + rowH - 2}" text-anchor="end">${escapeXml(name)}</text>`);
  });
  const rowOf = new Map(rows.map((n, k) => [n, k]));
  for (const s of t.suspicions) {
    const k = rowOf.get(s.node);
    if (k === undefined) continue;
    const y = top + k * rowH;
    parts.push(`<line x1="${x(s.atSeconds).toFixed(1)}" x2="${x(s.atSeconds).toFixed(1)}" y1="${y}" y2="${y + rowH}" stroke="#ef6c00" stroke-width="1"><title>${escapeXml(`${s.by} suspects ${s.node} at ${s.atSeconds}s`)}</title></line>`);
  }
  for (const f of t.refutations) {
    const k = rowOf.get(f.node);
    if (k === undefined) continue;
    parts.push(`<circle cx="${x(f.atSeconds).toFixed(1)}" cy="${top + k * rowH + rowH / 2}" r="${Math.max(1.5, rowH / 3)}" fill="#1e88e5"><title>${escapeXml(`${f.node} refutes at ${f.atSeconds}s`)}</title></circle>`);
  }
  // The cluster: share of (observer, member) pairs not alive, per sample.
  const cy = top + rows.length * rowH + 20;
  parts.push(`<text x="${left - 4}" y="${cy + chartH / 2}" text-anchor="end">views</text>`);
  parts.push(`<rect x="${left}" y="${cy}" width="${width}" height="${chartH}" fill="none" stroke="#ccc"/>`);
  const series = (key: 'suspect' | 'failed', color: string): void => {
    const pts = t.samples.map((s) => {
      const pairs = Math.max(1, s.alive + s.suspect + s.failed + s.left);
      return `${x(s.atSeconds).toFixed(1)},${(cy + chartH - (s[key] / pairs) * chartH).toFixed(1)}`;
    });
    if (pts.length > 0) parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${color}" stroke-width="1.5"><title>share of views holding a member ${key}</title></polyline>`);
  };
  series('suspect', '#ef6c00');
  series('failed', '#e53935');
  for (const s of t.samples) if (!s.converged) parts.push(`<rect x="${x(s.atSeconds).toFixed(1)}" y="${cy + chartH + 2}" width="2" height="4" fill="#757575"/>`);
  if (t.healSeconds !== null) {
    parts.push(`<line x1="${x(t.healSeconds).toFixed(1)}" x2="${x(t.healSeconds).toFixed(1)}" y1="${top}" y2="${cy + chartH}" stroke="#1b5e20" stroke-dasharray="4 2"/>`);
    parts.push(`<text x="${x(t.healSeconds).toFixed(1)}" y="${height - 4}" fill="#1b5e20">heal ${t.healSeconds}s</text>`);
  }
  parts.push(`<text x="${left}" y="${height - 4}">0s</text><text x="${left + width}" y="${height - 4}" text-anchor="end">${t.endSeconds}s</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

function verdictRows(list: readonly Verdict[]): string {
  return list.map((v) => `<tr class="${v.passed ? 'pass' : 'fail'}"><td>${v.passed ? 'PASS' : 'FAIL'}</td><td>${v.line > 0 ? v.line : ''}</td><td>${escapeXml(v.name)}</td><td>${escapeXml(v.detail)}${(v.violations ?? []).length > 0 && !v.passed ? `<ul>${(v.violations ?? []).slice(0, 10).map((x) => `<li>${x.atSeconds}s: ${escapeXml(x.detail)}</li>`).join('')}</ul>` : ''}</td></tr>`).join('\n');
}

function section(r: RunResult): string {
  const s = r.scenario;
  const { timeline: _timeline, ...rest } = r;
  void _timeline;
  return `<section>
<h2 class="${r.passed ? 'pass' : 'fail'}">${r.passed ? 'PASSED' : 'FAILED'} — ${escapeXml(s.name)} <small>(${escapeXml(s.file)}, seed ${s.seed}, ${s.nodes} nodes, ${escapeXml(s.profile)})</small></h2>
${s.description === '' ? '' : `<p>${escapeXml(s.description)}</p>`}
<p>Replay: <code>${escapeXml(r.replay)}</code></p>
${svgTimeline(r)}
<p class="legend">${LEGEND.map(([c, text]) => `<span><i style="background:${COLORS[c]}"></i>${escapeXml(text)}</span>`).join(' ')} <span><i style="background:#ef6c00;width:2px"></i>suspicion</span> <span><i style="background:#1e88e5;border-radius:50%"></i>refutation</span></p>
<table><tr><th></th><th>line</th><th>check</th><th>detail</th></tr>
${verdictRows(r.checkers)}
${verdictRows(r.assertions)}
</table>
<details><summary>metrics (JSON)</summary><pre>${escapeXml(JSON.stringify({ metrics: rest.metrics, wall: rest.wall }, null, 2))}</pre></details>
</section>`;
}

export function htmlReport(results: readonly RunResult[]): string {
  const passed = results.filter((r) => r.passed).length;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>shoal sim: ${passed}/${results.length} runs passed</title>
<style>
body{font-family:sans-serif;margin:1.5em;color:#212121}
h2.pass{color:#2e7d32}h2.fail{color:#c62828}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ddd;padding:3px 6px;font-size:13px;vertical-align:top;text-align:left}
tr.fail td:first-child{color:#c62828;font-weight:bold}tr.pass td:first-child{color:#2e7d32}
.legend span{margin-right:1em;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:3px;vertical-align:middle}
section{border-top:2px solid #eee;padding-top:.5em}
</style></head><body>
<h1>shoal sim: ${passed} of ${results.length} runs passed</h1>
${results.map(section).join('\n')}
</body></html>
`;
}
