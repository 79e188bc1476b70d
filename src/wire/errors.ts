// Typed decode/encode errors. Every failure inside the codec is a WireError naming the layer
// it happened in, the byte offset within that layer's own buffer, and a reason a person can read.
// Public entry points never throw: they return a DecodeResult (see result()).

export const WireLayers = [
  'encrypt', // AES-GCM envelope (UDP packet or TCP 0x0a frame)
  'crc', // hasCrc (12) wrapper
  'compress', // compress (9) wrapper and its LZW buffer
  'lzw', // the LZW code stream itself
  'compound', // compound (7) framing
  'msgpack', // a msgpack value
  'memberlist', // a memberlist message (type byte + body)
  'serf', // a Serf message inside a memberlist user message
  'stream', // TCP stream framing (push/pull, stream ping, user, err)
  'rpc', // Serf's RPC (IPC) protocol
  'meta', // tags in Meta (0xff + map)
  'input', // the caller's input itself (hex, limits)
] as const;
export type WireLayer = (typeof WireLayers)[number];

export class WireError extends Error {
  override readonly name = 'WireError';
  constructor(
    readonly layer: WireLayer,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`${layer} at offset ${offset}: ${reason}`);
  }
}

/** Raised inside the codec when the input ends early. Stream parsers use it to ask for more bytes. */
export class TruncatedError extends WireError {
  constructor(layer: WireLayer, offset: number, readonly needed: number) {
    super(layer, offset, `truncated: need ${needed} more byte(s)`);
  }
}

export type DecodeResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: WireError };

/**
 * Runs a codec function and turns every failure into a WireError result.
 * A non-WireError exception means a bug in the codec (fuzzing counts those separately), so it is
 * reported with the reason prefixed by "internal:".
 */
export function result<T>(layer: WireLayer, run: () => T): DecodeResult<T> {
  try {
    return { ok: true, value: run() };
  } catch (err) {
    if (err instanceof WireError) return { ok: false, error: err };
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, error: new WireError(layer, 0, `internal: ${message}`) };
  }
}

export function isInternalError(err: WireError): boolean {
  return err.reason.startsWith('internal:');
}
