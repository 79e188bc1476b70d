// Serf's snapshot (reference §8.11; Serf 0.9.4 serf/snapshot.go, used from serf.go Create/Leave):
// an append-only text log of member joins/failures, the three Lamport clocks and `leave`, so a
// restarted agent re-joins the nodes it last saw alive and does not replay old user events or
// queries. This module is the logic without the file: the Snapshotter takes "now" (ms) and the
// Lamport times as inputs and returns what to append, whether to flush/fsync, and when to compact
// the full replacement content. The runtime owns the file (buffering, temp file + rename).

import type { Rng } from '../protocol/rng.js';
import {
  formatRecord,
  formatTcpAddr,
  parseSnapshot,
  utf8Length,
  type SnapshotWarning,
  type WrittenRecord,
} from './snapshot-format.js';

/** Serf flushes its buffered writer on an append at most this often (snapshot.go flushInterval). */
export const FLUSH_INTERVAL_MS = 500;
/** How often Serf records the member clock (snapshot.go clockUpdateInterval): call tick() at this period. */
export const CLOCK_UPDATE_INTERVAL_MS = 500;
/** Suffix of the temporary file a compaction is written to before it replaces the snapshot (tmpExt). */
export const COMPACT_TMP_EXT = '.compact';
/** After a failed write, Serf retries by compacting at most this often (snapshotErrorRecoveryInterval). */
export const ERROR_RECOVERY_INTERVAL_MS = 30_000;
/** Time Serf allows at shutdown to write pending events (shutdownFlushTimeout). */
export const SHUTDOWN_FLUSH_TIMEOUT_MS = 250;
/** Estimated bytes per alive node (snapshotBytesPerNode). */
export const SNAPSHOT_BYTES_PER_NODE = 128;
/** Compact when the file exceeds this many times the estimate (snapshotCompactionThreshold). */
export const SNAPSHOT_COMPACTION_THRESHOLD = 2;
/** The minimum compaction size Serf passes to NewSnapshotter (serf.go snapshotSizeLimit, 128 KiB). */
export const SNAPSHOT_SIZE_LIMIT = 128 * 1024;

const MAX_UINT64 = 0xffff_ffff_ffff_ffffn;

/** A node the previous run saw alive (Serf's PreviousNode): a name and "ip:port". */
export interface PreviousNode {
  readonly name: string;
  readonly addr: string;
}

/** The state a snapshot file restores (Snapshotter.replay plus what serf.go Create derives). */
export interface SnapshotReplay {
  /** Nodes alive at the end of the file, in first-seen order (see rejoinCandidates for Serf's order). */
  readonly aliveNodes: readonly PreviousNode[];
  readonly lastClock: bigint;
  readonly lastEventClock: bigint;
  readonly lastQueryClock: bigint;
  /** serf.eventMinTime = lastEventClock + 1: user events below it are not delivered again. */
  readonly eventMinTime: bigint;
  /** serf.queryMinTime = lastQueryClock + 1. */
  readonly queryMinTime: bigint;
  /**
   * The previous run ended with a graceful leave: a `leave` record with no member record after
   * it. Informational (Serf keeps no such flag): with rejoinAfterLeave the leave is ignored.
   */
  readonly left: boolean;
  readonly warnings: readonly SnapshotWarning[];
  /** Bytes of a torn last line; the runtime truncates them away before appending. */
  readonly tornBytes: number;
  /** File size once the torn tail is cut: where appends continue. */
  readonly keptBytes: number;
}

/**
 * Replays a snapshot file as Snapshotter.replay does. A `leave` record empties the alive set and
 * zeroes the clocks, unless rejoinAfterLeave (Serf's RejoinAfterLeave / agent `-rejoin`).
 */
export function replaySnapshot(file: Uint8Array | string, rejoinAfterLeave: boolean): SnapshotReplay {
  const parsed = parseSnapshot(file);
  const alive = new Map<string, string>();
  let lastClock = 0n;
  let lastEventClock = 0n;
  let lastQueryClock = 0n;
  let left = false;
  for (const { record } of parsed.records) {
    switch (record.kind) {
      case 'alive':
        alive.set(record.name, record.addr);
        left = false;
        break;
      case 'not-alive':
        alive.delete(record.name);
        left = false;
        break;
      case 'clock':
        lastClock = record.time;
        break;
      case 'event-clock':
        lastEventClock = record.time;
        break;
      case 'query-clock':
        lastQueryClock = record.time;
        break;
      case 'leave':
        left = true;
        if (rejoinAfterLeave) break;
        alive.clear();
        lastClock = 0n;
        lastEventClock = 0n;
        lastQueryClock = 0n;
        break;
      case 'coordinate': // Serf 0.9.4 skips coordinates persisted by older versions.
      case 'comment':
        break;
    }
  }
  return {
    aliveNodes: [...alive].map(([name, addr]) => ({ name, addr })),
    lastClock,
    lastEventClock,
    lastQueryClock,
    // LamportTime is a uint64 in Go, so +1 wraps.
    eventMinTime: (lastEventClock + 1n) & MAX_UINT64,
    queryMinTime: (lastQueryClock + 1n) & MAX_UINT64,
    left,
    warnings: parsed.warnings,
    tornBytes: parsed.tornBytes,
    keptBytes: parsed.bytes - parsed.tornBytes,
  };
}

/**
 * The nodes to try re-joining, in Serf's order: AliveNodes shuffles (so restarted agents do not
 * all hit the same node) and handleRejoin skips our own name, trying each until one join works
 * (memberlist join address "name/addr").
 */
export function rejoinCandidates(nodes: readonly PreviousNode[], selfName: string, rng: Rng): PreviousNode[] {
  const order = [...nodes];
  for (let i = 0; i < order.length; i++) {
    const j = rng.int(i + 1);
    const t = order[i] as PreviousNode;
    order[i] = order[j] as PreviousNode;
    order[j] = t;
  }
  return order.filter((n) => n.name !== selfName);
}

export type MemberEventType = 'member-join' | 'member-leave' | 'member-failed' | 'member-update' | 'member-reap';

/** The fields of a Serf Member the snapshot records. */
export interface SnapshotMember {
  readonly name: string;
  readonly addr: Uint8Array;
  readonly port: number;
}

/**
 * What the runtime does with the file after one call. Order: install `compact` (if present) by
 * writing it to path + COMPACT_TMP_EXT, fsync, and replacing the snapshot; then append `append`;
 * then flush if `flush`, fsync if `sync`. Lines appended in the same call before a compaction
 * are already reflected in `compact` and are not repeated in `append`.
 */
export interface SnapshotWrite {
  readonly append: readonly string[];
  readonly compact?: string;
  /** Push buffered lines to the file now (Serf: on an append ≥ 500 ms after the last flush, on leave, on shutdown). */
  readonly flush: boolean;
  /** fsync after flushing (Serf: on leave and on shutdown). */
  readonly sync: boolean;
}

export interface SnapshotterOptions {
  /** Serf's RejoinAfterLeave: a leave keeps the alive set (and replay ignores `leave`). */
  readonly rejoinAfterLeave: boolean;
  /** Never compact below this size; Serf uses SNAPSHOT_SIZE_LIMIT. */
  readonly minCompactSize?: number;
}

interface Batch {
  append: string[];
  compact?: string;
  flush: boolean;
  sync: boolean;
}

/**
 * Snapshotter.stream's logic. Feed it, in order, every event Serf hands to the application
 * (member events, user events, queries — Serf's snapshot sits first on the event channel, so it
 * sees them uncoalesced, internal `_serf_` queries included), tick() every CLOCK_UPDATE_INTERVAL_MS,
 * leave() when the agent leaves and shutdown() when it stops.
 */
export class Snapshotter {
  private readonly rejoinAfterLeave: boolean;
  private readonly minCompactSize: number;
  private readonly alive = new Map<string, string>();
  private clock = 0n;
  private eventClock = 0n;
  private queryClock = 0n;
  private offset: number;
  private lastFlush: number | undefined;
  private lastAttemptedCompaction: number | undefined;
  private isLeaving = false;

  /** `restored` is the replay of the existing file (after its torn tail, if any, was cut). */
  constructor(options: SnapshotterOptions, restored?: SnapshotReplay) {
    this.rejoinAfterLeave = options.rejoinAfterLeave;
    this.minCompactSize = options.minCompactSize ?? SNAPSHOT_SIZE_LIMIT;
    this.offset = restored?.keptBytes ?? 0;
    if (restored) {
      for (const n of restored.aliveNodes) this.alive.set(n.name, n.addr);
      this.clock = restored.lastClock;
      this.eventClock = restored.lastEventClock;
      this.queryClock = restored.lastQueryClock;
    }
  }

  /** Bytes in the snapshot file, counting every line handed out (Serf's offset). */
  get bytesWritten(): number {
    return this.offset;
  }

  /** Size beyond which the next append compacts (snapshotMaxSize). */
  get maxSize(): number {
    const threshold = this.alive.size * SNAPSHOT_BYTES_PER_NODE * SNAPSHOT_COMPACTION_THRESHOLD;
    return Math.max(threshold, this.minCompactSize);
  }

  get aliveNodes(): PreviousNode[] {
    return [...this.alive].map(([name, addr]) => ({ name, addr }));
  }

  get lastClock(): bigint {
    return this.clock;
  }

  get lastEventClock(): bigint {
    return this.eventClock;
  }

  get lastQueryClock(): bigint {
    return this.queryClock;
  }

  /** After leave(), member events, user events and queries are no longer recorded. */
  get leaving(): boolean {
    return this.isLeaving;
  }

  /**
   * processMemberEvent: a join records `alive:`, a leave or failure `not-alive:`; update and
   * reap record nothing. Every member event then records the member clock if it moved.
   * `clockTime` is the member Lamport clock's current time.
   */
  memberEvent(now: number, type: MemberEventType, members: readonly SnapshotMember[], clockTime: bigint): SnapshotWrite {
    const batch = newBatch();
    if (this.isLeaving) return batch;
    for (const m of members) {
      // A name with '\n' would split into a forged record (Serf writes it anyway): don't record it.
      if (m.name.includes('\n')) continue;
      if (type === 'member-join') {
        const addr = formatTcpAddr(m.addr, m.port);
        this.alive.set(m.name, addr);
        this.append(batch, now, { kind: 'alive', name: m.name, addr });
      } else if (type === 'member-leave' || type === 'member-failed') {
        this.alive.delete(m.name);
        this.append(batch, now, { kind: 'not-alive', name: m.name });
      }
    }
    this.updateClock(batch, now, clockTime);
    return batch;
  }

  /** processUserEvent: records `event-clock:` when ltime is newer than the last one. */
  userEvent(now: number, ltime: bigint): SnapshotWrite {
    const batch = newBatch();
    if (this.isLeaving || ltime <= this.eventClock) return batch;
    this.eventClock = ltime;
    this.append(batch, now, { kind: 'event-clock', time: ltime });
    return batch;
  }

  /** processQuery: records `query-clock:` when ltime is newer than the last one. */
  query(now: number, ltime: bigint): SnapshotWrite {
    const batch = newBatch();
    if (this.isLeaving || ltime <= this.queryClock) return batch;
    this.queryClock = ltime;
    this.append(batch, now, { kind: 'query-clock', time: ltime });
    return batch;
  }

  /**
   * The clockUpdateInterval ticker: records `clock: <clockTime - 1>` if that moved forward.
   * Runs after leave() too, as Serf's ticker does.
   */
  tick(now: number, clockTime: bigint): SnapshotWrite {
    const batch = newBatch();
    this.updateClock(batch, now, clockTime);
    return batch;
  }

  /**
   * The agent is leaving (Snapshotter.Leave): stop recording events, forget the alive set
   * unless rejoinAfterLeave, append `leave`, flush and fsync.
   */
  leave(now: number): SnapshotWrite {
    const batch = newBatch();
    this.isLeaving = true;
    if (!this.rejoinAfterLeave) this.alive.clear();
    this.append(batch, now, { kind: 'leave' });
    batch.flush = true;
    batch.sync = true;
    return batch;
  }

  /** The agent stops: record the clock one last time, flush and fsync. Feed pending events first. */
  shutdown(now: number, clockTime: bigint): SnapshotWrite {
    const batch = newBatch();
    this.updateClock(batch, now, clockTime);
    batch.flush = true;
    batch.sync = true;
    return batch;
  }

  /**
   * The runtime failed to append, flush or compact (tryAppend's error path): Serf recovers by
   * compacting, at most once every ERROR_RECOVERY_INTERVAL_MS.
   */
  writeFailed(now: number): SnapshotWrite {
    const batch = newBatch();
    if (this.lastAttemptedCompaction === undefined || now - this.lastAttemptedCompaction > ERROR_RECOVERY_INTERVAL_MS) {
      this.lastAttemptedCompaction = now;
      this.compact(batch, now);
    }
    return batch;
  }

  private updateClock(batch: Batch, now: number, clockTime: bigint): void {
    // Serf computes Time()-1 in uint64, so a clock at 0 would record 2^64-1; Serf's own clock
    // starts at 1 (Create increments it), so treat 0 as "nothing seen" instead.
    if (clockTime === 0n) return;
    const lastSeen = clockTime - 1n;
    if (lastSeen <= this.clock) return;
    this.clock = lastSeen;
    this.append(batch, now, { kind: 'clock', time: lastSeen });
  }

  /** appendLine: buffer, flush if 500 ms passed since the last flush, compact past maxSize. */
  private append(batch: Batch, now: number, record: WrittenRecord): void {
    const line = formatRecord(record);
    batch.append.push(line);
    if (this.lastFlush === undefined || now - this.lastFlush > FLUSH_INTERVAL_MS) {
      this.lastFlush = now;
      batch.flush = true;
    }
    this.offset += utf8Length(line);
    if (this.offset > this.maxSize) this.compact(batch, now);
  }

  /**
   * Snapshotter.compact: one `alive:` line per alive node, then clock, event-clock and
   * query-clock (always, even at 0). Serf walks a Go map, so its node order is random; ours is
   * first-seen order. A `leave` record is not carried over.
   */
  private compact(batch: Batch, now: number): void {
    let content = '';
    for (const [name, addr] of this.alive) content += formatRecord({ kind: 'alive', name, addr });
    content += formatRecord({ kind: 'clock', time: this.clock });
    content += formatRecord({ kind: 'event-clock', time: this.eventClock });
    content += formatRecord({ kind: 'query-clock', time: this.queryClock });
    batch.compact = content;
    batch.append = [];
    batch.flush = false;
    this.offset = utf8Length(content);
    this.lastFlush = now;
  }
}

function newBatch(): Batch {
  return { append: [], flush: false, sync: false };
}
