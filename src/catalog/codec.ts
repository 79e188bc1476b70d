// The catalog's gossip messages, in the schema-driven msgpack of src/wire. They travel inside
// memberlist user messages (type 8) behind one type byte Serf never uses, and only to peers that
// announce shoal support (see peers.ts), so a real serf agent never sees one. Decoding never
// throws: malformed input comes back as an error the caller counts and drops.
import { MsgpackReader } from '../wire/msgpack-reader.js';
import { MsgpackWriter } from '../wire/msgpack-writer.js';
import { decodeStruct, encodeStruct, struct, t } from '../wire/schema.js';
import { CATALOG_LIMITS, isHealthStatus, type Check, type NodeCatalog, type Service } from './types.js';

/**
 * The first byte of every catalog message. Serf's message types are 0..9 (serf messages.go); 0xC8
 * is far past them, so Serf's notifyMsg hook can tell ours apart before decoding.
 */
export const CATALOG_MESSAGE_TYPE = 0xc8;

/** The second byte: which catalog message. */
export const CatalogKind = { states: 1, digest: 2, request: 3, summary: 4, announce: 5 } as const;

/** Anti-entropy summaries hash the catalog into this many buckets (see summary.ts). */
export const SUMMARY_BUCKETS = 64;

const serviceSchema = struct('Service', {
  ID: t.string,
  Service: t.string,
  Tags: t.arrayOrNil(t.string),
  Address: t.string,
  Port: t.int,
  Meta: t.mapOrNil(t.string),
});

const checkSchema = struct('Check', {
  CheckID: t.string,
  Name: t.string,
  Status: t.string,
  Notes: t.string,
  Output: t.string,
  ServiceID: t.string,
  ServiceName: t.string,
  Type: t.string,
});

const nodeStateSchema = struct('NodeState', {
  Node: t.string,
  Version: t.int,
  Services: t.arrayOrNil(serviceSchema),
  Checks: t.arrayOrNil(checkSchema),
});

/** Whole node entries; `Forward` asks the receiver to pass news on (rumor), absent for answers. */
const statesSchema = struct('States', { From: t.string, Forward: t.bool, States: t.arrayOrNil(nodeStateSchema) });
/**
 * Anti-entropy, step 2: every node the sender holds in the listed buckets (all buckets when the
 * list is empty) and the version it holds.
 */
const digestSchema = struct('Digest', { From: t.string, Versions: t.mapOrNil(t.int), Buckets: t.arrayOrNil(t.u8) });
/** Anti-entropy, step 1: one hash per bucket of (node, version) pairs; equal hashes need nothing more. */
const summarySchema = struct('Summary', { From: t.string, Hashes: t.arrayOrNil(t.u32) });
/** The answer to a digest or an announcement: the nodes whose entries we want from its sender. */
const requestSchema = struct('Request', { From: t.string, Nodes: t.arrayOrNil(t.string) });
/** Rumor: entries (node → version) the sender has just learned; a receiver missing one requests it. */
const announceSchema = struct('Announce', { From: t.string, Versions: t.mapOrNil(t.int) });

export type CatalogMessage =
  | { readonly kind: 'states'; readonly from: string; readonly forward: boolean; readonly states: NodeCatalog[] }
  | { readonly kind: 'digest'; readonly from: string; readonly versions: Map<string, number>; readonly buckets: number[] }
  | { readonly kind: 'summary'; readonly from: string; readonly hashes: number[] }
  | { readonly kind: 'request'; readonly from: string; readonly nodes: string[] }
  | { readonly kind: 'announce'; readonly from: string; readonly versions: Map<string, number> };

export type DecodeResult = { readonly ok: true; readonly message: CatalogMessage } | { readonly ok: false; readonly reason: string };

function header(kind: number): MsgpackWriter {
  const w = new MsgpackWriter('gossip', 512);
  w.raw(Uint8Array.of(CATALOG_MESSAGE_TYPE, kind));
  return w;
}

function toWireState(s: NodeCatalog): Record<string, unknown> {
  return {
    Node: s.node,
    Version: s.version,
    Services: s.services.map((v) => ({ ...v, Tags: [...v.Tags], Meta: new Map(Object.entries(v.Meta)) })),
    Checks: s.checks.map((c) => ({ ...c })),
  };
}

export function encodeCatalogMessage(msg: CatalogMessage): Uint8Array {
  switch (msg.kind) {
    case 'states': {
      const w = header(CatalogKind.states);
      encodeStruct(w, statesSchema, { From: msg.from, Forward: msg.forward, States: msg.states.map(toWireState) });
      return w.finish();
    }
    case 'digest': {
      const w = header(CatalogKind.digest);
      encodeStruct(w, digestSchema, { From: msg.from, Versions: msg.versions, Buckets: msg.buckets });
      return w.finish();
    }
    case 'summary': {
      const w = header(CatalogKind.summary);
      encodeStruct(w, summarySchema, { From: msg.from, Hashes: msg.hashes });
      return w.finish();
    }
    case 'request': {
      const w = header(CatalogKind.request);
      encodeStruct(w, requestSchema, { From: msg.from, Nodes: msg.nodes });
      return w.finish();
    }
    case 'announce': {
      const w = header(CatalogKind.announce);
      encodeStruct(w, announceSchema, { From: msg.from, Versions: msg.versions });
      return w.finish();
    }
  }
}

/** Checks what the schema cannot: value ranges and per-node limits. Returns a reason or null. */
function validateState(s: NodeCatalog): string | null {
  if (s.node === '') return 'empty node name';
  if (!Number.isSafeInteger(s.version) || s.version < 0) return `bad version ${s.version}`;
  if (s.services.length > CATALOG_LIMITS.servicesPerNode) return `${s.services.length} services (limit ${CATALOG_LIMITS.servicesPerNode})`;
  if (s.checks.length > CATALOG_LIMITS.checksPerNode) return `${s.checks.length} checks (limit ${CATALOG_LIMITS.checksPerNode})`;
  for (const v of s.services) {
    if (v.ID === '' || v.Service === '') return 'a service without ID or name';
    if (v.Port < 0 || v.Port > 65535) return `service ${v.ID}: port ${v.Port}`;
  }
  for (const c of s.checks) {
    if (c.CheckID === '') return 'a check without ID';
    if (!isHealthStatus(c.Status)) return `check ${c.CheckID}: status ${JSON.stringify(c.Status)}`;
  }
  return null;
}

/** Decodes one catalog message (starting with CATALOG_MESSAGE_TYPE). Never throws. */
export function decodeCatalogMessage(bytes: Uint8Array): DecodeResult {
  try {
    if (bytes.length < 2 || bytes[0] !== CATALOG_MESSAGE_TYPE) return { ok: false, reason: 'not a catalog message' };
    const r = new MsgpackReader(bytes, 2);
    let message: CatalogMessage;
    switch (bytes[1]) {
      case CatalogKind.states: {
        const v = decodeStruct(r, statesSchema);
        const states: NodeCatalog[] = (v.States ?? []).map((s) => ({
          node: s.Node,
          version: s.Version,
          services: (s.Services ?? []).map((x): Service => ({ ID: x.ID, Service: x.Service, Tags: x.Tags ?? [], Address: x.Address, Port: x.Port, Meta: Object.fromEntries(x.Meta ?? []) })),
          checks: (s.Checks ?? []) as Check[],
        }));
        for (const s of states) {
          const bad = validateState(s);
          if (bad !== null) return { ok: false, reason: `node ${JSON.stringify(s.node)}: ${bad}` };
        }
        message = { kind: 'states', from: v.From, forward: v.Forward, states };
        break;
      }
      case CatalogKind.digest: {
        const v = decodeStruct(r, digestSchema);
        const buckets = v.Buckets ?? [];
        if (buckets.some((b) => b >= SUMMARY_BUCKETS)) return { ok: false, reason: `bucket out of range (${SUMMARY_BUCKETS} buckets)` };
        message = { kind: 'digest', from: v.From, versions: v.Versions ?? new Map(), buckets };
        break;
      }
      case CatalogKind.summary: {
        const v = decodeStruct(r, summarySchema);
        const hashes = v.Hashes ?? [];
        if (hashes.length !== SUMMARY_BUCKETS) return { ok: false, reason: `${hashes.length} summary hashes, want ${SUMMARY_BUCKETS}` };
        message = { kind: 'summary', from: v.From, hashes };
        break;
      }
      case CatalogKind.request: {
        const v = decodeStruct(r, requestSchema);
        message = { kind: 'request', from: v.From, nodes: v.Nodes ?? [] };
        break;
      }
      case CatalogKind.announce: {
        const v = decodeStruct(r, announceSchema);
        message = { kind: 'announce', from: v.From, versions: v.Versions ?? new Map() };
        break;
      }
      default:
        return { ok: false, reason: `unknown catalog message kind ${String(bytes[1])}` };
    }
    if (r.pos !== bytes.length) return { ok: false, reason: `${bytes.length - r.pos} trailing bytes` };
    return { ok: true, message };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}
