// The simulation suite (DESIGN.md, testing layer 4): every library scenario in sim/scenarios on its
// fixed seed, plus a few fresh random seeds (printed, so a failure replays), with reports written
// to sim-reports/ for CI to keep. Also: scenario validation names file and line, the same seed
// gives a byte-identical JSON report, a build with refutation switched off fails (the checkers
// can fail), the CLI's exit codes, the steppable run API, and the JSON schema matches the loader.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { runScenario } from '../../sim/scenario/execute.js';
import { ACTION_KINDS, FAULT_KINDS, loadScenarioFile, parseScenario, ScenarioError } from '../../sim/scenario/load.js';
import { htmlReport } from '../../sim/scenario/report-html.js';
import { junitReport } from '../../sim/scenario/report-junit.js';
import { textReport } from '../../sim/scenario/report-text.js';
import { jsonReport, resultOf, type RunResult } from '../../sim/scenario/result.js';
import { ScenarioRun } from '../../sim/scenario/run.js';
import { METRIC_NAMES } from '../../sim/scenario/types.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const libraryDir = join(root, 'sim/scenarios');
const reportsDir = join(root, 'sim-reports');
const cli = join(root, 'dist/src/cli/shoal.js');
const library = readdirSync(libraryDir).filter((f) => f.endsWith('.yaml')).sort();
/** Scenarios small enough to also run on fresh seeds within the suite's time budget. */
const FRESH_SEED_RUNS = 1;
const FRESH_SEED_MAX_NODES = 30;

mkdirSync(reportsDir, { recursive: true });

function keep(result: RunResult, tag: string): void {
  const base = join(reportsDir, `${result.scenario.name}-${tag}`);
  writeFileSync(`${base}.json`, jsonReport(result));
  writeFileSync(`${base}.xml`, junitReport([result]));
  writeFileSync(`${base}.html`, htmlReport([result]));
}

function failures(result: RunResult): string {
  return `${textReport(result, { quiet: true })}\nfull report: sim-reports/${result.scenario.name}-*.html`;
}

/** JSON without the wall-clock field: the part that must not change between runs. */
function stable(result: RunResult): string {
  const { wall: _wall, ...rest } = result;
  void _wall;
  return jsonReport(rest as RunResult);
}

test('the library holds the scenarios the issue asks for', () => {
  for (const name of ['partition-heal', 'minority-isolation', 'one-way-partition', 'flapping-link', 'loss-10', 'loss-30', 'crash-restart', 'rolling-restart', 'join-storm', 'paused-node', 'slow-node', 'bridge-node', 'mixed']) {
    assert.ok(library.includes(`${name}.yaml`), `sim/scenarios/${name}.yaml`);
  }
  const storm = loadScenarioFile(join(libraryDir, 'join-storm.yaml'));
  assert.equal(storm.nodeCount, 500);
});

for (const file of library) {
  test(`library scenario ${file} passes on its fixed seed`, () => {
    const result = runScenario(loadScenarioFile(join(libraryDir, file)));
    keep(result, `seed-${result.scenario.seed}`);
    assert.ok(result.passed, failures(result));
    // The catalog checker joins the five built-in ones in scenarios with the catalog.
    assert.equal(result.checkers.length, result.metrics.catalog === undefined ? 5 : 6);
  });
}

test(`small library scenarios pass on ${FRESH_SEED_RUNS} fresh random seeds each`, (t) => {
  for (const file of library) {
    const scenario = loadScenarioFile(join(libraryDir, file));
    if (scenario.nodeCount > FRESH_SEED_MAX_NODES) continue;
    for (let k = 0; k < FRESH_SEED_RUNS; k++) {
      const seed = randomInt(1, 2 ** 32 - 1);
      t.diagnostic(`${file} seed ${seed}: npx shoal sim sim/scenarios/${file} --seed ${seed}`);
      const result = runScenario({ ...scenario, file: `sim/scenarios/${file}` }, { seed });
      if (!result.passed) keep(result, `seed-${seed}`);
      assert.ok(result.passed, failures(result));
    }
  }
});

test('the same scenario and seed give a byte-identical JSON report (wall-clock figures aside)', () => {
  const scenario = loadScenarioFile(join(libraryDir, 'mixed.yaml'));
  const a = runScenario(scenario, { seed: 77 });
  const b = runScenario(scenario, { seed: 77 });
  assert.ok(a.wall !== undefined && a.wall.seconds >= 0);
  assert.equal(stable(a), stable(b));
  const c = runScenario(scenario, { seed: 78 });
  assert.notEqual(stable(a), stable(c), 'another seed is another run');
  const json = JSON.parse(jsonReport(a)) as Record<string, unknown>;
  assert.deepEqual(Object.keys(json), ['report', 'version', 'scenario', 'passed', 'replay', 'checkers', 'assertions', 'metrics', 'timeline', 'wall']);
  const metrics = a.metrics;
  assert.ok(metrics.detection.crashes.length === 1 && metrics.detection.crashes[0]?.allDetectedSeconds !== null);
  assert.ok(metrics.dissemination.events.length === 20 && metrics.dissemination.events.every((e) => e.curve['p50'] !== null));
  assert.ok(metrics.traffic.perNode.length === 24 && metrics.traffic.bytesPerNodePerSecond.mean !== null);
  assert.equal(a.replay, `npx shoal sim ${scenario.file} --seed 77`);
});

test('with refutation switched off (a deliberately broken build) the checkers fail, with a clear report', () => {
  for (const file of ['short-partition.yaml', 'flapping-link.yaml']) {
    const scenario = loadScenarioFile(join(libraryDir, file));
    const healthy = runScenario(scenario);
    assert.ok(healthy.passed, failures(healthy));
    const broken = runScenario(scenario, { memberlistOverrides: { testOnlyDisableRefutation: true } });
    keep(broken, 'refutation-disabled');
    assert.equal(broken.passed, false, `${file} must fail without refutation`);
    const convergence = broken.checkers.find((c) => c.name.startsWith('every live view converges'));
    assert.ok(convergence !== undefined && !convergence.passed);
    assert.match(convergence.detail, /not converged .* after the heal .*: node-\d+ is live but only \d+ of \d+ live nodes see it alive/);
    const text = textReport(broken);
    assert.match(text, /^FAILED/);
    assert.match(text, /✗ FAIL {2}every live view converges after the final heal/);
    assert.match(text, /replay: npx shoal sim .* --seed \d+/);
    assert.match(junitReport([broken]), /<failure message="not converged/);
    assert.match(htmlReport([broken]), /<svg[^>]*>[\s\S]*<\/svg>/);
  }
});

test('the built-in checkers catch what they are for', () => {
  // A false positive: refutation off and a node whose receive path stalls is not "unreachable";
  // the healthy peers it wrongly suspects cannot refute, so they are declared failed.
  const yaml = [
    'seed: 3', 'nodes: 8', 'duration: 40s', 'timeline:', '  - at: 5s', '    for: 20s', '    slow: node-1',
  ].join('\n');
  const scenario = parseScenario(yaml, 'inline.yaml');
  const result = runScenario(scenario, { memberlistOverrides: { testOnlyDisableRefutation: true } });
  const fp = result.checkers.find((c) => c.name.startsWith('false positives'));
  assert.ok(fp !== undefined);
  assert.equal(fp.passed, false, JSON.stringify(result.checkers));
  assert.ok((fp.violations ?? []).length > 0);
  assert.ok(result.metrics.falsePositives.count > 0);
});

test('invalid scenarios: the error names the file, the line and what is expected', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['seed: 1\nnodes: 4\nduration: 10s\ntimeline:\n  - at: 2s\n    partition: ["node-0", "node-9"]\n', 6, /expected a node name node-0 … node-3/],
    ['seed: 1\nnodes: 4\nduration: 10\n', 3, /duration: expected a duration with a unit, like 250ms, 10s or 2m/],
    ['seed: 1\nnodes: 4\nduration: 10s\nfrobnicate: true\n', 4, /unknown key 'frobnicate'/],
    ['seed: 1\nnodes: 4\nduration: 10s\ntimeline:\n  - at: 2s\n    crash: node-1\n    for: 3s\n', 7, /'for' belongs to faults/],
    ['seed: 1\nnodes: 4\nduration: 10s\ntimeline:\n  - at: 20s\n    crash: node-1\n', 5, /before the final heal/],
    ['seed: 1\nnodes: 4\nduration: 10s\nassertions:\n  - eventually: converged\n', 5, /missing 'within'/],
    ['seed: 1\nnodes: 4\nduration: 10s\nassertions:\n  - metric: speed\n    max: 3\n', 5, /metric: expected one of detectionLatencyP99/],
    ['seed: 1\nnodes: 4\nduration: 10s\ntimeline:\n  - at: 1s\n    loss: 1.5\n', 6, /loss: expected a number from 0 to 1/],
    ['nodes: 4\nduration: 10s\n', 1, /missing 'seed'/],
    ['seed: 1\nnodes: [4\n', 3, /valid YAML/],
  ];
  for (const [text, line, expected] of cases) {
    assert.throws(() => parseScenario(text, 'bad.yaml'), (err: unknown) => {
      assert.ok(err instanceof ScenarioError, String(err));
      assert.equal(err.file, 'bad.yaml');
      assert.equal(err.line, line, `${err.message} (for ${JSON.stringify(text)})`);
      assert.match(err.message, new RegExp(`^bad\\.yaml:${line}: `));
      assert.match(err.message, expected);
      return true;
    });
  }
});

test('node sets: names, ranges, shares and rest', () => {
  const s = parseScenario([
    'seed: 1', 'nodes: 10', 'duration: 30s', 'timeline:',
    '  - at: 1s', '    partition: ["first 30%", "node-5..node-6", rest]',
    '  - at: 2s', '    crash: [last 2, node-0]',
    '  - at: 3s', '    pause: random 3',
  ].join('\n'), 'sets.yaml');
  const [partition, crash, pause] = s.timeline;
  assert.deepEqual(partition?.fault, { kind: 'partition', groups: [[0, 1, 2], [5, 6], [3, 4, 7, 8, 9]] });
  assert.deepEqual(crash?.action, { kind: 'crash', nodes: [0, 8, 9] });
  assert.equal(pause?.fault?.kind === 'pause' ? pause.fault.nodes.length : -1, 3);
});

test('the JSON schema lists exactly what the loader accepts', () => {
  const schema = JSON.parse(readFileSync(join(libraryDir, 'scenario.schema.json'), 'utf8')) as {
    required: string[]; properties: Record<string, unknown>;
    $defs: { assertion: { oneOf: Array<{ properties: { metric?: { enum: string[] } } }> } };
  };
  assert.deepEqual(schema.required, ['seed', 'nodes', 'duration']);
  assert.deepEqual(Object.keys(schema.properties).sort(), ['assertions', 'catalog', 'check', 'description', 'duration', 'falsePositives', 'heal', 'latency', 'links', 'name', 'nodes', 'profile', 'seed', 'start', 'timeline', 'timing']);
  const entries = (schema.properties['timeline'] as { items: { oneOf: Array<{ required: string[] }> } }).items.oneOf;
  assert.deepEqual(entries.map((e) => e.required[1]), [...FAULT_KINDS, ...ACTION_KINDS]);
  assert.deepEqual(schema.$defs.assertion.oneOf[3]?.properties.metric?.enum, [...METRIC_NAMES]);
  // Every library file uses only keys the schema knows at the top level.
  for (const file of library) {
    const text = readFileSync(join(libraryDir, file), 'utf8');
    for (const m of text.matchAll(/^([a-zA-Z]+):/gm)) assert.ok((m[1] as string) in schema.properties, `${file}: ${m[1]}`);
  }
});

test('ScenarioRun is steppable and observable (what the TUI drives)', () => {
  const scenario = loadScenarioFile(join(libraryDir, 'crash-restart.yaml'));
  const run = new ScenarioRun(scenario);
  assert.equal(run.now, 0);
  assert.ok(run.step());
  assert.equal(run.now, scenario.checkEveryMs);
  run.advanceTo(12_000);
  assert.equal(run.now, 12_000);
  assert.equal(run.cluster.host('node-3').status, 'crashed');
  assert.deepEqual(run.record.crashes.map((c) => c.node), ['node-3', 'node-7']);
  assert.equal(run.finished, false);
  run.finish();
  assert.ok(run.finished);
  const result = resultOf(run);
  assert.ok(result.passed, failures(result));
  assert.deepEqual(result.timeline.actions.map((a) => a.kind), ['crash', 'restart', 'restart']);
  assert.ok(result.timeline.nodeStates['node-3']?.some(([code]) => code === 'x'));
});

test('shoal sim: exit 0 when everything holds, 1 with the replay command when not, 2 for an invalid file', () => {
  const dir = join(reportsDir, 'cli');
  mkdirSync(dir, { recursive: true });
  const ok = spawnSync(process.execPath, [cli, 'sim', join(libraryDir, 'paused-node.yaml'), '--seed', '5', '--junit', join(dir, 'ok.xml'), '--html', join(dir, 'ok.html')], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^PASSED {2}paused-node/);
  assert.match(ok.stdout, /speed: .* virtual s in .* s wall/);
  assert.match(readFileSync(join(dir, 'ok.xml'), 'utf8'), /<testsuite name="paused-node \(seed 5\)" tests="7" failures="0"/);

  const json = spawnSync(process.execPath, [cli, 'sim', join(libraryDir, 'paused-node.yaml'), '--json'], { encoding: 'utf8' });
  assert.equal(json.status, 0, json.stderr);
  assert.equal((JSON.parse(json.stdout) as RunResult).scenario.seed, 10);

  const failing = join(dir, 'impossible.yaml');
  writeFileSync(failing, 'seed: 4\nnodes: 5\nduration: 20s\ntimeline:\n  - at: 5s\n    crash: node-2\nassertions:\n  - never:\n      seen: { nodes: node-2, as: failed }\n');
  const bad = spawnSync(process.execPath, [cli, 'sim', failing, '--quiet'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stdout, /✗ FAIL {2}line 8: never/);
  assert.match(bad.stderr, new RegExp(`replay it with: npx shoal sim ${failing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} --seed 4`));

  const invalid = join(dir, 'invalid.yaml');
  writeFileSync(invalid, 'seed: 4\nnodes: 5\nduration: 20s\ntimeline:\n  - at: 5s\n    crash: node-7\n');
  const inv = spawnSync(process.execPath, [cli, 'sim', invalid], { encoding: 'utf8' });
  assert.equal(inv.status, 2);
  assert.match(inv.stderr, new RegExp(`${invalid.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:6: crash: expected a node name`));

  const sweep = spawnSync(process.execPath, [cli, 'sim', join(libraryDir, 'bridge-node.yaml'), '--seeds', '1..3', '--threads', '2', '--quiet'], { encoding: 'utf8' });
  assert.equal(sweep.status, 0, sweep.stderr);
  assert.match(sweep.stdout, /bridge-node: 3\/3 seeds passed/);
});
