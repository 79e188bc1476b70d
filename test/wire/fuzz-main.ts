// Long-run fuzzing from the command line:
//   npm run fuzz -- --seconds 600
//   npm run fuzz -- --iterations 1000000 --seed 7 --corpus .fuzz-corpus/
// Prints progress every 10 s and a summary; saves each failing input as a .bin in the corpus
// directory; exits 1 if any bug was found.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runFuzz, summarize, type FuzzBug } from './fuzz.js';

const USAGE = 'usage: fuzz-main [--seconds N] [--iterations N] [--seed N] [--corpus DIR]';

function positiveInteger(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer, got ${JSON.stringify(text)}\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

function main(): void {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        seconds: { type: 'string' },
        iterations: { type: 'string' },
        seed: { type: 'string' },
        corpus: { type: 'string', default: '.fuzz-corpus' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help === true) {
    console.log(USAGE);
    return;
  }
  const seconds = positiveInteger('seconds', values.seconds);
  const iterations = positiveInteger('iterations', values.iterations);
  const seed = positiveInteger('seed', values.seed) ?? Math.floor(Math.random() * 0x1_0000_0000);
  const corpusDir = values.corpus;
  // Neither bound given: a minute, so a bare `npm run fuzz` ends.
  const bounds = seconds === undefined && iterations === undefined ? { seconds: 60 } : {};

  console.log(`fuzzing with seed ${seed}${seconds !== undefined ? ` for ${seconds} s` : ''}${iterations !== undefined ? ` for ${iterations} inputs` : ''}`);
  const saved: string[] = [];
  const stats = runFuzz({
    seed,
    ...bounds,
    ...(seconds === undefined ? {} : { seconds }),
    ...(iterations === undefined ? {} : { iterations }),
    onProgress: (s) => console.log(`… ${summarize(s)}`),
    onBug: (bug: FuzzBug, bytes: Uint8Array) => {
      console.log(`BUG ${bug.kind} in ${bug.fn} (seed ${bug.seed}, iteration ${bug.iteration}, ${bug.how}): ${bug.message}`);
      if (saved.length >= 1000) return;
      mkdirSync(corpusDir, { recursive: true });
      const file = join(corpusDir, `${bug.fn.replace(/[^A-Za-z0-9]+/g, '_')}-seed${bug.seed}-iter${bug.iteration}.bin`);
      writeFileSync(file, bytes);
      saved.push(file);
    },
  });
  console.log(summarize(stats));
  if (stats.bugCount > 0) {
    console.log(`${stats.bugCount} bug(s); ${saved.length} input(s) saved in ${corpusDir}`);
    process.exit(1);
  }
}

main();
