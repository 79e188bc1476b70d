// Protocol stories (issue #3): a few memberlist nodes on the simulated network, explicit steps,
// exact expectations. Every story is deterministic: fixed seed, virtual clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PROFILES } from '../../src/protocol/config.js';
import { suspicionBounds } from '../../src/protocol/timing.js';
import { decodePacket } from '../../src/wire/packet.js';
import { SimCluster } from '../../sim/cluster.js';

const lan = PROFILES.lan;

/** n nodes that joined through node-0 and see each other alive. */
function cluster(n: number, seed: number, options: Partial<ConstructorParameters<typeof SimCluster>[0]> = {}): SimCluster {
  const c = new SimCluster({ seed, ...options });
  c.grow(n);
  assert.ok(c.runUntil(() => c.converged(), 30_000), 'the cluster converges after joining');
  return c;
}

test('(a) five nodes join through one seed and all see five alive', () => {
  const c = new SimCluster({ seed: 1 });
  c.addNode('seed');
  const joined: number[] = [];
  for (let i = 1; i < 5; i++) {
    c.addNode(`n${i}`);
    c.join(`n${i}`, ['seed'], (numSuccess) => joined.push(numSuccess));
  }
  assert.ok(c.runUntil(() => c.converged(), 10_000));
  assert.deepEqual(joined, [1, 1, 1, 1]);
  for (const host of c.hosts) {
    const members = host.engine.members();
    assert.equal(members.length, 5, `${host.name} sees five members`);
    assert.ok(members.every((m) => m.state === 0 && m.incarnation === 1));
  }
  // Every node saw every other join exactly once.
  for (const observer of c.hosts) {
    const joins = c.events.filter((e) => e.observer === observer.name && e.kind === 'join').map((e) => e.node).sort();
    assert.deepEqual(joins, ['n1', 'n2', 'n3', 'n4', 'seed']);
  }
});

test('(b) a crash leads to suspect, then dead at every node within the suspicion bound', () => {
  const n = 8;
  const c = cluster(n, 2);
  const crashedAt = c.now;
  c.crash('node-5');
  const suspectedAt = new Map<string, number>();
  let deadEverywhere = false;
  while (!deadEverywhere && c.now - crashedAt < 120_000) {
    c.run(50);
    for (const h of c.running()) {
      if (!suspectedAt.has(h.name) && c.stateOf(h.name, 'node-5') !== 'alive') suspectedAt.set(h.name, c.now);
    }
    deadEverywhere = c.allSee('node-5', 'dead');
  }
  assert.ok(deadEverywhere, 'every running node marks the crashed node dead');
  const { minMs, maxMs } = suspicionBounds(lan.suspicionMult, lan.suspicionMaxTimeoutMult, n, lan.probeIntervalMs);
  // First detection: a round-robin pass over the other n−1 nodes, plus the probe interval.
  const detectionBoundMs = n * lan.probeIntervalMs;
  for (const h of c.running()) {
    const dead = c.eventsAbout('node-5', h.name).find((e) => e.kind === 'leave');
    assert.ok(dead !== undefined && dead.state === 'dead', `${h.name} reports node-5 failed`);
    assert.ok(dead.atMs - crashedAt <= detectionBoundMs + maxMs + 1_000, `${h.name} declared it dead ${dead.atMs - crashedAt} ms after the crash`);
    // Nobody declares it dead before a suspicion's minimum has run since the crash.
    assert.ok(dead.atMs - crashedAt >= minMs, `${h.name} waited at least the minimum suspicion`);
  }
  const firstSuspicion = Math.min(...suspectedAt.values());
  assert.ok(firstSuspicion - crashedAt <= detectionBoundMs, 'somebody suspects it within one probe round');
});

test('(c) a suspected node that is alive refutes with a higher incarnation and is never declared dead', () => {
  const c = cluster(5, 3);
  c.pause('node-2');
  assert.ok(c.runUntil(() => c.hosts.some((h) => h.running && c.stateOf(h.name, 'node-2') === 'suspect'), 10_000), 'a stalled node is suspected');
  c.resume('node-2');
  assert.ok(c.runUntil(() => c.allSee('node-2', 'alive') && c.node('node-0').node('node-2')!.incarnation > 1, 10_000));
  c.run(60_000);
  assert.ok(c.node('node-2').stats.refutations >= 1);
  assert.deepEqual(c.eventsAbout('node-2').filter((e) => e.kind === 'leave'), [], 'nobody declared it dead');
  assert.ok(c.converged());
});

test('(d) the buddy system: a suspect learns of its suspicion from the next probe it receives', () => {
  // Gossip is off, so the only way node-x can hear of a suspicion is the suspect message that
  // rides on a ping to a suspect node (Lifeguard §IV-C).
  const c = cluster(3, 4, { config: { gossipNodes: 0 } });
  const names = ['node-0', 'node-1'];
  // node-x's answers are lost: the others suspect it, but it still hears them.
  c.partition(['node-2'], names, true);
  const heard: Array<{ parts: string[]; refutationsBefore: number }> = [];
  c.world.onPacket = (_from, to, bytes) => {
    if (to.name !== 'node-2') return;
    const decoded = decodePacket(bytes);
    if (decoded.ok && decoded.value.messages.some((m) => m.type === 'suspect' || m.type === 'dead')) {
      heard.push({ parts: decoded.value.messages.map((m) => m.type), refutationsBefore: c.node('node-2').stats.refutations });
    }
  };
  assert.ok(c.runUntil(() => c.node('node-2').stats.refutations > 0, 20_000), 'node-2 refutes');
  assert.ok(c.hosts.some((h) => h.name !== 'node-2' && c.stateOf(h.name, 'node-2') === 'suspect'), 'it is suspected');
  assert.deepEqual(heard[0], { parts: ['ping', 'suspect'], refutationsBefore: 0 }, 'the first accusation it hears is the buddy ping, and it refutes on it');
  assert.ok(heard.every((h) => h.parts[0] === 'ping'), 'with gossip off, accusations reach it only on probes');
  assert.ok(c.node('node-2').localNode().incarnation > 1);
});

test('(e) indirect probes: with the A–B link cut, B is reached through others and never suspected', () => {
  const c = cluster(5, 5);
  c.partition(['node-0'], ['node-1']);
  c.run(120_000);
  for (const h of c.hosts) assert.equal(h.engine.stats.suspicionsStarted, 0, `${h.name} suspected nobody`);
  assert.ok(c.node('node-0').stats.indirectProbes > 0, 'node-0 had to probe node-1 indirectly');
  assert.deepEqual(c.events.filter((e) => e.kind === 'leave'), []);
  assert.ok(c.converged());
});

test('(f) a node that leaves is seen as left, not dead, by every node', () => {
  const c = cluster(5, 6);
  let left = false;
  c.node('node-3').leave(c.now, 5_000, (timedOut) => {
    assert.equal(timedOut, false);
    left = true;
  });
  c.host('node-3').flush();
  assert.ok(c.runUntil(() => left, 10_000), 'the leave broadcast goes out');
  c.crash('node-3');
  assert.ok(c.runUntil(() => c.allSee('node-3', 'left'), 10_000));
  c.run(60_000);
  const leaves = c.eventsAbout('node-3').filter((e) => e.kind === 'leave' && e.observer !== 'node-3');
  assert.equal(leaves.length, 4, 'each other node reports the leave once');
  assert.ok(leaves.every((e) => e.state === 'left'), 'as left, never dead');
  assert.ok(c.allSee('node-3', 'left'));
});

test('(g) a minority cut off is declared dead; healed within GossipToTheDeadTime it refutes and is alive again within seconds', () => {
  const c = cluster(5, 7);
  const majority = ['node-0', 'node-1', 'node-2'];
  const minority = ['node-3', 'node-4'];
  c.partition(majority, minority);
  assert.ok(c.runUntil(() => minority.every((m) => c.allSee(m, 'dead', majority)), 60_000), 'the majority declares the minority dead');
  const healedAt = c.now;
  c.heal();
  assert.ok(c.runUntil(() => c.converged(), 20_000), 'alive everywhere again');
  assert.ok(c.now - healedAt < lan.gossipToTheDeadTimeMs, 'before the dead are forgotten');
  for (const m of minority) {
    assert.ok(c.node('node-0').node(m)!.incarnation > 1, `${m} refuted its death`);
  }
});

test('(h) a node restarted with the same name and address rejoins and refutes its old death', () => {
  const c = cluster(5, 8);
  c.crash('node-4');
  assert.ok(c.runUntil(() => c.allSee('node-4', 'dead'), 60_000));
  const oldIncarnation = c.node('node-0').node('node-4')!.incarnation;
  c.restart('node-4', ['node-0']);
  assert.ok(c.runUntil(() => c.converged(), 20_000), 'the restarted node is alive everywhere');
  assert.ok(c.node('node-0').node('node-4')!.incarnation > oldIncarnation, 'with an incarnation above its death');
  assert.ok(c.node('node-4').stats.refutations >= 1, 'because it refuted what the push/pull told it');
  const rejoin = c.eventsAbout('node-4', 'node-1').at(-1);
  assert.equal(rejoin?.kind, 'join');
});

test('(i) 128 nodes under 10% packet loss for 10 virtual minutes: nobody is declared dead', () => {
  const c = new SimCluster({ seed: 9 });
  c.grow(128, 20);
  assert.ok(c.runUntil(() => c.converged(), 60_000));
  c.setLoss(0.1);
  c.run(600_000);
  assert.deepEqual(c.events.filter((e) => e.kind === 'leave'), [], 'no node declared any node dead');
  assert.ok(c.world.network.stats.datagramsLost > 10_000, 'the loss was real');
  assert.ok(c.converged());
});
