// Serf's configuration (serf/config.go DefaultConfig, with the agent's overrides noted),
// in milliseconds. Every limit is a field.
import type { ConfigInput } from '../protocol/config.js';

export interface SerfConfig {
  readonly nodeName: string;
  readonly tags: ReadonlyMap<string, string>;
  /** Serf protocol; the agent speaks 5 (understands 2..5). */
  readonly protocolVersion: number;
  /** Settings for the membership core below; name and delegate versions are filled in by Serf. */
  readonly memberlist: Omit<ConfigInput, 'name'>;
  readonly eventBuffer: number;
  readonly queryBuffer: number;
  readonly userEventSizeLimit: number;
  readonly querySizeLimit: number;
  readonly queryResponseSizeLimit: number;
  readonly queryTimeoutMult: number;
  readonly reapIntervalMs: number;
  readonly reconnectIntervalMs: number;
  readonly reconnectTimeoutMs: number;
  readonly tombstoneTimeoutMs: number;
  readonly recentIntentTimeoutMs: number;
  readonly flapTimeoutMs: number;
  readonly broadcastTimeoutMs: number;
  readonly leavePropagateDelayMs: number;
  readonly queueCheckIntervalMs: number;
  readonly queueDepthWarning: number;
  readonly maxQueueDepth: number;
  readonly minQueueDepth: number;
  readonly enableNameConflictResolution: boolean;
  readonly disableCoordinates: boolean;
}

/** Serf's hard ceiling for a user event, whatever the configured limit (serf.go UserEventSizeLimit). */
export const USER_EVENT_SIZE_HARD_LIMIT = 9 * 1024;
export const SERF_PROTOCOL_MIN = 2;
export const SERF_PROTOCOL_MAX = 5;

const HOUR_MS = 3_600_000;

export type SerfConfigInput = Partial<Omit<SerfConfig, 'nodeName' | 'memberlist'>> & {
  readonly nodeName: string;
  readonly memberlist: Omit<ConfigInput, 'name'>;
};

export function makeSerfConfig(input: SerfConfigInput): SerfConfig {
  const config: SerfConfig = {
    tags: new Map(),
    protocolVersion: 5,
    eventBuffer: 512,
    queryBuffer: 512,
    userEventSizeLimit: 512,
    querySizeLimit: 1024,
    queryResponseSizeLimit: 1024,
    queryTimeoutMult: 16,
    reapIntervalMs: 15_000,
    reconnectIntervalMs: 30_000,
    reconnectTimeoutMs: 24 * HOUR_MS,
    tombstoneTimeoutMs: 24 * HOUR_MS,
    recentIntentTimeoutMs: 5 * 60_000,
    flapTimeoutMs: 60_000,
    broadcastTimeoutMs: 5_000,
    leavePropagateDelayMs: 1_000,
    queueCheckIntervalMs: 30_000,
    queueDepthWarning: 128,
    maxQueueDepth: 4096,
    minQueueDepth: 0,
    enableNameConflictResolution: true,
    disableCoordinates: false,
    ...input,
  };
  const problems: string[] = [];
  if (config.protocolVersion < SERF_PROTOCOL_MIN || config.protocolVersion > SERF_PROTOCOL_MAX) {
    problems.push(`protocol version ${config.protocolVersion} is outside ${SERF_PROTOCOL_MIN}..${SERF_PROTOCOL_MAX}`);
  }
  if (config.userEventSizeLimit > USER_EVENT_SIZE_HARD_LIMIT) problems.push(`userEventSizeLimit is over Serf's hard limit of ${USER_EVENT_SIZE_HARD_LIMIT} bytes`);
  if (config.eventBuffer < 1 || config.queryBuffer < 1) problems.push('eventBuffer and queryBuffer must be at least 1');
  if (problems.length > 0) throw new RangeError(`invalid serf config: ${problems.join('; ')}`);
  return config;
}
