// `npm run fuzz:all -- --minutes M [--targets codec,engine-udp,engine-tcp,rpc,config] [--seed S]
// [--corpus DIR] [--port-base P]`: long fuzzing of every input surface in bench/hardening/fuzz-targets.ts,
// in turns of a few seconds each. Files under <corpus>/<target>/ join that target's seeds (saved
// crashes included, so they are replayed first thing next run); each crash's input is saved there
// as crash-<seed>-<iteration>.bin. Prints executions and crashes per target; exits 1 on any crash.
//
// The RPC target answers fuzzed but valid commands (join, event …), so as root the run re-executes
// itself in a network namespace of its own (`unshare -n`, loopback only): nothing leaves the host.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FuzzCrash, TARGETS, type TargetRunner } from './hardening/fuzz-targets.js';

const USAGE = 'usage: fuzz-all [--minutes M | --seconds S] [--targets a,b] [--seed N] [--corpus DIR] [--port-base P] [--json FILE]';
const { values } = parseArgs({
  options: {
    minutes: { type: 'string' }, seconds: { type: 'string' }, targets: { type: 'string' }, seed: { type: 'string' },
    corpus: { type: 'string', default: '.fuzz-corpus' }, 'port-base': { type: 'string', default: '27900' }, json: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help === true) {
  console.log(USAGE);
  process.exit(0);
}
const totalMs = values.seconds !== undefined ? Number(values.seconds) * 1000 : Number(values.minutes ?? '1') * 60_000;
if (!(totalMs > 0)) {
  console.error(`fuzz-all: the duration must be positive\n${USAGE}`);
  process.exit(2);
}
let names = values.targets === undefined ? Object.keys(TARGETS) : values.targets.split(',').map((s) => s.trim());
for (const n of names) {
  if (TARGETS[n] === undefined) {
    console.error(`fuzz-all: unknown target ${JSON.stringify(n)} (known: ${Object.keys(TARGETS).join(', ')})`);
    process.exit(2);
  }
}

if (names.includes('rpc') && process.env['SHOAL_FUZZ_NETNS'] !== '1') {
  const probe = spawnSync('unshare', ['-n', 'true']);
  if (probe.status === 0) {
    const r = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', process.execPath, ...process.argv.slice(1)], {
      stdio: 'inherit', env: { ...process.env, SHOAL_FUZZ_NETNS: '1' },
    });
    process.exit(r.status ?? 1);
  }
  console.log('fuzz-all: cannot make a network namespace (not root?): the rpc target is skipped');
  names = names.filter((n) => n !== 'rpc');
}

const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 0x1_0000_0000);
const corpusDir = values.corpus;
const SLICE_MS = Math.min(5_000, Math.max(250, totalMs / (names.length * 4)));

interface Tally {
  executions: number;
  crashes: number;
  unique: Map<string, number>;
  saved: number;
}
const tallies = new Map<string, Tally>(names.map((n) => [n, { executions: 0, crashes: 0, unique: new Map(), saved: 0 }]));
let processCrashes = 0;
process.on('uncaughtException', (err) => {
  processCrashes++;
  console.log(`CRASH (uncaught exception): ${err.stack ?? err.message}`);
});
process.on('unhandledRejection', (err) => {
  processCrashes++;
  console.log(`CRASH (unhandled rejection): ${String(err)}`);
});

function extraSeeds(target: string): Uint8Array[] {
  try {
    const dir = join(corpusDir, target);
    return readdirSync(dir).filter((f) => f.endsWith('.bin')).slice(0, 10_000).map((f) => new Uint8Array(readFileSync(join(dir, f))));
  } catch {
    return [];
  }
}

function record(target: string, crash: FuzzCrash, iteration: number): void {
  const t = tallies.get(target) as Tally;
  t.crashes++;
  const key = crash.message.split('\n')[0] ?? '';
  const seen = t.unique.get(key) ?? 0;
  t.unique.set(key, seen + 1);
  if (seen === 0) console.log(`CRASH in ${target} (seed ${seed}, iteration ${iteration}): ${crash.message}`);
  if (t.saved < 100) {
    mkdirSync(join(corpusDir, target), { recursive: true });
    writeFileSync(join(corpusDir, target, `crash-${seed}-${iteration}.bin`), crash.input);
    t.saved++;
  }
}

console.log(`fuzz-all: seed ${seed}, ${(totalMs / 60_000).toFixed(1)} min over ${names.join(', ')}; corpus ${corpusDir}; turns of ${SLICE_MS} ms`);
const runners = new Map<string, TargetRunner>();
const portBase = Number(values['port-base']);
for (const [i, n] of names.entries()) {
  const target = TARGETS[n];
  if (target === undefined) continue;
  runners.set(n, await target.open({ seed, extraSeeds: extraSeeds(n), portBase: portBase + i * 10, log: (l) => console.log(l) }));
}
const started = performance.now();
let nextProgress = started + 30_000;
const iterations = new Map(names.map((n) => [n, 0]));
while (performance.now() - started < totalMs) {
  for (const n of names) {
    const left = totalMs - (performance.now() - started);
    if (left <= 0) break;
    const runner = runners.get(n) as TargetRunner;
    const ran = await runner.run(Math.min(SLICE_MS, left), iterations.get(n) ?? 0, (crash, it) => record(n, crash, it));
    iterations.set(n, (iterations.get(n) ?? 0) + ran);
    (tallies.get(n) as Tally).executions += ran;
  }
  if (performance.now() >= nextProgress) {
    nextProgress += 30_000;
    console.log(`… ${Math.round((performance.now() - started) / 1000)} s: ${[...tallies].map(([n, t]) => `${n} ${t.executions} (${t.crashes} crashes)`).join(', ')}`);
  }
}
for (const r of runners.values()) await r.close();
const seconds = (performance.now() - started) / 1000;
let total = 0;
let crashes = processCrashes;
console.log(`fuzz-all: ${seconds.toFixed(0)} s, seed ${seed}`);
for (const [n, t] of tallies) {
  total += t.executions;
  crashes += t.crashes;
  console.log(`  ${n.padEnd(11)} ${String(t.executions).padStart(11)} executions (${Math.round(t.executions / seconds)}/s), ${t.crashes} crashes${t.unique.size > 0 ? ` (${t.unique.size} distinct)` : ''}`);
}
console.log(`  total       ${String(total).padStart(11)} executions, ${crashes} crashes${processCrashes > 0 ? ` (${processCrashes} uncaught in the process)` : ''}`);
if (values.json !== undefined) {
  writeFileSync(values.json, JSON.stringify({ seed, seconds, targets: Object.fromEntries([...tallies].map(([n, t]) => [n, { executions: t.executions, crashes: t.crashes, distinct: [...t.unique.keys()] }])), processCrashes }, null, 2));
}
process.exit(crashes > 0 ? 1 : 0);
