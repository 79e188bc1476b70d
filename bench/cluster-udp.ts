// UDP bytes the benchmark's agents send, counted by the kernel: an nftables table with one counter
// rule per implementation's port range on the output hook (loopback packets pass it once). The
// counters see whole IP packets; payload = bytes − 28 × packets (IPv4 + UDP headers). Without a
// usable `nft` (not installed, no CAP_NET_ADMIN) the figures are left out rather than guessed.
import { execFileSync } from 'node:child_process';
import { PORT_RANGE, type Impl } from './cluster-procs.js';

const TABLE = 'shoalbench';
const IPV4_UDP_HEADERS = 28;

export interface UdpCount {
  readonly packets: number;
  /** UDP payload bytes. */
  readonly bytes: number;
}

function nft(...args: string[]): string {
  return execFileSync('nft', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export class UdpCounters {
  private constructor() {}

  /** Creates the table (replacing a leftover one), or returns null with the reason printed once. */
  static create(): UdpCounters | null {
    try {
      UdpCounters.remove();
      nft('add', 'table', 'inet', TABLE);
      nft('add', 'chain', 'inet', TABLE, 'out', '{ type filter hook output priority 0; }');
      for (const [lo, hi] of Object.values(PORT_RANGE)) nft('add', 'rule', 'inet', TABLE, 'out', 'udp', 'sport', `${lo}-${hi}`, 'counter');
      return new UdpCounters();
    } catch (err) {
      console.error(`UDP counters unavailable (nft: ${String(err).split('\n')[0]}); UDP figures left out`);
      return null;
    }
  }

  /** Deletes the table if it exists; synchronous, so it is safe in an 'exit' handler. */
  static remove(): void {
    try {
      nft('delete', 'table', 'inet', TABLE);
    } catch {
      // Not there: nothing to clean up.
    }
  }

  read(impl: Impl): UdpCount {
    const [lo, hi] = PORT_RANGE[impl];
    const listing = nft('list', 'table', 'inet', TABLE);
    const match = new RegExp(`udp sport ${lo}-${hi} counter packets (\\d+) bytes (\\d+)`).exec(listing);
    if (match?.[1] === undefined || match[2] === undefined) throw new Error(`no counter for ${impl} in:\n${listing}`);
    const packets = Number(match[1]);
    return { packets, bytes: Number(match[2]) - IPV4_UDP_HEADERS * packets };
  }
}
