// `shoal sim FILE... [--seed N | --seeds A..B] [--json] [--junit FILE] [--html FILE] [--quiet]`
// runs scenario files on the deterministic simulator; `shoal sim experiment [NAME]` runs the
// experiments of the membership core. Exit codes: 0 every checker and assertion held, 1 one
// failed (the replay command is printed), 2 a scenario file (or an argument) is invalid.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { experimentsMain } from '../../sim/experiments/main.js';
import { runScenario } from '../../sim/scenario/execute.js';
import { ScenarioRun } from '../../sim/scenario/run.js';
import { loadScenarioFile, ScenarioError } from '../../sim/scenario/load.js';
import { htmlReport } from '../../sim/scenario/report-html.js';
import { junitReport } from '../../sim/scenario/report-junit.js';
import { textReport } from '../../sim/scenario/report-text.js';
import { jsonReport, type RunResult } from '../../sim/scenario/result.js';
import { sweep } from '../../sim/scenario/sweep.js';
import { respawnWithSimHeap } from './sim-heap.js';
import type { Scenario } from '../../sim/scenario/types.js';
import type { FaultWindow, SimDriver } from '../tui/sim-source.js';

export const SimExit = { ok: 0, failed: 1, invalid: 2 } as const;

interface SimOptions {
  readonly seed?: string;
  readonly seeds?: string;
  readonly json?: boolean;
  readonly junit?: string;
  readonly html?: string;
  readonly quiet?: boolean;
  readonly threads?: string;
  readonly tui?: boolean;
}

class UsageError extends Error {}

function parseSeed(text: string, flag: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n > 0xffffffff) throw new UsageError(`${flag} wants an integer from 0 to 4294967295, got '${text}'`);
  return n;
}

function parseSeeds(text: string): number[] {
  const m = /^(\d+)\.\.(\d+)$/.exec(text);
  if (m === null) throw new UsageError(`--seeds wants a range A..B (like 1..200), got '${text}'`);
  const a = parseSeed(m[1] as string, '--seeds');
  const b = parseSeed(m[2] as string, '--seeds');
  if (b < a) throw new UsageError(`--seeds ${text} runs backwards`);
  if (b - a >= 100_000) throw new UsageError(`--seeds ${text} is more than 100000 runs`);
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

/** Runs the scenario files; returns the exit code. */
export async function simMain(files: readonly string[], options: SimOptions, print: (line: string) => void = console.log, printError: (line: string) => void = console.error): Promise<number> {
  let scenarios: Scenario[];
  let seeds: number[] | null = null;
  try {
    if (files.length === 0) throw new UsageError('shoal sim wants at least one scenario file (YAML); see docs/simulator.md');
    if (options.seed !== undefined && options.seeds !== undefined) throw new UsageError('give --seed or --seeds, not both');
    if (options.seed !== undefined) seeds = [parseSeed(options.seed, '--seed')];
    if (options.seeds !== undefined) seeds = parseSeeds(options.seeds);
    scenarios = files.map((f) => loadScenarioFile(f));
  } catch (err) {
    if (err instanceof ScenarioError || err instanceof UsageError) {
      printError(`shoal sim: ${err.message}`);
      return SimExit.invalid;
    }
    throw err;
  }

  if (options.tui === true) {
    const problem = tuiUsageProblem(files, options);
    if (problem !== null) {
      printError(`shoal sim: ${problem}`);
      return SimExit.invalid;
    }
    const scenario = scenarios[0] as Scenario;
    const run = new ScenarioRun(scenario, seeds === null ? {} : { seed: seeds[0] as number });
    // The TUI module loads blessed: only a --tui run pays for it.
    const { runSimTui } = await import('../tui/run.js');
    return runSimTui(scenarioDriver(run), { speed: 1, observer: scenario.nodeNames[scenario.start[0] as number] as string });
  }

  if (options.seeds !== undefined && seeds !== null) return runSweep(scenarios, seeds, options, print, printError);

  const results: RunResult[] = [];
  for (const scenario of scenarios) {
    const result = runScenario(scenario, seeds === null ? {} : { seed: seeds[0] as number });
    results.push(result);
    if (options.json !== true) {
      print(textReport(result, { quiet: options.quiet === true }));
      if (!result.passed && options.quiet !== true) print('');
    }
  }
  if (options.json === true) print(results.length === 1 ? jsonReport(results[0] as RunResult).trimEnd() : JSON.stringify(results, null, 2));
  writeReports(results, options);
  const failed = results.filter((r) => !r.passed);
  for (const r of failed) printError(`shoal sim: ${r.scenario.name} failed; replay it with: ${r.replay}`);
  return failed.length === 0 ? SimExit.ok : SimExit.failed;
}

function tuiUsageProblem(files: readonly string[], options: SimOptions): string | null {
  if (files.length !== 1) return `--tui shows one scenario, got ${files.length} files`;
  const others = (['seeds', 'json', 'junit', 'html', 'quiet', 'threads'] as const).filter((k) => options[k] !== undefined);
  if (others.length > 0) return `--tui cannot be combined with ${others.map((k) => `--${k}`).join(', ')} (run without --tui for reports)`;
  return null;
}

/**
 * A scenario run as the TUI's SimDriver. The run lists a fault once it has started; the TUI also
 * wants the ones still to come (the header's "next: …"), so the timeline's planned windows are
 * added until they start. A run ends when its heal has converged and every assertion is decided,
 * which may be before its planned end: the clock stops there.
 */
export function scenarioDriver(run: ScenarioRun): SimDriver {
  const planned = run.scenario.timeline.filter((e) => e.fault !== undefined);
  return {
    get now() {
      return run.now;
    },
    advanceTo: (virtualMs) => run.advanceTo(virtualMs),
    step: () => run.step(),
    cluster: run.cluster,
    get faults(): FaultWindow[] {
      const started = new Set(run.faults.map((f) => f.line));
      const upcoming = planned
        .filter((e) => !started.has(e.line) && e.atMs >= run.now)
        .map((e): FaultWindow => ({ kind: e.fault?.kind ?? 'fault', startMs: e.atMs, endMs: e.endMs ?? null, nodes: [], label: e.label }));
      return [...run.faults, ...upcoming];
    },
    get endMs() {
      return run.finished ? run.now : run.endMs;
    },
  };
}

function writeReports(results: readonly RunResult[], options: SimOptions): void {
  if (options.junit !== undefined) writeFileSync(options.junit, junitReport(results));
  if (options.html !== undefined) writeFileSync(options.html, htmlReport(results));
}

async function runSweep(scenarios: readonly Scenario[], seeds: readonly number[], options: SimOptions, print: (line: string) => void, printError: (line: string) => void): Promise<number> {
  const tasks = scenarios.flatMap((s) => seeds.map((seed) => ({ file: s.file, seed })));
  const threads = options.threads === undefined ? undefined : parseSeed(options.threads, '--threads');
  const started = process.hrtime.bigint();
  const results = await sweep(tasks, {
    ...(threads === undefined ? {} : { threads: Math.max(1, threads) }),
    onResult: (_task, r) => {
      if (options.json === true) return;
      if (!r.passed) print(textReport({ ...r, timeline: emptyTimeline() }, { quiet: true }));
      else if (options.quiet !== true) print(`PASSED  ${r.scenario.name} seed ${r.scenario.seed} (${r.wall?.seconds ?? '?'} s)`);
    },
  });
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (options.json === true) for (const r of results) print(JSON.stringify(r));
  if (options.junit !== undefined) writeFileSync(options.junit, junitReport(results.map((r) => ({ ...r, timeline: emptyTimeline() }))));
  if (options.html !== undefined) printError('shoal sim: --html is for single runs (a sweep keeps no timelines); replay a seed with --seed N --html FILE');
  const lines: string[] = ['', `sweep: ${tasks.length} runs on ${threads ?? 'every'} core(s) in ${wallSeconds.toFixed(1)} s`];
  for (const s of scenarios) {
    const mine = results.filter((r) => r.scenario.file === s.file);
    const passed = mine.filter((r) => r.passed).length;
    lines.push(`  ${passed === mine.length ? 'PASSED' : 'FAILED'}  ${s.name}: ${passed}/${mine.length} seeds passed${passed === mine.length ? '' : `; failing seeds: ${mine.filter((r) => !r.passed).map((r) => r.scenario.seed).join(' ')}`}`);
  }
  if (options.json !== true) print(lines.join('\n'));
  const failed = results.filter((r) => !r.passed);
  for (const r of failed.slice(0, 20)) printError(`shoal sim: ${r.scenario.name} seed ${r.scenario.seed} failed; replay it with: ${r.replay}`);
  return failed.length === 0 ? SimExit.ok : SimExit.failed;
}

function emptyTimeline(): RunResult['timeline'] {
  return { endSeconds: 0, healSeconds: null, faults: [], actions: [], suspicions: [], refutations: [], samples: [], nodeStates: {} };
}

export function registerSim(program: Command): void {
  const sim = program
    .command('sim')
    .description('run scenario files (YAML) on the deterministic simulator: faults, workload, checkers, reports (docs/simulator.md)')
    .argument('[files...]', 'scenario files')
    .option('--seed <n>', "run with this seed instead of the file's")
    .option('--seeds <a..b>', 'run every seed from a to b, spread over worker threads (one per core)')
    .option('--threads <n>', 'worker threads for --seeds (default: one per core)')
    .option('--json', 'print the JSON report instead of the summary')
    .option('--junit <file>', 'write a JUnit XML report (one test case per checker and assertion)')
    .option('--html <file>', 'write a self-contained HTML report with an SVG timeline')
    .option('--quiet', 'print only failures (and one line per run)')
    .option('--tui', 'watch one scenario in the terminal UI: virtual clock at real time (+/- faster/slower), space pauses, n steps, faults marked')
    .addHelpText('after', '\nExit codes: 0 every checker and assertion held, 1 one failed (the replay command is printed), 2 an invalid scenario.')
    .action(async (files: string[], options: SimOptions) => {
      // A run gets a heap sized for simulation (sim-heap.ts); the terminal UI stays in this process.
      const respawned = options.tui === true ? null : respawnWithSimHeap();
      if (respawned !== null) {
        process.exitCode = await respawned;
        return;
      }
      const code = await simMain(files, options);
      // The terminal UI leaves stdin's handle behind: end here, as `shoal tui` does.
      if (options.tui === true) process.exit(code);
      process.exitCode = code;
    });
  sim
    .command('experiment')
    .description('run the membership experiments (first-detection, crash-to-dead, dissemination, lifeguard, speed, partition-heal) and print their tables')
    .argument('[args...]', 'NAME [--json] [--seed N] [--quick]')
    .allowUnknownOption(true)
    .helpOption(false)
    .action((args: string[]) => {
      // `sim` owns --seed and --json, so commander hands them to it even after `experiment`
      // (shoal's program does not use positional options); give them back to the experiments.
      const parent = sim.opts<SimOptions>();
      const passed = [...args, ...(parent.seed === undefined ? [] : ['--seed', parent.seed]), ...(parent.json === true ? ['--json'] : [])];
      process.exitCode = experimentsMain(passed, 'shoal sim experiment');
    });
}
