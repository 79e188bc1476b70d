// The text format of Serf's snapshot file (`-snapshot`, reference §8.11; Serf 0.9.4
// serf/snapshot.go). One record per line, each ending in '\n':
//
//   alive: <name> <ip:port>     a member joined (address as Go's net.TCPAddr.String() writes it)
//   not-alive: <name>           a member left or failed
//   clock: <n>                  last seen member Lamport time
//   event-clock: <n>            last user event Lamport time
//   query-clock: <n>            last query Lamport time
//   leave                       this agent left the cluster
//   coordinate: ...             written by older Serf versions; 0.9.4 skips it
//   # ...                       comment
//
// Parsing follows Snapshotter.replay: prefixes are matched exactly ("alive: " with one space),
// the name of an `alive:` line is everything before the LAST space (names may contain spaces),
// clocks are decimal uint64, and any other line is reported and skipped. Serf reads with
// bufio.ReadString('\n') and stops at the first error, so a last line without '\n' is dropped;
// we drop it too but say so, and report its size so the runtime can cut it off before appending.

import { addressToString } from '../protocol/address.js';

export type ClockKind = 'clock' | 'event-clock' | 'query-clock';

export type SnapshotRecord =
  | { readonly kind: 'alive'; readonly name: string; readonly addr: string }
  | { readonly kind: 'not-alive'; readonly name: string }
  | { readonly kind: ClockKind; readonly time: bigint }
  | { readonly kind: 'leave' }
  | { readonly kind: 'coordinate' }
  | { readonly kind: 'comment' };

export interface SnapshotWarning {
  /** 1-based line number in the file. */
  readonly line: number;
  readonly reason: string;
  /** The offending line, without its '\n'. */
  readonly text: string;
}

export interface ParsedSnapshot {
  /** Records in file order, with their 1-based line numbers. */
  readonly records: readonly { readonly line: number; readonly record: SnapshotRecord }[];
  readonly warnings: readonly SnapshotWarning[];
  /** Total size of the input in bytes. */
  readonly bytes: number;
  /** Bytes after the last '\n' (a torn last record); 0 when the file ends cleanly. */
  readonly tornBytes: number;
}

const MAX_UINT64 = 0xffff_ffff_ffff_ffffn;

/** The records Serf 0.9.4 writes (it only reads `coordinate:` and comments). */
export type WrittenRecord = Exclude<SnapshotRecord, { kind: 'coordinate' } | { kind: 'comment' }>;

/** The line for one record, '\n' included, exactly as Serf writes it. */
export function formatRecord(record: WrittenRecord): string {
  switch (record.kind) {
    case 'alive':
      return `alive: ${record.name} ${record.addr}\n`;
    case 'not-alive':
      return `not-alive: ${record.name}\n`;
    case 'clock':
    case 'event-clock':
    case 'query-clock':
      return `${record.kind}: ${record.time}\n`;
    case 'leave':
      return 'leave\n';
  }
}

/**
 * An address as Go's net.TCPAddr{IP, Port}.String() renders it, which is what Serf writes in
 * `alive:` lines: dotted IPv4 (also for 16-byte IPv4-mapped addresses), RFC 5952 IPv6 in
 * brackets (net.JoinHostPort), an empty host for an empty IP, and "?" + hex for an IP of any
 * other length (net.IP.String's fallback).
 */
export function formatTcpAddr(ip: Uint8Array, port: number): string {
  if (ip.length === 0) return `:${port}`;
  if (ip.length !== 4 && ip.length !== 16) {
    let hex = '';
    for (const b of ip) hex += b.toString(16).padStart(2, '0');
    return `?${hex}:${port}`;
  }
  return addressToString({ ip, port });
}

/** Parses one line (without its '\n'); a string result is the reason the line is skipped. */
export function parseRecord(line: string): SnapshotRecord | string {
  if (line.startsWith('alive: ')) {
    const info = line.slice('alive: '.length);
    const space = info.lastIndexOf(' ');
    if (space === -1) return 'failed to parse address (expected "alive: <name> <ip:port>")';
    return { kind: 'alive', name: info.slice(0, space), addr: info.slice(space + 1) };
  }
  if (line.startsWith('not-alive: ')) return { kind: 'not-alive', name: line.slice('not-alive: '.length) };
  for (const kind of ['clock', 'event-clock', 'query-clock'] as const) {
    const prefix = `${kind}: `;
    if (line.startsWith(prefix)) {
      const time = parseUint64(line.slice(prefix.length));
      if (time === null) return `failed to convert ${kind} time: not a decimal uint64`;
      return { kind, time };
    }
  }
  if (line.startsWith('coordinate: ')) return { kind: 'coordinate' };
  if (line === 'leave') return { kind: 'leave' };
  if (line.startsWith('#')) return { kind: 'comment' };
  return 'unrecognized snapshot line';
}

/** strconv.ParseUint(s, 10, 64): ASCII digits only, no sign, at most 2^64-1. */
function parseUint64(text: string): bigint | null {
  if (!/^[0-9]+$/.test(text)) return null;
  const value = BigInt(text);
  return value > MAX_UINT64 ? null : value;
}

/** Parses a whole snapshot file. Bad lines become warnings; nothing throws. */
export function parseSnapshot(file: Uint8Array | string): ParsedSnapshot {
  const bytes = typeof file === 'string' ? new TextEncoder().encode(file) : file;
  const decoder = new TextDecoder();
  const records: { line: number; record: SnapshotRecord }[] = [];
  const warnings: SnapshotWarning[] = [];
  let start = 0;
  let lineNo = 0;
  for (;;) {
    const nl = bytes.indexOf(0x0a, start);
    if (nl === -1) break;
    lineNo++;
    const text = decoder.decode(bytes.subarray(start, nl));
    start = nl + 1;
    const parsed = parseRecord(text);
    if (typeof parsed === 'string') warnings.push({ line: lineNo, reason: parsed, text });
    else records.push({ line: lineNo, record: parsed });
  }
  const tornBytes = bytes.length - start;
  if (tornBytes > 0) {
    warnings.push({
      line: lineNo + 1,
      reason: 'torn last line (no trailing newline), ignored',
      text: decoder.decode(bytes.subarray(start)),
    });
  }
  return { records, warnings, bytes: bytes.length, tornBytes };
}

/** UTF-8 length of a string, as Go counts the bytes a line adds to the file. */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}
