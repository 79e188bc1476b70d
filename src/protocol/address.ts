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

/** Parses IPv6 text (with :: and an optional dotted IPv4 tail) into 16 bytes; null if invalid. */
export function parseIpv6(text: string): Uint8Array | null {
  let head = text;
  let v4: Uint8Array | null = null;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    v4 = parseIpv4(text.slice(lastColon + 1));
    if (v4 === null) return null;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string): number[] | null => {
    if (part === '') return [];
    const groups = part.split(':');
    const out: number[] = [];
    for (const g of groups) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = parse(halves[0] as string);
  const right = halves.length === 2 ? parse(halves[1] as string) : [];
  if (left === null || right === null) return null;
  const missing = 8 - left.length - right.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0 || (halves.length === 2 && missing < 1)) return null;
  const groups = [...left, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...right];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  if (v4 !== null) out.set(v4, 12);
  return out;
}

/** Parses "ip:port" or "[ipv6]:port" as Go's net.JoinHostPort writes it; null if invalid. */
export function parseHostPort(text: string): Address | null {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (m === null) return null;
  const host = m[1] as string;
  const port = Number(m[2]);
  if (!(port > 0 && port < 65536)) return null;
  const ip = host.includes(':') ? parseIpv6(host) : parseIpv4(host);
  return ip === null ? null : { ip, port };
}
