// The simulated network: carries the real encoded bytes between simulated hosts with per-link
// delay, loss, duplication and partitions (symmetric or one-way). Every random choice comes
// from the run's seeded generator.
import type { Rng } from '../src/protocol/rng.js';
import type { Scheduler } from './scheduler.js';

export interface LatencyModel {
  /** One-way delay is uniform in [minMs, maxMs]. */
  readonly minMs: number;
  readonly maxMs: number;
}

export interface LinkFaults {
  /** Probability that a datagram is lost. */
  readonly loss?: number;
  /** Probability that a datagram is delivered twice. */
  readonly duplicate?: number;
  readonly latency?: LatencyModel;
}

export interface NetworkStats {
  datagramsSent: number;
  datagramsDelivered: number;
  datagramsLost: number;
  datagramsBlocked: number;
  bytesSent: number;
  streamsOpened: number;
  streamsFailed: number;
  streamBytes: number;
}

/** Hosts are numbered; the network only knows whether a direction is open and how it behaves. */
export class Network {
  latency: LatencyModel = { minMs: 0.2, maxMs: 1 };
  loss = 0;
  duplicate = 0;
  private readonly links = new Map<string, LinkFaults>();
  /** Directed pairs "from>to" that drop everything. */
  private readonly blocked = new Set<string>();
  readonly stats: NetworkStats = {
    datagramsSent: 0, datagramsDelivered: 0, datagramsLost: 0, datagramsBlocked: 0, bytesSent: 0,
    streamsOpened: 0, streamsFailed: 0, streamBytes: 0,
  };

  constructor(
    private readonly scheduler: Scheduler,
    private readonly rng: Rng,
  ) {}

  setLink(from: number, to: number, faults: LinkFaults | null): void {
    if (faults === null) this.links.delete(`${from}>${to}`);
    else this.links.set(`${from}>${to}`, faults);
  }

  /** Cuts from → to (and to → from unless oneWay). */
  block(from: number, to: number, oneWay = false): void {
    this.blocked.add(`${from}>${to}`);
    if (!oneWay) this.blocked.add(`${to}>${from}`);
  }

  unblock(from: number, to: number, oneWay = false): void {
    this.blocked.delete(`${from}>${to}`);
    if (!oneWay) this.blocked.delete(`${to}>${from}`);
  }

  healPartitions(): void {
    this.blocked.clear();
  }

  isBlocked(from: number, to: number): boolean {
    return this.blocked.size > 0 && this.blocked.has(`${from}>${to}`);
  }

  private link(from: number, to: number): LinkFaults | undefined {
    return this.links.size === 0 ? undefined : this.links.get(`${from}>${to}`);
  }

  delay(from: number, to: number): number {
    const model = this.link(from, to)?.latency ?? this.latency;
    return model.minMs + this.rng.next() * (model.maxMs - model.minMs);
  }

  /** Sends a datagram; `deliver` runs at the receiver if it survives the link. */
  sendDatagram(from: number, to: number, size: number, deliver: () => void): void {
    this.stats.datagramsSent++;
    this.stats.bytesSent += size;
    if (this.isBlocked(from, to)) {
      this.stats.datagramsBlocked++;
      return;
    }
    const link = this.link(from, to);
    const loss = link?.loss ?? this.loss;
    if (loss > 0 && this.rng.next() < loss) {
      this.stats.datagramsLost++;
      return;
    }
    this.stats.datagramsDelivered++;
    this.scheduler.after(this.delay(from, to), deliver);
    const duplicate = link?.duplicate ?? this.duplicate;
    if (duplicate > 0 && this.rng.next() < duplicate) this.scheduler.after(this.delay(from, to), deliver);
  }
}
