// The simulated network: carries the real encoded bytes between simulated hosts with per-link
// delay, loss, duplication and partitions (symmetric or one-way). Every random choice comes
// from the run's seeded generator.
import type { Rng } from '../src/protocol/rng.js';
import type { Scheduler } from './scheduler.js';

export interface LatencyModel {
  /** One-way delay is uniform in [minMs, maxMs] (or, with `normal`, clamped to it). */
  readonly minMs: number;
  readonly maxMs: number;
  /**
   * 'normal': a bell around the middle of [minMs, maxMs] with a standard deviation of a quarter
   * of its width, clamped to it (jitter around a typical delay rather than flat spread).
   */
  readonly distribution?: 'uniform' | 'normal';
}

export interface LinkFaults {
  /** Probability that a datagram is lost. */
  readonly loss?: number;
  /** Probability that a datagram is delivered twice. */
  readonly duplicate?: number;
  /** Probability that a datagram is held back by up to `reorderDelayMs` more, so later ones overtake it. */
  readonly reorder?: number;
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
  reorder = 0;
  /** The extra delay a reordered datagram gets is uniform in [0, reorderDelayMs]. */
  reorderDelayMs = 50;
  /**
   * A cut decided by a function of the two host ids (a scenario's partitions: group membership
   * is an array lookup, where a pair set would need n² entries for a 50/50 split of a big cluster).
   */
  cut: ((from: number, to: number) => boolean) | null = null;
  /** Per-link settings decided by a function of the two host ids (a scenario's link faults); wins over setLink. */
  linkFaults: ((from: number, to: number) => LinkFaults | undefined) | null = null;
  /** Datagrams and bytes (datagrams and streams) each host sent, by host id. */
  readonly sentByHost: number[] = [];
  readonly bytesByHost: number[] = [];
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
    if (this.cut !== null && this.cut(from, to)) return true;
    return this.blocked.size > 0 && this.blocked.has(`${from}>${to}`);
  }

  /** Drops every per-link setting. */
  clearLinks(): void {
    this.links.clear();
  }

  /** Counts bytes a host sent (datagrams here; streams from SimHost). */
  countSent(from: number, bytes: number, datagram: boolean): void {
    if (datagram) this.sentByHost[from] = (this.sentByHost[from] ?? 0) + 1;
    this.bytesByHost[from] = (this.bytesByHost[from] ?? 0) + bytes;
  }

  private link(from: number, to: number): LinkFaults | undefined {
    if (this.linkFaults !== null) {
      const faults = this.linkFaults(from, to);
      if (faults !== undefined) return faults;
    }
    return this.links.size === 0 ? undefined : this.links.get(`${from}>${to}`);
  }

  delay(from: number, to: number): number {
    const model = this.link(from, to)?.latency ?? this.latency;
    const width = model.maxMs - model.minMs;
    if (model.distribution === 'normal') {
      // Box–Muller from two uniforms of the run's generator, so the run stays a function of its seed.
      const u = 1 - this.rng.next();
      const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.rng.next());
      return Math.min(model.maxMs, Math.max(model.minMs, model.minMs + width / 2 + z * (width / 4)));
    }
    return model.minMs + this.rng.next() * width;
  }

  /** Sends a datagram; `deliver` runs at the receiver if it survives the link. */
  sendDatagram(from: number, to: number, size: number, deliver: () => void): void {
    this.stats.datagramsSent++;
    this.stats.bytesSent += size;
    this.countSent(from, size, true);
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
    this.scheduler.after(this.delay(from, to) + this.reorderDelay(link), deliver);
    const duplicate = link?.duplicate ?? this.duplicate;
    if (duplicate > 0 && this.rng.next() < duplicate) this.scheduler.after(this.delay(from, to) + this.reorderDelay(link), deliver);
  }

  private reorderDelay(link: LinkFaults | undefined): number {
    const reorder = link?.reorder ?? this.reorder;
    if (reorder > 0 && this.rng.next() < reorder) return this.rng.next() * this.reorderDelayMs;
    return 0;
  }
}
