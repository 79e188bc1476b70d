// memberlist's configuration and its LAN, WAN and local profiles (reference §6.12), in
// milliseconds. Every limit is a field, so tests and the simulator can change any of them.
import type { Keyring } from '../wire/encryption.js';
import type { Address } from './address.js';
import type { RelayLimits } from './rate-limit.js';

export interface Timings {
  readonly tcpTimeoutMs: number;
  readonly indirectChecks: number;
  readonly retransmitMult: number;
  readonly suspicionMult: number;
  readonly suspicionMaxTimeoutMult: number;
  readonly pushPullIntervalMs: number;
  readonly probeTimeoutMs: number;
  readonly probeIntervalMs: number;
  readonly disableTcpPings: boolean;
  readonly awarenessMaxMultiplier: number;
  readonly gossipNodes: number;
  readonly gossipIntervalMs: number;
  readonly gossipToTheDeadTimeMs: number;
}

export const PROFILES = {
  lan: {
    tcpTimeoutMs: 10_000, indirectChecks: 3, retransmitMult: 4, suspicionMult: 4, suspicionMaxTimeoutMult: 6,
    pushPullIntervalMs: 30_000, probeTimeoutMs: 500, probeIntervalMs: 1_000, disableTcpPings: false,
    awarenessMaxMultiplier: 8, gossipNodes: 3, gossipIntervalMs: 200, gossipToTheDeadTimeMs: 30_000,
  },
  wan: {
    tcpTimeoutMs: 30_000, indirectChecks: 3, retransmitMult: 4, suspicionMult: 6, suspicionMaxTimeoutMult: 6,
    pushPullIntervalMs: 60_000, probeTimeoutMs: 3_000, probeIntervalMs: 5_000, disableTcpPings: false,
    awarenessMaxMultiplier: 8, gossipNodes: 4, gossipIntervalMs: 500, gossipToTheDeadTimeMs: 60_000,
  },
  local: {
    tcpTimeoutMs: 1_000, indirectChecks: 1, retransmitMult: 2, suspicionMult: 3, suspicionMaxTimeoutMult: 6,
    pushPullIntervalMs: 15_000, probeTimeoutMs: 200, probeIntervalMs: 1_000, disableTcpPings: false,
    awarenessMaxMultiplier: 8, gossipNodes: 3, gossipIntervalMs: 100, gossipToTheDeadTimeMs: 15_000,
  },
} as const satisfies Record<string, Timings>;

export type ProfileName = keyof typeof PROFILES;

/** memberlist's protocol range; Serf always speaks memberlist protocol 2 (reference §3). */
export const PROTOCOL_VERSION_MIN = 1;
export const PROTOCOL_VERSION_MAX = 5;

export interface MemberlistConfig extends Timings {
  readonly name: string;
  /** The address other nodes reach us at (memberlist AdvertiseAddr/Port). */
  readonly advertise: Address;
  /** Substituted for a port of 0 in messages (memberlist BindPort). */
  readonly bindPort: number;
  readonly protocolVersion: number;
  /** The delegate (Serf) protocol range sent in Vsn[3..5]; Serf 0.9.4 agents send 2, 5, 5. */
  readonly delegateProtocolMin: number;
  readonly delegateProtocolMax: number;
  readonly delegateProtocolVersion: number;
  readonly enableCompression: boolean;
  readonly keyring?: Keyring;
  readonly gossipVerifyIncoming: boolean;
  readonly gossipVerifyOutgoing: boolean;
  readonly udpBufferSize: number;
  /** 0 disables reclaiming a dead node's name from a new address (Serf's default). */
  readonly deadNodeReclaimTimeMs: number;
  /**
   * TESTS ONLY: never refute an accusation about ourselves. It breaks the protocol on purpose so
   * the simulator's tests can show its checkers fail; no agent or CLI option sets it.
   */
  readonly testOnlyDisableRefutation?: boolean;
  /** Rate limits on relaying indirect pings (not in memberlist; default DEFAULT_RELAY_LIMITS). */
  readonly relayLimits?: RelayLimits;
}

export interface ConfigInput extends Partial<Omit<MemberlistConfig, 'name' | 'advertise'>> {
  readonly name: string;
  readonly advertise: Address;
  readonly profile?: ProfileName;
}

export function makeConfig(input: ConfigInput): MemberlistConfig {
  const { profile = 'lan', ...rest } = input;
  const config: MemberlistConfig = {
    ...PROFILES[profile],
    bindPort: input.advertise.port,
    protocolVersion: 2,
    delegateProtocolMin: 0,
    delegateProtocolMax: 0,
    delegateProtocolVersion: 0,
    enableCompression: true,
    gossipVerifyIncoming: true,
    gossipVerifyOutgoing: true,
    udpBufferSize: 1400,
    deadNodeReclaimTimeMs: 0,
    ...rest,
  };
  validateConfig(config);
  return config;
}

function validateConfig(c: MemberlistConfig): void {
  const problems: string[] = [];
  if (c.name === '') problems.push('name must not be empty');
  if (c.advertise.ip.length !== 4 && c.advertise.ip.length !== 16) problems.push('advertise address must be IPv4 (4 bytes) or IPv6 (16 bytes)');
  if (!(c.advertise.port > 0 && c.advertise.port < 65536)) problems.push(`advertise port ${c.advertise.port} is not in 1..65535`);
  if (c.protocolVersion < PROTOCOL_VERSION_MIN || c.protocolVersion > PROTOCOL_VERSION_MAX) {
    problems.push(`protocol version ${c.protocolVersion} is outside ${PROTOCOL_VERSION_MIN}..${PROTOCOL_VERSION_MAX}`);
  }
  for (const key of ['probeIntervalMs', 'probeTimeoutMs', 'gossipIntervalMs', 'tcpTimeoutMs'] as const) {
    if (!(c[key] > 0)) problems.push(`${key} must be positive`);
  }
  if (c.probeTimeoutMs > c.probeIntervalMs) problems.push('probeTimeoutMs must not exceed probeIntervalMs');
  if (c.awarenessMaxMultiplier < 1) problems.push('awarenessMaxMultiplier must be at least 1');
  if (c.suspicionMult < 1 || c.suspicionMaxTimeoutMult < 1) problems.push('suspicion multipliers must be at least 1');
  if (c.udpBufferSize < 64) problems.push('udpBufferSize must be at least 64 bytes');
  if (problems.length > 0) throw new RangeError(`invalid memberlist config: ${problems.join('; ')}`);
}
