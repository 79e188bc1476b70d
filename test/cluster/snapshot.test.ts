import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  CLOCK_UPDATE_INTERVAL_MS,
  COMPACT_TMP_EXT,
  ERROR_RECOVERY_INTERVAL_MS,
  FLUSH_INTERVAL_MS,
  SHUTDOWN_FLUSH_TIMEOUT_MS,
  SNAPSHOT_BYTES_PER_NODE,
  SNAPSHOT_COMPACTION_THRESHOLD,
  SNAPSHOT_SIZE_LIMIT,
  Snapshotter,
  rejoinCandidates,
  replaySnapshot,
  type MemberEventType,
  type SnapshotMember,
  type SnapshotReplay,
  type SnapshotWrite,
} from '../../src/cluster/snapshot.js';
import { formatTcpAddr, parseSnapshot, utf8Length } from '../../src/cluster/snapshot-format.js';
import { SeededRng } from '../../src/protocol/rng.js';

/** The runtime's side, in memory: installs compactions, appends lines. */
class FakeFile {
  text = '';
  compactions = 0;

  apply(w: SnapshotWrite): SnapshotWrite {
    if (w.compact !== undefined) {
      this.text = w.compact;
      this.compactions++;
    }
    this.text += w.append.join('');
    return w;
  }

  get bytes(): number {
    return new TextEncoder().encode(this.text).length;
  }
}

const localhost = new Uint8Array([127, 0, 0, 1]);
const foo: SnapshotMember = { name: 'foo', addr: localhost, port: 5000 };

function member(name: string, ip: number[], port = 7946): SnapshotMember {
  return { name, addr: new Uint8Array(ip), port };
}

function nodes(r: SnapshotReplay | Snapshotter): string[] {
  return r.aliveNodes.map((n) => `${n.name} ${n.addr}`).sort();
}

describe('Snapshotter, ported from serf/snapshot_test.go', () => {
  test('TestSnapshotter: events become lines; replay restores clocks and the alive set', () => {
    const file = new FakeFile();
    const snap = new Snapshotter({ rejoinAfterLeave: false });
    file.apply(snap.userEvent(0, 42n));
    file.apply(snap.query(0, 50n));
    const clock = 101n; // the test's clock.Witness(100)
    file.apply(snap.memberEvent(0, 'member-join', [foo], clock));
    file.apply(snap.memberEvent(0, 'member-failed', [foo], clock));
    file.apply(snap.memberEvent(0, 'member-join', [foo], clock));
    file.apply(snap.shutdown(0, clock));
    assert.equal(
      file.text,
      'event-clock: 42\nquery-clock: 50\nalive: foo 127.0.0.1:5000\nclock: 100\nnot-alive: foo\nalive: foo 127.0.0.1:5000\n',
    );
    assert.equal(snap.bytesWritten, file.bytes);

    const r = replaySnapshot(file.text, false);
    assert.equal(r.lastClock, 100n);
    assert.equal(r.lastEventClock, 42n);
    assert.equal(r.lastQueryClock, 50n);
    assert.deepEqual(r.aliveNodes, [{ name: 'foo', addr: '127.0.0.1:5000' }]);
    assert.deepEqual(r.warnings, []);
    assert.equal(r.left, false);

    // Reopen and close again: nothing new is written.
    const again = new Snapshotter({ rejoinAfterLeave: false }, r);
    const w = again.shutdown(0, clock);
    assert.deepEqual(w.append, []);
    assert.equal(again.bytesWritten, file.bytes);
  });

  test('TestSnapshotter_forceCompact: 1024 events and queries under a 1024-byte limit', () => {
    const file = new FakeFile();
    const snap = new Snapshotter({ rejoinAfterLeave: false, minCompactSize: 1024 });
    let first: SnapshotWrite | undefined;
    for (let i = 0; i < 1024; i++) {
      const w = file.apply(snap.userEvent(0, BigInt(i)));
      if (w.compact !== undefined && first === undefined) first = w;
      assert.equal(snap.bytesWritten, file.bytes);
      assert.ok(snap.bytesWritten <= 1024);
    }
    for (let i = 0; i < 1024; i++) {
      file.apply(snap.query(0, BigInt(i)));
      assert.equal(snap.bytesWritten, file.bytes);
      assert.ok(snap.bytesWritten <= 1024);
    }
    // "event-clock: 1\n".."9" are 15 bytes, "10".."99" 16: 135 + 55*16 = 1015 <= 1024, and the
    // 56th two-digit line (LTime 65) reaches 1031 > 1024 and compacts.
    assert.equal(first?.compact, 'clock: 0\nevent-clock: 65\nquery-clock: 0\n');
    assert.deepEqual(first?.append, []);
    assert.ok(file.compactions > 10);

    const r = replaySnapshot(file.text, false);
    assert.equal(r.lastEventClock, 1023n);
    assert.equal(r.lastQueryClock, 1023n);
    assert.deepEqual(r.warnings, []);
  });

  test('TestSnapshotter_leave: a leave forgets nodes and clocks', () => {
    const file = new FakeFile();
    const snap = new Snapshotter({ rejoinAfterLeave: false });
    file.apply(snap.userEvent(0, 42n));
    file.apply(snap.query(0, 50n));
    file.apply(snap.memberEvent(0, 'member-join', [foo], 101n));
    const w = file.apply(snap.leave(0));
    assert.deepEqual(w.append, ['leave\n']);
    assert.equal(w.flush, true);
    assert.equal(w.sync, true);
    assert.deepEqual(snap.aliveNodes, []);
    file.apply(snap.shutdown(0, 101n));

    const r = replaySnapshot(file.text, false);
    assert.equal(r.lastClock, 0n);
    assert.equal(r.lastEventClock, 0n);
    assert.equal(r.lastQueryClock, 0n);
    assert.deepEqual(r.aliveNodes, []);
    assert.equal(r.left, true);
    assert.equal(r.eventMinTime, 1n);
    assert.equal(r.queryMinTime, 1n);
  });

  test('TestSnapshotter_leave_rejoin: with rejoinAfterLeave the leave is ignored on replay', () => {
    const file = new FakeFile();
    const snap = new Snapshotter({ rejoinAfterLeave: true });
    file.apply(snap.userEvent(0, 42n));
    file.apply(snap.query(0, 50n));
    file.apply(snap.memberEvent(0, 'member-join', [foo], 101n));
    file.apply(snap.leave(0));
    assert.deepEqual(nodes(snap), ['foo 127.0.0.1:5000']);
    file.apply(snap.shutdown(0, 101n));

    const r = replaySnapshot(file.text, true);
    assert.equal(r.lastClock, 100n);
    assert.equal(r.lastEventClock, 42n);
    assert.equal(r.lastQueryClock, 50n);
    assert.deepEqual(nodes(r), ['foo 127.0.0.1:5000']);
    assert.equal(r.left, true);
    assert.equal(r.eventMinTime, 43n);
    assert.equal(r.queryMinTime, 51n);

    // The same file read without rejoinAfterLeave honours the leave.
    const strict = replaySnapshot(file.text, false);
    assert.deepEqual(strict.aliveNodes, []);
    assert.equal(strict.lastClock, 0n);
  });
});

describe('Snapshotter behaviour', () => {
  test('Serf constants', () => {
    assert.equal(FLUSH_INTERVAL_MS, 500);
    assert.equal(CLOCK_UPDATE_INTERVAL_MS, 500);
    assert.equal(COMPACT_TMP_EXT, '.compact');
    assert.equal(ERROR_RECOVERY_INTERVAL_MS, 30_000);
    assert.equal(SHUTDOWN_FLUSH_TIMEOUT_MS, 250);
    assert.equal(SNAPSHOT_BYTES_PER_NODE, 128);
    assert.equal(SNAPSHOT_COMPACTION_THRESHOLD, 2);
    assert.equal(SNAPSHOT_SIZE_LIMIT, 131072);
    assert.equal(new Snapshotter({ rejoinAfterLeave: false }).maxSize, 131072);
  });

  test('member-update and member-reap write no member line, only the moved clock', () => {
    const snap = new Snapshotter({ rejoinAfterLeave: false });
    for (const type of ['member-update', 'member-reap'] as MemberEventType[]) {
      const before = snap.lastClock;
      const w = snap.memberEvent(0, type, [foo], before + 6n);
      assert.deepEqual(w.append, [`clock: ${before + 5n}\n`]);
    }
    assert.deepEqual(snap.aliveNodes, []);
  });

  test('member-leave and member-failed write not-alive, even for an unknown node', () => {
    const snap = new Snapshotter({ rejoinAfterLeave: false });
    assert.deepEqual(snap.memberEvent(0, 'member-join', [member('a', [10, 0, 0, 1]), member('b', [10, 0, 0, 2])], 1n).append, [
      'alive: a 10.0.0.1:7946\n',
      'alive: b 10.0.0.2:7946\n',
    ]);
    assert.deepEqual(snap.memberEvent(0, 'member-leave', [member('a', [10, 0, 0, 1])], 1n).append, ['not-alive: a\n']);
    assert.deepEqual(snap.memberEvent(0, 'member-failed', [member('zz', [10, 0, 0, 9])], 1n).append, ['not-alive: zz\n']);
    assert.deepEqual(nodes(snap), ['b 10.0.0.2:7946']);
  });

  test('user event and query clocks only move forward', () => {
    const snap = new Snapshotter({ rejoinAfterLeave: false });
    assert.deepEqual(snap.userEvent(0, 0n).append, []);
    assert.deepEqual(snap.userEvent(0, 7n).append, ['event-clock: 7\n']);
    assert.deepEqual(snap.userEvent(0, 7n).append, []);
    assert.deepEqual(snap.userEvent(0, 3n).append, []);
    assert.deepEqual(snap.query(0, 9n).append, ['query-clock: 9\n']);
    assert.deepEqual(snap.query(0, 8n).append, []);
    assert.equal(snap.lastEventClock, 7n);
    assert.equal(snap.lastQueryClock, 9n);
  });

  test('tick records clockTime - 1 only when it moved', () => {
    const snap = new Snapshotter({ rejoinAfterLeave: false });
    assert.deepEqual(snap.tick(0, 0n).append, []); // Serf would write 2^64-1 here; its clock never is 0
    assert.deepEqual(snap.tick(0, 1n).append, []);
    assert.deepEqual(snap.tick(500, 2n).append, ['clock: 1\n']);
    assert.deepEqual(snap.tick(1000, 2n).append, []);
    assert.deepEqual(snap.tick(1500, 10n).append, ['clock: 9\n']);
    assert.equal(snap.lastClock, 9n);
  });

  test('flush on an append more than 500 ms after the last flush', () => {
    const snap = new Snapshotter({ rejoinAfterLeave: false });
    assert.equal(snap.userEvent(1000, 1n).flush, true); // first append: lastFlush is the zero time
    assert.equal(snap.userEvent(1200, 2n).flush, false);
    assert.equal(snap.userEvent(1500, 3n).flush, false); // exactly 500 ms: not "more than"
    assert.equal(snap.userEvent(1501, 4n).flush, true);
    assert.equal(snap.userEvent(1502, 4n).flush, false); // nothing appended
    const w = snap.userEvent(5000, 4n); // nothing appended, so no flush however late
    assert.deepEqual(w, { append: [], flush: false, sync: false });
  });

  test('after leave, events are not recorded but the clock ticker still is', () => {
    const file = new FakeFile();
    const snap = new Snapshotter({ rejoinAfterLeave: false });
    file.apply(snap.memberEvent(0, 'member-join', [foo], 11n));
    file.apply(snap.leave(0));
    assert.equal(snap.leaving, true);
    assert.deepEqual(snap.memberEvent(0, 'member-join', [member('x', [1, 2, 3, 4])], 20n).append, []);
    assert.deepEqual(snap.userEvent(0, 99n).append, []);
    assert.deepEqual(snap.query(0, 99n).append, []);
    // Serf.Leave increments the clock after Snapshotter.Leave; the ticker then records it.
    assert.deepEqual(file.apply(snap.tick(500, 12n)).append, ['clock: 11\n']);
    assert.equal(file.text, 'alive: foo 127.0.0.1:5000\nclock: 10\nleave\nclock: 11\n');

    // On replay the later clock line survives the leave's reset: Serf's own behaviour.
    const r = replaySnapshot(file.text, false);
    assert.equal(r.lastClock, 11n);
    assert.deepEqual(r.aliveNodes, []);
    assert.equal(r.left, true);
  });

  test('shutdown records the clock, flushes and syncs', () => {
    const snap = new Snapshotter({ rejoinAfterLeave: false });
    assert.deepEqual(snap.shutdown(0, 5n), { append: ['clock: 4\n'], flush: true, sync: true });
  });

  test('a name containing a newline is not recorded (it would forge records)', () => {
    const snap = new Snapshotter({ rejoinAfterLeave: false });
    const w = snap.memberEvent(0, 'member-join', [member('evil\nleave', [1, 2, 3, 4]), member('ok', [1, 2, 3, 5])], 1n);
    assert.deepEqual(w.append, ['alive: ok 1.2.3.5:7946\n']);
  });
});

describe('compaction', () => {
  // "alive: a 10.0.0.1:7946\n" is 23 bytes, "event-clock: 1xx\n" 17.
  const a = member('a', [10, 0, 0, 1]);
  const b = member('b', [10, 0, 0, 2]);

  test('threshold is max(minCompactSize, nodes x 128 x 2); offset must exceed it', () => {
    const snap = new Snapshotter({ rejoinAfterLeave: false, minCompactSize: 295 });
    snap.memberEvent(0, 'member-join', [a], 1n);
    assert.equal(snap.maxSize, 295); // 1 x 128 x 2 = 256 < 295
    for (let k = 1; k <= 16; k++) assert.equal(snap.userEvent(0, 100n + BigInt(k)).compact, undefined);
    assert.equal(snap.bytesWritten, 23 + 16 * 17); // = 295, not beyond
    const w = snap.userEvent(0, 117n);
    assert.equal(w.compact, 'alive: a 10.0.0.1:7946\nclock: 0\nevent-clock: 117\nquery-clock: 0\n');
    assert.deepEqual(w.append, []);
    assert.equal(w.flush, false);
    assert.equal(snap.bytesWritten, 23 + 9 + 17 + 15);
  });

  test('the per-node estimate wins over the minimum with more nodes', () => {
    const snap = new Snapshotter({ rejoinAfterLeave: false, minCompactSize: 300 });
    snap.memberEvent(0, 'member-join', [a, b], 1n);
    assert.equal(snap.maxSize, 2 * SNAPSHOT_BYTES_PER_NODE * SNAPSHOT_COMPACTION_THRESHOLD);
    for (let k = 1; k <= 27; k++) assert.equal(snap.userEvent(0, 100n + BigInt(k)).compact, undefined);
    assert.equal(snap.bytesWritten, 46 + 27 * 17); // 505 <= 512
    const w = snap.userEvent(0, 128n); // 522 > 512
    assert.equal(
      w.compact,
      'alive: a 10.0.0.1:7946\nalive: b 10.0.0.2:7946\nclock: 0\nevent-clock: 128\nquery-clock: 0\n',
    );
  });

  test('losing the last node with no minimum compacts at once', () => {
    const snap = new Snapshotter({ rejoinAfterLeave: false, minCompactSize: 0 });
    assert.equal(snap.memberEvent(0, 'member-join', [a], 1n).compact, undefined);
    const w = snap.memberEvent(0, 'member-failed', [a], 1n);
    assert.equal(w.compact, 'clock: 0\nevent-clock: 0\nquery-clock: 0\n');
    assert.equal(snap.bytesWritten, 39);
  });

  test('a compaction in the middle of a member event: later lines are appended to the new file', () => {
    const old = `# ${'x'.repeat(297)}\n`; // 300 bytes
    const file = new FakeFile();
    file.text = old;
    const snap = new Snapshotter({ rejoinAfterLeave: false, minCompactSize: 0 }, replaySnapshot(old, false));
    assert.equal(snap.bytesWritten, 300);
    const c = member('c', [10, 0, 0, 3]);
    const w = file.apply(snap.memberEvent(700, 'member-join', [a, b, c], 5n));
    // a: 323 > 256 compacts; b: 62 + 23 = 85; c: 108; then clock 4.
    assert.equal(w.compact, 'alive: a 10.0.0.1:7946\nclock: 0\nevent-clock: 0\nquery-clock: 0\n');
    assert.deepEqual(w.append, ['alive: b 10.0.0.2:7946\n', 'alive: c 10.0.0.3:7946\n', 'clock: 4\n']);
    assert.equal(w.flush, false); // lastFlush was reset by the compaction at t=700
    assert.equal(snap.bytesWritten, 62 + 23 + 23 + 9);
    assert.equal(snap.bytesWritten, file.bytes);
    const r = replaySnapshot(file.text, false);
    assert.deepEqual(nodes(r), ['a 10.0.0.1:7946', 'b 10.0.0.2:7946', 'c 10.0.0.3:7946']);
    assert.equal(r.lastClock, 4n);
  });

  test('a leave that triggers compaction is not carried into the compacted file (as in Serf)', () => {
    const snap = new Snapshotter({ rejoinAfterLeave: false, minCompactSize: 30 });
    snap.memberEvent(0, 'member-join', [a], 1n); // 23 bytes
    const w = snap.leave(0); // 29 bytes <= 30: no compaction yet
    assert.equal(w.compact, undefined);
    const snap2 = new Snapshotter({ rejoinAfterLeave: false, minCompactSize: 25 });
    snap2.memberEvent(0, 'member-join', [a], 1n);
    const w2 = snap2.leave(0); // 29 > 25 with the alive set already cleared
    assert.equal(w2.compact, 'clock: 0\nevent-clock: 0\nquery-clock: 0\n');
    assert.deepEqual(w2.append, []);
    assert.equal(w2.sync, true);
    assert.equal(replaySnapshot(w2.compact ?? '', false).left, false);
  });

  test('write failure recovery compacts at most every 30 s', () => {
    const snap = new Snapshotter({ rejoinAfterLeave: false });
    snap.memberEvent(0, 'member-join', [a], 3n);
    const w = snap.writeFailed(1000);
    assert.equal(w.compact, 'alive: a 10.0.0.1:7946\nclock: 2\nevent-clock: 0\nquery-clock: 0\n');
    assert.equal(snap.writeFailed(1000 + ERROR_RECOVERY_INTERVAL_MS).compact, undefined);
    assert.notEqual(snap.writeFailed(1001 + ERROR_RECOVERY_INTERVAL_MS).compact, undefined);
  });

  test('multi-byte names are counted in UTF-8 bytes', () => {
    const file = new FakeFile();
    const snap = new Snapshotter({ rejoinAfterLeave: false });
    file.apply(snap.memberEvent(0, 'member-join', [member('nœud-日本-🐟', [10, 0, 0, 1])], 1n));
    assert.equal(snap.bytesWritten, file.bytes);
    assert.equal(snap.bytesWritten, 'alive:  10.0.0.1:7946\n'.length + 17); // n œ(2) u d - 日本(6) - 🐟(4)
    const r = replaySnapshot(new TextEncoder().encode(file.text), false);
    assert.deepEqual(r.aliveNodes, [{ name: 'nœud-日本-🐟', addr: '10.0.0.1:7946' }]);
    assert.equal(r.keptBytes, snap.bytesWritten);
    assert.equal(utf8Length('\ud800x'), 4); // a lone surrogate becomes U+FFFD, 3 bytes
  });
});

describe('addresses', () => {
  test('IPv6 as net.JoinHostPort writes it, IPv4-mapped as dotted quad', () => {
    const v6 = (...words: number[]) => {
      const out = new Uint8Array(16);
      words.forEach((w, i) => {
        out[2 * i] = w >> 8;
        out[2 * i + 1] = w & 0xff;
      });
      return out;
    };
    assert.equal(formatTcpAddr(v6(0, 0, 0, 0, 0, 0, 0, 1), 7946), '[::1]:7946');
    assert.equal(formatTcpAddr(v6(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1), 7946), '[2001:db8::1:0:0:1]:7946');
    assert.equal(formatTcpAddr(v6(0xfe80, 0, 0, 0, 0xabcd, 0, 0, 0), 1), '[fe80::abcd:0:0:0]:1');
    assert.equal(formatTcpAddr(v6(0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0001), 7946), '10.0.0.1:7946');
    assert.equal(formatTcpAddr(new Uint8Array(0), 7946), ':7946');
    assert.equal(formatTcpAddr(new Uint8Array([1, 2, 3, 4, 5]), 7946), '?0102030405:7946');

    const snap = new Snapshotter({ rejoinAfterLeave: false });
    const w = snap.memberEvent(0, 'member-join', [{ name: 'six', addr: v6(0, 0, 0, 0, 0, 0, 0, 1), port: 7946 }], 1n);
    assert.deepEqual(w.append, ['alive: six [::1]:7946\n']);
    assert.deepEqual(replaySnapshot(w.append.join(''), false).aliveNodes, [{ name: 'six', addr: '[::1]:7946' }]);
  });

  test('names may contain spaces: the address is after the last space', () => {
    const r = replaySnapshot('alive: my node 1.2.3.4:5\nalive: trailing  \n', false);
    assert.deepEqual(r.aliveNodes, [
      { name: 'my node', addr: '1.2.3.4:5' },
      { name: 'trailing ', addr: '' }, // Serf accepts it as is
    ]);
  });
});

describe('replay', () => {
  test('a torn last line is dropped with a warning and its size reported', () => {
    const text = 'alive: a 1.2.3.4:5\nclock: 12\nalive: b 1.2';
    const r = replaySnapshot(text, false);
    assert.deepEqual(r.aliveNodes, [{ name: 'a', addr: '1.2.3.4:5' }]);
    assert.equal(r.lastClock, 12n);
    assert.deepEqual(r.warnings, [{ line: 3, reason: 'torn last line (no trailing newline), ignored', text: 'alive: b 1.2' }]);
    assert.equal(r.tornBytes, 12);
    assert.equal(r.keptBytes, text.length - 12);
    const snap = new Snapshotter({ rejoinAfterLeave: false }, r);
    assert.equal(snap.bytesWritten, r.keptBytes);
  });

  test('bad lines are reported with line number and reason and skipped', () => {
    const text = [
      'clock: 5',
      '',
      'bogus',
      'alive: nospace',
      'clock: abc',
      'clock: -1',
      'clock: +3',
      'clock: 18446744073709551616',
      'event-clock: 1\r',
      'coordinate: {"Vec":[0,0],"Error":1.5}',
      '# a comment',
      'Alive: x 1.2.3.4:5',
      'leave ',
      'query-clock: 18446744073709551615',
      'event-clock: 0007',
      '',
    ].join('\n');
    const r = replaySnapshot(text, false);
    assert.equal(r.lastClock, 5n);
    assert.equal(r.lastEventClock, 7n);
    assert.equal(r.lastQueryClock, 18446744073709551615n);
    assert.equal(r.queryMinTime, 0n); // uint64 wrap, as Go's LamportTime + 1
    assert.equal(r.eventMinTime, 8n);
    assert.equal(r.left, false);
    assert.deepEqual(
      r.warnings.map((w) => [w.line, w.reason]),
      [
        [2, 'unrecognized snapshot line'],
        [3, 'unrecognized snapshot line'],
        [4, 'failed to parse address (expected "alive: <name> <ip:port>")'],
        [5, 'failed to convert clock time: not a decimal uint64'],
        [6, 'failed to convert clock time: not a decimal uint64'],
        [7, 'failed to convert clock time: not a decimal uint64'],
        [8, 'failed to convert clock time: not a decimal uint64'],
        [9, 'failed to convert event-clock time: not a decimal uint64'],
        [12, 'unrecognized snapshot line'],
        [13, 'unrecognized snapshot line'],
      ],
    );
    assert.equal(r.warnings[7]?.text, 'event-clock: 1\r');
    assert.equal(parseSnapshot(text).records.filter((x) => x.record.kind === 'coordinate').length, 1);
  });

  test('empty file', () => {
    const r = replaySnapshot(new Uint8Array(0), false);
    assert.deepEqual(r, {
      aliveNodes: [],
      lastClock: 0n,
      lastEventClock: 0n,
      lastQueryClock: 0n,
      eventMinTime: 1n,
      queryMinTime: 1n,
      left: false,
      warnings: [],
      tornBytes: 0,
      keptBytes: 0,
    });
  });

  test('left: only when no member record follows the last leave', () => {
    assert.equal(replaySnapshot('alive: a 1.1.1.1:1\nleave\nclock: 3\n', false).left, true);
    const back = replaySnapshot('alive: a 1.1.1.1:1\nleave\nclock: 3\nalive: b 2.2.2.2:2\n', false);
    assert.equal(back.left, false);
    assert.deepEqual(nodes(back), ['b 2.2.2.2:2']);
    assert.equal(back.lastClock, 3n);
  });

  test('a restored snapshotter keeps the old clocks and alive set', () => {
    const r = replaySnapshot('alive: a 1.1.1.1:1\nclock: 10\nevent-clock: 42\nquery-clock: 50\n', false);
    const snap = new Snapshotter({ rejoinAfterLeave: false }, r);
    assert.deepEqual(snap.userEvent(0, 42n).append, []);
    assert.deepEqual(snap.query(0, 50n).append, []);
    assert.deepEqual(snap.tick(0, 11n).append, []);
    assert.deepEqual(snap.tick(0, 12n).append, ['clock: 11\n']);
    assert.deepEqual(nodes(snap), ['a 1.1.1.1:1']);
  });

  test('rejoinCandidates: shuffled as Serf AliveNodes does, without ourselves', () => {
    const prev = ['a', 'b', 'self', 'c', 'd'].map((name, i) => ({ name, addr: `10.0.0.${i}:7946` }));
    const one = rejoinCandidates(prev, 'self', new SeededRng(7));
    const two = rejoinCandidates(prev, 'self', new SeededRng(7));
    assert.deepEqual(one, two);
    assert.deepEqual(one.map((n) => n.name).sort(), ['a', 'b', 'c', 'd']);
    const orders = new Set<string>();
    for (let seed = 0; seed < 50; seed++) {
      orders.add(rejoinCandidates(prev, 'self', new SeededRng(seed)).map((n) => n.name).join(''));
    }
    assert.ok(orders.size > 5);
  });
});

test('round trip: random events, file written as instructed, replay matches the live state', () => {
  const rng = new SeededRng(4242);
  let compactions = 0;
  let restarts = 0;
  for (let run = 0; run < 20; run++) {
    const rejoinAfterLeave = run % 2 === 0;
    const file = new FakeFile();
    const minCompactSize = 200 + rng.int(2000);
    let snap = new Snapshotter({ rejoinAfterLeave, minCompactSize });
    let now = 0;
    let clock = 1n;
    let eventClock = 0n;
    let queryClock = 0n;
    const pool = Array.from({ length: 12 }, (_, i) =>
      i % 3 === 0 ? member(`v6-${i}`, [0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), i]) : member(`n ${i}`, [10, 0, 0, i]),
    );
    for (let step = 0; step < 400; step++) {
      now += rng.int(300);
      const m = pool[rng.int(pool.length)] as SnapshotMember;
      const roll = rng.int(10);
      let w: SnapshotWrite;
      if (roll < 3) w = snap.memberEvent(now, 'member-join', [m], (clock += BigInt(rng.int(3))));
      else if (roll < 5) w = snap.memberEvent(now, rng.int(2) === 0 ? 'member-leave' : 'member-failed', [m], clock);
      else if (roll < 6) w = snap.memberEvent(now, 'member-update', [m], (clock += 1n));
      else if (roll < 7) w = snap.userEvent(now, (eventClock += BigInt(rng.int(3))));
      else if (roll < 8) w = snap.query(now, (queryClock += BigInt(rng.int(3))));
      else w = snap.tick(now, (clock += BigInt(rng.int(2))));
      file.apply(w);
      assert.equal(snap.bytesWritten, file.bytes);
      assert.ok(snap.bytesWritten <= snap.maxSize || w.compact !== undefined);

      if (rng.int(50) === 0) {
        // Restart from the file.
        file.apply(snap.shutdown(now, clock));
        const r = replaySnapshot(file.text, rejoinAfterLeave);
        assert.deepEqual(r.warnings, []);
        assert.deepEqual(nodes(r), nodes(snap));
        assert.equal(r.lastClock, snap.lastClock);
        assert.equal(r.lastEventClock, snap.lastEventClock);
        assert.equal(r.lastQueryClock, snap.lastQueryClock);
        snap = new Snapshotter({ rejoinAfterLeave, minCompactSize }, r);
        restarts++;
      }
    }
    file.apply(snap.leave(now));
    compactions += file.compactions;
    const r = replaySnapshot(file.text, rejoinAfterLeave);
    if (rejoinAfterLeave) {
      assert.deepEqual(nodes(r), nodes(snap));
      assert.equal(r.lastEventClock, snap.lastEventClock);
    } else if (file.text.endsWith('leave\n')) {
      assert.deepEqual(r.aliveNodes, []);
      assert.equal(r.lastClock, 0n);
      assert.equal(r.left, true);
    }
  }
  assert.ok(compactions > 20, `only ${compactions} compactions`);
  assert.ok(restarts > 20, `only ${restarts} restarts`);
});
