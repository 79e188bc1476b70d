// What every experiment shares: summary statistics, plain-text tables, and measuring the cost
// of a run (wall and CPU time, peak RSS). Experiments print figures; they never assert them
// (DESIGN.md, "Testing layers").

/** One experiment's outcome: the figures as one JSON object, and the same figures as text. */
export interface ExperimentReport {
  readonly json: { readonly experiment: string } & Record<string, unknown>;
  readonly text: string;
}

export interface ExperimentOptions {
  readonly seed: number;
  /** Smaller sizes, for trying things. */
  readonly quick: boolean;
}

export interface Experiment {
  readonly name: string;
  readonly summary: string;
  run(options: ExperimentOptions): ExperimentReport;
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Nearest-rank percentile (p in 0..100) of values sorted ascending: the smallest value with at least p% of the sample at or below it. */
export function percentileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

export interface Summary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    mean: mean(sorted),
    p50: percentileSorted(sorted, 50),
    p99: percentileSorted(sorted, 99),
    max: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number),
  };
}

/** Rounds for JSON output, so figures read like the table (NaN and infinities become null). */
export function round(value: number, digits = 3): number | null {
  if (!Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function fixed(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : value === Infinity ? '∞' : '–';
}

/** A plain-text table: a header row, a rule, then rows; numbers (and anything else) right-aligned except the first column. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Wall time and CPU time (user + system) of a piece of work. */
export interface Cost {
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
}

export class Stopwatch {
  private readonly startNs = process.hrtime.bigint();
  private readonly startCpu = process.cpuUsage();

  cost(): Cost {
    const wallSeconds = Number(process.hrtime.bigint() - this.startNs) / 1e9;
    const cpu = process.cpuUsage(this.startCpu);
    return { wallSeconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  }
}

/** The simulation runs synchronously, so the caller samples RSS between steps of virtual time. */
export class RssSampler {
  peakBytes = process.memoryUsage().rss;

  sample(): void {
    const rss = process.memoryUsage().rss;
    if (rss > this.peakBytes) this.peakBytes = rss;
  }

  get peakMiB(): number {
    return this.peakBytes / (1024 * 1024);
  }
}
