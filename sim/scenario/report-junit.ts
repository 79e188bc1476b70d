// JUnit XML for CI: one test suite per run (scenario and seed), one test case per checker and
// per assertion; a failing case carries its detail and violations, and the replay command.
import type { RunResult, Verdict } from './result.js';

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function testcase(result: RunResult, v: Verdict, group: string): string {
  const name = escapeXml(`${group}: ${v.name}`);
  const classname = escapeXml(`sim.${result.scenario.name}.seed-${result.scenario.seed}`);
  if (v.passed) return `    <testcase name="${name}" classname="${classname}"><system-out>${escapeXml(v.detail)}</system-out></testcase>`;
  const body = [
    v.detail,
    ...(v.violations ?? []).map((x) => `at ${x.atSeconds}s: ${x.detail}`),
    `scenario ${result.scenario.file}${v.line > 0 ? ` line ${v.line}` : ''}`,
    `replay: ${result.replay}`,
  ].join('\n');
  return `    <testcase name="${name}" classname="${classname}"><failure message="${escapeXml(v.detail)}">${escapeXml(body)}</failure></testcase>`;
}

export function junitReport(results: readonly RunResult[]): string {
  const suites = results.map((r) => {
    const cases = [...r.checkers.map((v) => testcase(r, v, 'checker')), ...r.assertions.map((v) => testcase(r, v, 'assertion'))];
    const failures = [...r.checkers, ...r.assertions].filter((v) => !v.passed).length;
    const time = r.wall === undefined ? '' : ` time="${r.wall.seconds}"`;
    return `  <testsuite name="${escapeXml(`${r.scenario.name} (seed ${r.scenario.seed})`)}" tests="${cases.length}" failures="${failures}" errors="0"${time}>\n${cases.join('\n')}\n  </testsuite>`;
  });
  const tests = results.reduce((n, r) => n + r.checkers.length + r.assertions.length, 0);
  const failures = results.reduce((n, r) => n + [...r.checkers, ...r.assertions].filter((v) => !v.passed).length, 0);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="shoal sim" tests="${tests}" failures="${failures}">\n${suites.join('\n')}\n</testsuites>\n`;
}
