import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  AGENT_MEMBER_COALESCE,
  AGENT_USER_COALESCE,
  CoalesceWindow,
  EventCoalescer,
  MemberEventCoalescer,
  UserEventCoalescer,
  type Delivery,
} from '../../src/cluster/coalesce.js';
import { MemberStatus, type Member, type MemberEventType } from '../../src/cluster/member.js';
import type { SerfEvent } from '../../src/cluster/serf.js';

function member(name: string, tags: Record<string, string> = {}): Member {
  return {
    name, addr: Uint8Array.of(10, 0, 0, 1), port: 7946, tags: new Map(Object.entries(tags)), status: MemberStatus.alive,
    protocolMin: 1, protocolMax: 5, protocolCur: 2, delegateMin: 2, delegateMax: 5, delegateCur: 5,
  };
}

function memberEvent(type: MemberEventType, ...members: Member[]): SerfEvent {
  return { type, members };
}

function userEvent(lTime: number, name: string, payload: string | null = null, coalesce = true): SerfEvent {
  return { type: 'user', lTime: BigInt(lTime), name, payload: payload === null ? null : new TextEncoder().encode(payload), coalesce };
}

/** "name@lTime:payload" for user events, "type:a,b" for member events. */
function show(e: SerfEvent): string {
  if (e.type === 'user') return `${e.name}@${e.lTime}${e.payload === null ? '' : `:${new TextDecoder().decode(e.payload)}`}`;
  if (e.type === 'query') return `query ${e.query.name}`;
  return `${e.type}:${e.members.map((m) => m.name).join(',')}`;
}

function shown(ds: Delivery[]): string[] {
  return ds.map((d) => `${d.atMs} ${show(d.event)}`);
}

describe('UserEventCoalescer (coalesce_user.go)', () => {
  test('TestUserEventCoalesce_Basic: the newest LTime per name survives, with every event of that time', () => {
    const c = new UserEventCoalescer();
    for (const e of [userEvent(1, 'foo'), userEvent(2, 'foo'), userEvent(2, 'bar', 'test1'), userEvent(2, 'bar', 'test2')]) c.coalesce(e);
    assert.deepEqual(c.flush().map(show), ['foo@2', 'bar@2:test1', 'bar@2:test2']);
    assert.deepEqual(c.flush(), []);
  });

  test('an older event arriving after a newer one is dropped', () => {
    const c = new UserEventCoalescer();
    for (const e of [userEvent(5, 'deploy', 'v5'), userEvent(3, 'deploy', 'v3'), userEvent(4, 'deploy', 'v4')]) c.coalesce(e);
    assert.deepEqual(c.flush().map(show), ['deploy@5:v5']);
  });

  test('TestUserEventCoalesce_passThrough: only user events sent with coalescing are held', () => {
    const c = new UserEventCoalescer();
    assert.equal(c.handles(userEvent(1, 'x', null, false)), false);
    assert.equal(c.handles(userEvent(1, 'x', null, true)), true);
    for (const type of ['member-join', 'member-leave', 'member-failed'] as const) assert.equal(c.handles(memberEvent(type, member('a'))), false);
  });
});

describe('MemberEventCoalescer (coalesce_member.go)', () => {
  test('TestMemberEventCoalesce_Basic: latest event per member, regrouped by type', () => {
    const c = new MemberEventCoalescer();
    const send = [
      memberEvent('member-join', member('foo')),
      memberEvent('member-leave', member('foo')),
      memberEvent('member-leave', member('bar')),
      memberEvent('member-update', member('zip', { role: 'foo' })),
      memberEvent('member-update', member('zip', { role: 'bar' })),
      memberEvent('member-reap', member('dead')),
    ];
    for (const e of send) c.coalesce(e);
    const out = c.flush();
    assert.deepEqual(out.map(show), ['member-leave:foo,bar', 'member-update:zip', 'member-reap:dead']);
    const update = out[1];
    assert.ok(update !== undefined && update.type === 'member-update');
    assert.equal(update.members[0]?.tags.get('role'), 'bar');
  });

  test('a repeat of the last delivered event is dropped, except member-update (TestMemberEventCoalesce_TagUpdate)', () => {
    const c = new MemberEventCoalescer();
    c.coalesce(memberEvent('member-join', member('a')));
    c.coalesce(memberEvent('member-update', member('b', { role: 'foo' })));
    assert.deepEqual(c.flush().map(show), ['member-join:a', 'member-update:b']);
    c.coalesce(memberEvent('member-join', member('a')));
    c.coalesce(memberEvent('member-update', member('b', { role: 'bar' })));
    assert.deepEqual(c.flush().map(show), ['member-update:b']);
  });

  test('a member that fails and comes back within one burst shows nothing new', () => {
    const c = new MemberEventCoalescer();
    c.coalesce(memberEvent('member-join', member('a')));
    assert.deepEqual(c.flush().map(show), ['member-join:a']);
    c.coalesce(memberEvent('member-failed', member('a')));
    c.coalesce(memberEvent('member-join', member('a')));
    assert.deepEqual(c.flush().map(show), []);
  });

  test('a flushed update is not delivered again with a later burst (unlike Serf 0.9.4, hashicorp/serf#555)', () => {
    const c = new MemberEventCoalescer();
    c.coalesce(memberEvent('member-update', member('a', { v: '1' })));
    assert.deepEqual(c.flush().map(show), ['member-update:a']);
    c.coalesce(memberEvent('member-join', member('b')));
    assert.deepEqual(c.flush().map(show), ['member-join:b']);
  });

  test('TestMemberEventCoalesce_passThrough: every member event type is held, user events are not', () => {
    const c = new MemberEventCoalescer();
    assert.equal(c.handles(userEvent(1, 'x')), false);
    for (const type of ['member-join', 'member-leave', 'member-failed', 'member-update', 'member-reap'] as const) {
      assert.equal(c.handles(memberEvent(type, member('a'))), true);
    }
  });
});

describe('CoalesceWindow (coalesce.go coalesceLoop)', () => {
  const periods = { coalescePeriodMs: 3_000, quiescentPeriodMs: 1_000 };

  test('a burst is flushed once it has been quiet for the quiescent period', () => {
    const w = new CoalesceWindow(periods, new UserEventCoalescer());
    assert.equal(w.dueMs, null);
    assert.deepEqual(w.push(100, userEvent(1, 'a')), []);
    assert.deepEqual(w.push(600, userEvent(2, 'a')), []);
    assert.equal(w.dueMs, 1_600);
    assert.deepEqual(w.poll(1_599), []);
    assert.deepEqual(w.poll(1_600).map(show), ['a@2']);
    assert.equal(w.dueMs, null);
  });

  test('a burst that never goes quiet is flushed when the coalesce period ends (TestCoalescer_basic)', () => {
    const w = new CoalesceWindow(periods, new UserEventCoalescer());
    for (let t = 0; t <= 2_900; t += 500) assert.deepEqual(w.push(t, userEvent(t / 100, 'a')), []);
    assert.equal(w.dueMs, 3_000);
    // The next event comes after the quantum ended: the burst goes first, the event starts a new one.
    assert.deepEqual(w.push(3_200, userEvent(40, 'a')).map(show), ['a@25']);
    assert.equal(w.dueMs, 4_200);
    assert.deepEqual(w.flush().map(show), ['a@40']);
  });

  test('events the coalescer does not hold pass at once and leave the timers alone', () => {
    const w = new CoalesceWindow(periods, new UserEventCoalescer());
    assert.deepEqual(w.push(0, userEvent(1, 'x', null, false)).map(show), ['x@1']);
    assert.equal(w.dueMs, null);
    w.push(10, userEvent(2, 'y'));
    assert.deepEqual(w.push(500, memberEvent('member-join', member('m'))).map(show), ['member-join:m']);
    assert.equal(w.dueMs, 1_010);
  });

  test('Serf turns coalescing off unless both periods are positive', () => {
    assert.throws(() => new CoalesceWindow({ coalescePeriodMs: 0, quiescentPeriodMs: 1_000 }, new UserEventCoalescer()), RangeError);
  });
});

describe('EventCoalescer (the agent: user window, then member window)', () => {
  test('the agent defaults are 3 s / 1 s for both (cmd/serf/command/agent/command.go)', () => {
    assert.deepEqual(AGENT_MEMBER_COALESCE, { coalescePeriodMs: 3_000, quiescentPeriodMs: 1_000 });
    assert.deepEqual(AGENT_USER_COALESCE, { coalescePeriodMs: 3_000, quiescentPeriodMs: 1_000 });
  });

  test('user and member bursts are coalesced separately; other events pass at once', () => {
    const c = new EventCoalescer();
    const out: Delivery[] = [];
    out.push(...c.push(0, memberEvent('member-join', member('a'))));
    out.push(...c.push(100, userEvent(1, 'deploy', 'v1')));
    out.push(...c.push(200, userEvent(2, 'deploy', 'v2')));
    out.push(...c.push(300, userEvent(3, 'restart', null, false)));
    out.push(...c.push(400, memberEvent('member-join', member('b'))));
    assert.deepEqual(shown(out), ['300 restart@3']);
    assert.equal(c.dueMs, 1_200);
    out.length = 0;
    out.push(...c.poll(1_300));
    assert.deepEqual(shown(out), ['1200 deploy@2:v2']);
    assert.equal(c.dueMs, 1_400);
    assert.deepEqual(shown(c.poll(5_000)), ['1400 member-join:a,b']);
    assert.equal(c.dueMs, null);
  });

  test('a stage can be turned off', () => {
    const c = new EventCoalescer({ member: null, user: AGENT_USER_COALESCE });
    assert.deepEqual(shown(c.push(0, memberEvent('member-failed', member('a')))), ['0 member-failed:a']);
    assert.deepEqual(c.push(0, userEvent(1, 'e')), []);
    assert.deepEqual(shown(c.flush(10)), ['10 e@1']);
  });

  test('flush delivers what every stage holds', () => {
    const c = new EventCoalescer();
    c.push(0, userEvent(1, 'e'));
    c.push(0, memberEvent('member-leave', member('a')));
    assert.deepEqual(shown(c.flush(50)), ['50 e@1', '50 member-leave:a']);
    assert.equal(c.dueMs, null);
  });
});
