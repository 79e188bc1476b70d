// Serf stories of issue #4, user events: one event on 100 nodes arrives once everywhere; a burst
// of same-named events is merged as the Serf agent's coalescer merges it; an oversized event is
// refused with the limit named. Simulated network, fixed seeds, exact expectations.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SerfCluster } from '../../sim/serf-cluster.js';
import { EventCoalescer, type Delivery } from '../../src/cluster/coalesce.js';
import type { SerfEvent } from '../../src/cluster/serf.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function formed(seed: number, nodes: number): SerfCluster {
  const c = new SerfCluster({ seed });
  c.grow(nodes);
  assert.ok(c.runUntil(() => c.converged(), 60_000), `${nodes} nodes did not converge`);
  return c;
}

/** "name@lTime[:payload]" */
function show(e: SerfEvent): string {
  assert.equal(e.type, 'user');
  if (e.type !== 'user') return '';
  return `${e.name}@${e.lTime}${e.payload === null ? '' : `:${new TextDecoder().decode(e.payload)}`}`;
}

/** What the agent's event handlers at `observer` get: its Serf events of one kind through the agent's coalescer. */
function agentDeliveries(c: SerfCluster, observer: string, kind: 'user' | 'member' = 'user'): Delivery[] {
  const coalescer = new EventCoalescer(kind === 'user' ? { member: null } : { user: null });
  const out: Delivery[] = [];
  for (const r of c.events) {
    if (r.observer !== observer || r.event.type === 'query' || (r.event.type === 'user') !== (kind === 'user')) continue;
    out.push(...coalescer.push(r.atMs, r.event));
  }
  out.push(...coalescer.flush(c.now));
  return out;
}

describe('user events', () => {
  test('an event fired on one of 100 nodes is delivered exactly once at every node', () => {
    const c = formed(1, 100);
    const firedAt = c.now;
    c.act('node-37', (serf, now) => serf.userEvent(now, 'deploy', text('v1'), false));
    c.run(15_000);
    for (const h of c.hosts) {
      const got = c.eventsAt(h.name, 'user').map(show);
      assert.deepEqual(got, ['deploy@1:v1'], `${h.name} got ${got.join(' ')}`);
    }
    const last = Math.max(...c.events.filter((r) => r.event.type === 'user').map((r) => r.atMs));
    assert.ok(last - firedAt < 5_000, `the last node heard of it ${last - firedAt} ms later`);
  });

  test('a burst of same-named coalescable events reaches every node whole, and the agent delivers only the newest', () => {
    const c = formed(2, 20);
    for (let i = 1; i <= 10; i++) {
      c.act('node-3', (serf, now) => serf.userEvent(now, 'deploy', text(`v${i}`), true));
      c.run(50);
    }
    c.act('node-3', (serf, now) => serf.userEvent(now, 'restart', null, false));
    c.run(10_000);
    const burst = [...Array.from({ length: 10 }, (_, i) => `deploy@${i + 1}:v${i + 1}`), 'restart@11'];
    for (const h of c.hosts) {
      // Serf itself delivers each event once (the event buffer drops repeats) …
      assert.deepEqual(c.eventsAt(h.name, 'user').map(show).sort(), [...burst].sort(), h.name);
      // … and the agent's coalescer keeps the newest LTime of 'deploy'; 'restart' was sent
      // without coalescing and passes at once (coalesce_user.go).
      assert.deepEqual(agentDeliveries(c, h.name).map((d) => show(d.event)), ['restart@11', 'deploy@10:v10'], h.name);
    }

    // Joining later: the push/pull exchange replays the buffered events (delegate.go
    // MergeRemoteState), without their coalesce flag, so the agent delivers every one; a join
    // with ignoreOld skips them all.
    c.addNode('late');
    c.join('late', ['node-5'], false);
    c.addNode('late-ignore');
    c.join('late-ignore', ['node-5'], true);
    c.run(5_000);
    const replayed = c.eventsAt('late', 'user');
    assert.deepEqual(replayed.map(show), burst);
    assert.ok(replayed.every((e) => e.type === 'user' && !e.coalesce));
    assert.deepEqual(agentDeliveries(c, 'late').map((d) => show(d.event)), burst);
    assert.deepEqual(c.eventsAt('late-ignore', 'user'), []);
    assert.ok(c.converged());

    // Member events coalesce too (coalesce_member.go): the 20 joins while the cluster formed reach
    // each agent's handlers as one member-join, and the two late joiners as another.
    for (const h of c.hosts.slice(0, 20)) {
      const got = agentDeliveries(c, h.name, 'member').map((d) => (d.event.type === 'user' || d.event.type === 'query' ? [] : [d.event.type, d.event.members.length]));
      assert.deepEqual(got, [['member-join', 20], ['member-join', 2]], h.name);
    }
  });

  test('an oversized event is refused with the limit named, and nothing is sent', () => {
    const c = formed(3, 5);
    c.run(1_000);
    const stats = { ...c.world.network.stats };
    const clock = c.serf('node-1').eventClock.time();
    assert.throws(
      () => c.act('node-1', (serf, now) => serf.userEvent(now, 'big', new Uint8Array(600), false)),
      { name: 'RangeError', message: 'user event exceeds configured limit of 512 bytes before encoding' },
    );
    // 3 + 505 bytes fit before encoding; the encoded message does not.
    assert.throws(
      () => c.act('node-1', (serf, now) => serf.userEvent(now, 'big', new Uint8Array(505), false)),
      { name: 'RangeError', message: 'encoded user event exceeds configured limit of 512 bytes after encoding' },
    );
    assert.deepEqual(c.world.network.stats, stats);
    assert.equal(c.serf('node-1').eventClock.time(), clock);
    assert.equal(c.serf('node-1').eventQueue.size, 0);
    c.run(5_000);
    assert.deepEqual(c.events.filter((r) => r.event.type === 'user'), []);
  });
});
