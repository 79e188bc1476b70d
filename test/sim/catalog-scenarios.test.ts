// Scenarios with the catalog (issue #8's simulator items): the service workload (register,
// deregister, check-flap, services re-registered by a restarted process), the catalog checker
// (every live catalog matches the truth after the heal; it fails when the catalog cannot
// spread), catalog metrics in every report, determinism, and file:line validation.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { runScenario } from '../../sim/scenario/execute.js';
import { loadScenarioFile, parseScenario, ScenarioError } from '../../sim/scenario/load.js';
import { htmlReport } from '../../sim/scenario/report-html.js';
import { junitReport } from '../../sim/scenario/report-junit.js';
import { textReport } from '../../sim/scenario/report-text.js';
import { jsonReport, resultOf, type RunResult } from '../../sim/scenario/result.js';
import { ScenarioRun } from '../../sim/scenario/run.js';
import type { CatalogCluster } from '../../sim/catalog-cluster.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

const WORKLOAD = [
  'seed: 2',
  'nodes: 6',
  'duration: 24s',
  'catalog:',
  '  within: 15s',
  '  services:',
  '    - { name: web, port: 80, checks: [web-ttl] }',
  'timeline:',
  '  - at: 2s',
  '    register: { nodes: node-1, service: { name: api, id: api-1, port: 9000, tags: [v2], checks: [{ id: api-ttl, status: warning }] } }',
  '  - at: 4s',
  '    for: 6s',
  '    check-flap: { nodes: node-2, check: web-ttl, every: 100ms }',
  '  - at: 5s',
  '    deregister: { nodes: node-0, service: web }',
  '  - at: 8s',
  '    crash: node-3',
  '  - at: 12s',
  '    restart: node-3',
  '  - at: 14s',
  '    crash: node-4',
  '  - at: 16s',
  '    leave: node-5',
  'assertions:',
  '  - eventually: catalog-converged',
  '    within: 15s',
].join('\n');

function stable(result: RunResult): string {
  const { wall: _wall, ...rest } = result;
  void _wall;
  return jsonReport(rest as RunResult);
}

test('service workload: registrations, deregistration, a flapping check, a restart re-registering, a crash and a leave', () => {
  const run = new ScenarioRun(parseScenario(WORKLOAD, 'workload.yaml'));
  run.finish();
  const result = resultOf(run);
  assert.ok(result.passed, textReport(result));
  const cluster = run.cluster as CatalogCluster;
  const catalog = cluster.node('node-1').catalog;
  // web: node-0 deregistered it, node-5 left; node-4 crashed (listed, critical); node-3 restarted and registered it again.
  assert.deepEqual(catalog.instances('web').map((i) => i.node.name), ['node-1', 'node-2', 'node-3', 'node-4']);
  assert.deepEqual(catalog.passingInstances('web').map((i) => i.node.name), ['node-1', 'node-2', 'node-3']);
  assert.equal(catalog.instances('web').find((i) => i.node.name === 'node-4')?.checks[0]?.Status, 'critical');
  const api = cluster.node('node-0').catalog.instances('api');
  assert.deepEqual(api.map((i) => [i.node.name, i.service.ID, i.service.Tags, i.checks.map((c) => `${c.CheckID}:${c.Status}`)]), [
    ['node-1', 'api-1', ['v2'], ['serfHealth:passing', 'api-ttl:warning']],
  ]);
  assert.equal(cluster.node('node-3').local.service('web')?.Port, 80, 'the restarted process registered its configured service again');
  // 60 toggles in 6 s on node-2: the rate limit folded most of them; the window left the check passing.
  const flapper = cluster.node('node-2');
  assert.ok(flapper.gossip.stats.coalesced >= 30, `coalesced ${flapper.gossip.stats.coalesced}`);
  assert.equal(flapper.local.check('web-ttl')?.Status, 'passing');
  const m = result.metrics.catalog;
  assert.ok(m !== undefined && m !== null);
  assert.deepEqual(m.changes.map((c) => c.label), ['register', 'deregister', 'check-flap (window over)']);
  assert.ok(m.changes.every((c) => c.fullAfterSeconds !== null && c.fullAfterSeconds < 10), JSON.stringify(m.changes));
  assert.ok(m.afterHealSeconds !== null && m.bytesPerNodePerSecond !== null && m.bytesPerNodePerSecond > 0);
  assert.ok(m.coalesced >= 30 && m.malformed === 0);
  const checker = result.checkers.find((c) => c.name.startsWith('every live catalog matches the truth'));
  assert.ok(checker?.passed === true, checker?.detail);
  assert.match(textReport(result), /catalog: full at every node .* after the heal/);
  assert.ok(result.timeline.catalogSamples !== undefined && result.timeline.catalogSamples.length > 0);
});

test('the same catalog scenario and seed give a byte-identical JSON report', () => {
  const scenario = parseScenario(WORKLOAD, 'workload.yaml');
  const a = runScenario(scenario, { seed: 11 });
  const b = runScenario(scenario, { seed: 11 });
  assert.equal(stable(a), stable(b));
  assert.notEqual(stable(a), stable(runScenario(scenario, { seed: 12 })));
});

test('the catalog checker fails when the catalog cannot spread, with a clear report', () => {
  const scenario = loadScenarioFile(join(root, 'sim/scenarios/catalog-churn.yaml'));
  // No rumors and no anti-entropy: only the hellos at formation, before any service exists.
  const broken = runScenario(scenario, { catalogGossip: { fanout: 0, antiEntropyIntervalMs: 3_600_000 } });
  assert.equal(broken.passed, false);
  const checker = broken.checkers.find((c) => c.name === 'every live catalog matches the truth after the final heal');
  assert.ok(checker !== undefined && !checker.passed);
  assert.match(checker.detail, /not matched .* after the heal \(limit 20s\): 0 live nodes hold the full catalog, \d+ \(observer, node\) pairs differ; node-\d+ on node-\d+: sees 0 services, it has [12]/);
  assert.match(textReport(broken), /✗ FAIL {2}every live catalog matches the truth after the final heal/);
  assert.match(junitReport([broken]), /<failure message="not matched/);
  assert.match(htmlReport([broken]), /every live catalog matches the truth/);
  const eventually = broken.assertions.find((a) => a.name.startsWith('eventually catalog-converged'));
  assert.equal(eventually?.passed, false);
});

test('invalid catalog workload: the error names the file, the line and what is expected', () => {
  const head = 'seed: 1\nnodes: 4\nduration: 20s\n';
  const cases: Array<[string, number, RegExp]> = [
    [`${head}timeline:\n  - at: 2s\n    deregister: { nodes: node-1, service: nope }\n`, 5, /deregister.service: no register entry \(or catalog.services\) declares a service with ID 'nope'/],
    [`${head}catalog:\n  services: [web]\ntimeline:\n  - at: 2s\n    check-flap: { nodes: node-1, check: web-ttl }\n`, 7, /check-flap.check: no register entry .* declares a check with ID 'web-ttl'/],
    [`${head}timeline:\n  - at: 2s\n    register: { nodes: node-1, service: { name: web, checks: [{ id: c, status: broken }] } }\n`, 6, /status: expected one of passing, warning, critical/],
    [`${head}timeline:\n  - at: 2s\n    register: { nodes: node-9, service: web }\n`, 6, /register.nodes: expected a node name/],
    [`${head}timeline:\n  - at: 2s\n    register: { nodes: node-1 }\n`, 6, /register: expected 'nodes' and 'service'/],
    [`${head}catalog:\n  services:\n    - { name: web, port: 70000 }\n`, 6, /port: expected an integer from 0 to 65535/],
    [`${head}catalog:\n  services: [web, web]\n`, 5, /service ID 'web' twice/],
    [`${head}catalog:\n  within: soon\n`, 5, /catalog.within: expected a duration/],
    [`${head}assertions:\n  - eventually: catalog-converged\n    within: 5s\n`, 5, /catalog-converged: expected a scenario with the catalog/],
    [`${head}catalog: true\ntimeline:\n  - at: 2s\n    register: { nodes: node-1, service: web }\n    for: 3s\n`, 8, /'for' belongs to faults .* and check-flap/],
  ];
  for (const [text, line, expected] of cases) {
    assert.throws(() => parseScenario(text, 'bad.yaml'), (err: unknown) => {
      assert.ok(err instanceof ScenarioError, String(err));
      assert.equal(err.line, line, `${err.message} (for ${JSON.stringify(text)})`);
      assert.match(err.message, expected);
      return true;
    });
  }
  // Opting in: `catalog: true`, a `catalog:` mapping, or catalog workload alone.
  assert.notEqual(parseScenario(`${head}catalog: true\n`, 'ok.yaml').catalog, null);
  assert.equal(parseScenario(head, 'plain.yaml').catalog, null);
  const implied = parseScenario(`${head}timeline:\n  - at: 2s\n    register: { nodes: all, service: web }\n`, 'ok.yaml');
  assert.deepEqual(implied.catalog, { withinMs: 60_000, initial: [] });
});
