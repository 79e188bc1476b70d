// CRC-32 (IEEE 802.3 / zlib polynomial 0xEDB88320, reflected), as Go's crc32.ChecksumIEEE computes
// it for memberlist's hasCrc wrapper (reference §4.2). Node ≥ 20.15 has it natively in zlib.

import * as zlib from 'node:zlib';

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** Table-driven CRC-32 (IEEE); the fallback for Node versions without zlib.crc32. */
export function crc32Table(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

// @types/node declares zlib.crc32 unconditionally, but Node 20 before 20.15 lacks it at run time.
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** CRC-32 (IEEE) of `data` as an unsigned 32-bit number. */
export const crc32: (data: Uint8Array) => number =
  typeof nativeCrc32 === 'function' ? (data) => nativeCrc32(data) : crc32Table;
