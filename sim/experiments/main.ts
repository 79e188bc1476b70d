// The deterministic experiments of issue #3 (`shoal sim experiment [NAME] [--json] [--seed N] [--quick]`,
// or `npm run experiments -- …`; run-experiments.ts is that script).
// Each experiment runs the real protocol core and codec on the simulator and prints its figures
// beside the reference figures (SWIM, memberlist, real Serf). Figures are a pure function of the
// seed; only the wall and CPU times vary from run to run.
//
//   NAME      one of the experiments below; none runs them all
//   --json    one JSON object per experiment and line, instead of the tables
//   --seed N  the seed (default 1)
//   --quick   smaller sizes, for trying things
import { parseArgs } from 'node:util';
import { crashToDead } from './crash-to-dead.js';
import { dissemination } from './dissemination.js';
import { firstDetection } from './first-detection.js';
import { lifeguard } from './lifeguard.js';
import { partitionHeal } from './partition-heal.js';
import type { Experiment } from './report.js';
import { speed } from './speed.js';

export const EXPERIMENTS: readonly Experiment[] = [firstDetection, crashToDead, dissemination, lifeguard, speed, partitionHeal];
const DEFAULT_SEED = 1;

let invocation = 'npm run experiments --';

function usage(): string {
  return [
    `usage: ${invocation} [NAME] [--json] [--seed N] [--quick]`,
    '',
    'experiments:',
    ...EXPERIMENTS.map((e) => `  ${e.name.padEnd(16)} ${e.summary}`),
  ].join('\n');
}

class UsageError extends Error {}

function fail(message: string): never {
  throw new UsageError(message);
}

/**
 * Runs the experiments as `invocation` (how the user called them, for usage and replay lines)
 * with these arguments; returns the exit code (2: bad arguments, after printing why).
 */
export function experimentsMain(argv: readonly string[], as = 'npm run experiments --'): number {
  invocation = as;
  try {
    run(argv);
    return 0;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n\n${usage()}`);
    return 2;
  }
}

function run(argv: readonly string[]): void {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        seed: { type: 'string' },
        quick: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(usage());
    return;
  }
  if (positionals.length > 1) fail(`expected at most one experiment name, got ${positionals.join(' ')}`);
  const name = positionals[0];
  const selected = name === undefined ? EXPERIMENTS : EXPERIMENTS.filter((e) => e.name === name);
  if (selected.length === 0) fail(`unknown experiment '${name}'`);
  const seed = values.seed === undefined ? DEFAULT_SEED : Number(values.seed);
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) fail(`--seed wants an integer from 0 to 4294967295, got ${JSON.stringify(values.seed)}`);

  for (const [i, experiment] of selected.entries()) {
    const report = experiment.run({ seed, quick: values.quick });
    if (values.json) {
      console.log(JSON.stringify({ ...report.json, seed, quick: values.quick }));
    } else {
      if (i > 0) console.log('');
      console.log(report.text);
      console.log(`(seed ${seed}${values.quick ? ', --quick' : ''}; replay: ${invocation} ${experiment.name} --seed ${seed}${values.quick ? ' --quick' : ''})`);
    }
  }
}

