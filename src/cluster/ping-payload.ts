// The payload Serf's ping delegate puts in every ack (serf/ping_delegate.go, reference §8.9): the
// ping version byte 0x01, then the sender's coordinate as msgpack Coordinate{Adjustment, Error,
// Height, Vec} (float64s, keys in Go's sorted order). Serf reads it when its own probe succeeds.
import { WireError, result, type DecodeResult } from '../wire/errors.js';
import { MsgpackReader } from '../wire/msgpack-reader.js';
import { MsgpackWriter } from '../wire/msgpack-writer.js';
import { decodeStruct, encodeStruct } from '../wire/schema.js';
import { PING_VERSION, coordinateSchema, type Coordinate as WireCoordinate } from '../wire/serf-schemas.js';
import type { Coordinate } from './coordinate.js';

/** The payload starts with a version byte Serf does not understand (it logs and skips the update). */
export class PingVersionError extends WireError {
  constructor(readonly version: number) {
    super('serf', 0, `unsupported ping version ${version} (expected ${PING_VERSION})`);
  }
}

/** The msgpack form. A nil Vec becomes empty, which the Vivaldi client refuses as incompatible, as Serf does. */
export function coordinateFromWire(w: WireCoordinate): Coordinate {
  return { vec: w.Vec ?? [], error: w.Error, adjustment: w.Adjustment, height: w.Height };
}

export function coordinateToWire(c: Coordinate): WireCoordinate {
  return { Vec: [...c.vec], Error: c.error, Adjustment: c.adjustment, Height: c.height };
}

const writer = new MsgpackWriter('gossip');

/** 0x01 + msgpack coordinate, byte for byte what a Serf 0.9.4 agent sends. */
export function encodeAckPayload(coord: Coordinate): Uint8Array {
  writer.reset();
  writer.byte(PING_VERSION);
  encodeStruct(writer, coordinateSchema, coordinateToWire(coord));
  return writer.finish();
}

/**
 * Reads an ack payload. Never throws. An absent or empty payload (a memberlist node without Serf,
 * or an agent that sends none) gives `value: null`, which Serf ignores silently. A wrong version
 * gives a PingVersionError, malformed msgpack a WireError (layer 'serf', offset in the payload).
 * Like Go's decoder, it reads one value, ignores any bytes after it and skips unknown fields.
 */
export function decodeAckPayload(payload: Uint8Array | null): DecodeResult<Coordinate | null> {
  if (payload === null || payload.length === 0) return { ok: true, value: null };
  const version = payload[0] as number;
  if (version !== PING_VERSION) return { ok: false, error: new PingVersionError(version) };
  return result('serf', () => coordinateFromWire(decodeStruct(new MsgpackReader(payload, 1, payload.length, 'serf'), coordinateSchema)));
}
