// Serf tags in memberlist Meta (reference §8.3): 0xff followed by a msgpack map[string]string.
// Meta that is empty or does not start with 0xff is Serf's legacy form: the whole Meta is the
// value of the "role" tag.
import { MsgpackReader, utf8 } from './msgpack-reader.js';
import { MsgpackWriter } from './msgpack-writer.js';

export const TAG_MAGIC = 0xff;
/** memberlist's MetaMaxSize: Meta longer than this is refused when a node is set up or updated. */
export const META_MAX_BYTES = 512;

export function encodeTags(tags: ReadonlyMap<string, string>): Uint8Array {
  const w = new MsgpackWriter('gossip', 64);
  w.byte(TAG_MAGIC);
  w.mapHeader(tags.size);
  // Go writes tags in random map order; we write them sorted so our Meta is stable.
  for (const key of [...tags.keys()].sort()) {
    w.string(key);
    w.string(tags.get(key) as string);
  }
  return w.finish();
}

/** Encodes tags and checks the 512-byte Meta limit, with an error that says what to do. */
export function encodeTagsChecked(tags: ReadonlyMap<string, string>): Uint8Array {
  const meta = encodeTags(tags);
  if (meta.length > META_MAX_BYTES) {
    throw new RangeError(`tags encode to ${meta.length} bytes, over memberlist's ${META_MAX_BYTES}-byte Meta limit; use fewer or shorter tags`);
  }
  return meta;
}

export function decodeTags(meta: Uint8Array): Map<string, string> {
  if (meta.length === 0 || meta[0] !== TAG_MAGIC) return new Map([['role', utf8(meta, 0, meta.length)]]);
  const r = new MsgpackReader(meta, 1, meta.length, 'meta');
  // Like Go, bytes after the map are ignored.
  const n = r.mapLenOrNil();
  const tags = new Map<string, string>();
  for (let i = 0; i < n; i++) {
    const key = r.string();
    tags.set(key, r.string());
  }
  return tags;
}
