// A peer's UDP/TCP address: raw IP bytes as memberlist carries them (4 or 16) and a port.
// memberlist compares addresses byte for byte, so the 4- and 16-byte forms of one IPv4 address
// count as different (reference §2.1): we keep whatever form a node announces.

export interface Address {
  readonly ip: Uint8Array;
  readonly port: number;
}

export function ipToString(ip: Uint8Array): string {
  if (ip.length === 4) return `${ip[0]}.${ip[1]}.${ip[2]}.${ip[3]}`;
  if (ip.length === 16) {
    if (isV4Mapped(ip)) return `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`;
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push((((ip[i] as number) << 8) | (ip[i + 1] as number)).toString(16));
    return compressIpv6(groups);
  }
  return `<${ip.length}-byte address>`;
}

function isV4Mapped(ip: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  return ip[10] === 0xff && ip[11] === 0xff;
}

function compressIpv6(groups: string[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLen).join(':')}`;
}

/** "ip:port" (IPv6 in brackets), as Go's net.JoinHostPort writes it. */
export function addressToString(a: Address): string {
  const host = ipToString(a.ip);
  return host.includes(':') ? `[${host}]:${a.port}` : `${host}:${a.port}`;
}

/** A map key for an address (raw bytes, so the 4- and 16-byte forms stay distinct). */
export function addressKey(a: Address): string {
  let s = '';
  for (const b of a.ip) s += String.fromCharCode(b);
  return `${s}/${a.port}`;
}

export function sameIp(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Parses a dotted IPv4 address into 4 bytes; returns null if it is not one. */
export function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] as string;
    if (!/^\d{1,3}$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    out[i] = v;
  }
  return out;
}
