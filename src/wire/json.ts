// Schema-driven conversion of decoded messages to plain JSON for people and tests:
// Go's wire names, bytes as lowercase hex, nil as null, integers as numbers (decimal strings
// beyond 2^53), maps as objects.
import type { Fields, Kind, KStruct } from './schema.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function hexOf(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += (bytes[i] as number).toString(16).padStart(2, '0');
  return s;
}

export function bigintToJson(v: bigint): Json {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
}

export function valueToJson(kind: Kind, v: unknown): Json {
  if (v === null || v === undefined) return null;
  switch (kind.k) {
    case 'string': return v as string;
    case 'bytes': case 'bytesOrNil': return hexOf(v as Uint8Array);
    case 'bool': return v as boolean;
    case 'number': case 'float': return v as number;
    case 'bigint': return bigintToJson(v as bigint);
    case 'array': case 'arrayOrNil': return (v as unknown[]).map((item) => valueToJson(kind.e, item));
    case 'map': case 'mapOrNil': {
      const out: { [key: string]: Json } = {};
      for (const [key, item] of v as Map<string, unknown>) out[key] = valueToJson(kind.v, item);
      return out;
    }
    case 'struct': return structToJson(kind, v);
    case 'structOrNil': return structToJson(kind.s, v);
  }
}

/** A struct as JSON, fields in Go's wire order; absent omitempty fields are left out. */
export function structToJson(s: KStruct<Fields>, v: unknown): { [key: string]: Json } {
  const obj = v as Record<string, unknown>;
  const out: { [key: string]: Json } = {};
  for (const f of s.entries) {
    const value = obj[f.name];
    if (value === undefined && f.kind.omit) continue;
    out[f.name] = valueToJson(f.kind, value);
  }
  return out;
}
