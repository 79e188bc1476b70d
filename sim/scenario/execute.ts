// Running a scenario to the end and measuring what it cost in wall time and memory (the only
// figures that vary between runs; they go to the report's `wall` field).
import { RssSampler, Stopwatch, round } from '../experiments/report.js';
import { resultOf, type RunResult } from './result.js';
import { ScenarioRun, type RunOptions } from './run.js';
import type { Scenario } from './types.js';

/** Sample RSS every this many steps (a sample costs a system call). */
const RSS_EVERY_STEPS = 20;

export function runScenario(scenario: Scenario, options: RunOptions = {}): RunResult {
  const watch = new Stopwatch();
  const rss = new RssSampler();
  const run = new ScenarioRun(scenario, options);
  let steps = 0;
  while (run.step()) if (++steps % RSS_EVERY_STEPS === 0) rss.sample();
  run.finish();
  rss.sample();
  const result = resultOf(run);
  const cost = watch.cost();
  result.wall = {
    seconds: round(cost.wallSeconds, 2) ?? 0,
    simSecondsPerWallSecond: round(run.now / 1000 / cost.wallSeconds, 2),
    eventsPerSecond: round(run.cluster.world.scheduler.executed / cost.wallSeconds, 0),
    peakRssMiB: round(rss.peakMiB, 0) ?? 0,
  };
  return result;
}
