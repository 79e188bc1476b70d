// The TUI over a simulation: a hand-built SerfCluster behind a small SimDriver that applies its own
// fault timeline; the screens follow the virtual clock, mark the faults, and show the crash
// detected and the partition healed. Pacing keys change speed, pause and single-step.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SerfCluster } from '../../sim/serf-cluster.js';
import { TuiModel } from '../../src/tui/model.js';
import { render, toText } from '../../src/tui/render.js';
import { SimSource, type FaultWindow, type SimDriver } from '../../src/tui/sim-source.js';

/** A driver that applies crash and partition windows as the clock passes them. */
function driverWithFaults(cluster: SerfCluster, faults: FaultWindow[], endMs: number): SimDriver {
  const applied = new Set<string>();
  return {
    get now() {
      return cluster.now;
    },
    advanceTo(virtualMs: number): void {
      // Run up to each fault edge, apply it, and go on: faults happen at their exact times.
      const edges = faults.flatMap((f) => [f.startMs, ...(f.endMs === null ? [] : [f.endMs])]).filter((t) => t > cluster.now && t <= virtualMs).sort((a, b) => a - b);
      for (const t of [...edges, virtualMs]) {
        if (t > cluster.now) cluster.run(t - cluster.now);
        for (const [i, f] of faults.entries()) {
          if (f.startMs <= cluster.now && !applied.has(`s${i}`)) {
            applied.add(`s${i}`);
            if (f.kind === 'crash') for (const n of f.nodes) cluster.crash(n);
            if (f.kind === 'partition') cluster.partition(f.nodes.slice(0, 1), f.nodes.slice(1));
          }
          if (f.endMs !== null && f.endMs <= cluster.now && !applied.has(`e${i}`)) {
            applied.add(`e${i}`);
            if (f.kind === 'partition') cluster.heal();
          }
        }
      }
    },
    cluster,
    faults,
    endMs,
  };
}

function screen(model: TuiModel, source: SimSource): string[] {
  return toText(render(model, 130, 40, source.now(), { clock: 'virtual' }));
}

const row = (text: string[], name: string): string => text.find((l) => new RegExp(`^. ${name}\\s`).test(l)) ?? '';

test('a simulated crash and partition seen through the TUI: faults marked, suspicion, failure, heal', async () => {
  const cluster = new SerfCluster({ seed: 11 });
  cluster.grow(5);
  cluster.run(8_000);
  assert.ok(cluster.converged(), 'the cluster converged before the faults');
  const t = cluster.now;
  const faults: FaultWindow[] = [
    { kind: 'crash', startMs: t + 1_000, endMs: null, nodes: ['node-4'], label: 'crash node-4' },
    { kind: 'partition', startMs: t + 30_000, endMs: t + 60_000, nodes: ['node-3', 'node-0', 'node-1', 'node-2'], label: 'partition node-3 | rest' },
  ];
  const source = new SimSource(driverWithFaults(cluster, faults, t + 120_000), { paused: true, observer: 'node-0' });
  const model = new TuiModel();
  source.start(model, () => undefined);
  try {
    let text = screen(model, source);
    assert.match(text[0] as string, /shoal tui · node-0 @ simulation · 5 members: ● 5 alive/);
    assert.match(text[1] as string, /×1 ⏸ paused · no fault now · next: crash node-4 at/);
    assert.match(text[2] as string, /space pause · n step/);

    // Single steps cross the crash: the header and the log mark it, the row says the process is gone.
    for (let i = 0; i < 11; i++) source.handleKey({ name: 'n', ch: 'n' }, model);
    text = screen(model, source);
    assert.match(text[1] as string, /FAULT: crash node-4/);
    assert.ok(text.some((l) => /^\+\d+\.\d{3}s ▼ fault starts: crash node-4$/.test(l)), text.join('\n'));
    assert.match(row(text, 'node-4'), /alive\*/, 'Serf does not know yet; the process is marked');

    // Detection: someone suspects node-4, node-0 learns of it, and node-4 is declared failed.
    let sawSuspect = false;
    for (let i = 0; i < 300 && !/failed/.test(row(screen(model, source), 'node-4')); i++) {
      source.advance(100);
      sawSuspect ||= /suspect/.test(row(screen(model, source), 'node-4'));
    }
    text = screen(model, source);
    assert.ok(sawSuspect, 'node-4 was shown as suspect before failed');
    assert.match(row(text, 'node-4'), /^✖ node-4\s.*failed/);
    assert.ok(text.some((l) => /suspects node-4$/.test(l)), text.join('\n'));
    assert.ok(text.some((l) => /member-failed node-4/.test(l)), text.join('\n'));
    assert.match(text[0] as string, /● 4 alive ✖ 1 failed/);
    model.selectedName = 'node-4';
    model.setView('details');
    assert.ok(screen(model, source).some((l) => /process crashed/.test(l)));
    model.setView('members');

    // The partition comes and goes: node-3 fails from node-0's side, then rejoins after the heal.
    source.advance(faults[1]!.startMs + 20_000 - cluster.now);
    text = screen(model, source);
    assert.match(text[1] as string, /FAULT: crash node-4; partition node-3 \| rest$/, 'the crash has no end: both are in force');
    assert.match(row(text, 'node-3'), /failed|suspect/);
    source.advance(faults[1]!.endMs! + 30_000 - cluster.now);
    text = screen(model, source);
    assert.ok(text.some((l) => /▲ fault ends: partition node-3 \| rest/.test(l)) || model.log.some((e) => /fault ends/.test(e.text)));
    assert.match(row(text, 'node-3'), /^● node-3\s.*alive/, text.join('\n'));
    assert.match(text[1] as string, /FAULT: crash node-4$/, 'the partition is over');

    // A user event from the observer reaches the log.
    assert.equal(await source.fireUserEvent('deploy', 'v3'), null);
    source.advance(500);
    assert.ok(screen(model, source).some((l) => /user event deploy v3/.test(l)));

    // Pacing keys.
    source.handleKey({ name: '+', ch: '+' }, model);
    source.handleKey({ name: '+', ch: '+' }, model);
    source.handleKey({ name: 'space', ch: ' ' }, model);
    assert.match(screen(model, source)[1] as string, /×4 ▶ running/);
    source.handleKey({ name: '-', ch: '-' }, model);
    source.handleKey({ name: 'space', ch: ' ' }, model);
    assert.match(screen(model, source)[1] as string, /×2 ⏸ paused/);
    source.handleKey({ name: 'o', ch: 'o' }, model);
    assert.match(screen(model, source)[0] as string, /node-1 @ simulation/);
  } finally {
    void source.stop();
  }
});

test('a driver that moves in coarse steps (the scenario runner: check intervals) still advances at 1×, and n uses its step()', () => {
  const cluster = new SerfCluster({ seed: 3 });
  cluster.grow(2);
  const checkMs = 500;
  let steps = 0;
  const start = cluster.now;
  const next = (): number => start + (Math.floor((cluster.now - start) / checkMs) + 1) * checkMs;
  const driver: SimDriver = {
    get now() {
      return cluster.now;
    },
    advanceTo(virtualMs: number): void {
      // Like ScenarioRun.advanceTo: only whole check intervals.
      while (next() <= virtualMs) cluster.run(next() - cluster.now);
    },
    step(): boolean {
      steps++;
      cluster.run(next() - cluster.now);
      return true;
    },
    cluster,
    faults: [],
  };
  const source = new SimSource(driver, { paused: true });
  const model = new TuiModel();
  source.start(model, () => undefined);
  try {
    for (let i = 0; i < 4; i++) source.advance(100);
    assert.equal(cluster.now, start, '400 ms asked: no whole interval yet');
    source.advance(100);
    assert.equal(cluster.now, start + checkMs, 'the fifth tick reaches the interval');
    source.handleKey({ name: 'n', ch: 'n' }, model);
    assert.equal(steps, 1);
    assert.equal(cluster.now, start + 2 * checkMs);
    assert.match(screen(model, source)[1] as string, /^virtual \d+\.\d{3}s ×1 ⏸ paused/);
  } finally {
    void source.stop();
  }
});
