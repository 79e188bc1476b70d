// The Vivaldi client exactly as Serf 0.9.4 runs it (hashicorp/serf coordinate/client.go). Each time
// a direct probe of a peer succeeds, Serf's ping delegate feeds the peer's coordinate (from its ack
// payload, reference §8.9) and the measured RTT to Update: the RTT goes through a per-node median
// filter, then the Vivaldi spring step moves our coordinate, the adjustment window and gravity
// are updated, and a coordinate that went NaN or infinite is reset to the origin.
import type { Rng } from '../protocol/rng.js';
import {
  DEFAULT_COORDINATE_CONFIG,
  ZERO_THRESHOLD,
  applyForce,
  distanceNs,
  durationSeconds,
  isCompatibleWith,
  isValid,
  newCoordinate,
  rawDistance,
  type Coordinate,
  type CoordinateConfig,
} from './coordinate.js';

/** Serf refuses RTTs above this (client.go maxRTT). */
export const MAX_RTT_MS = 10_000;

export type VivaldiErrorKind = 'incompatible' | 'invalid' | 'rtt-out-of-range';

/** Why the client refused an input; the message is Serf's own wording. */
export class VivaldiError extends Error {
  override readonly name = 'VivaldiError';
  constructor(
    readonly kind: VivaldiErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export type VivaldiResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: VivaldiError };

export interface VivaldiStats {
  /** How many times our coordinate went invalid (NaN or infinite) and was reset to the origin. */
  readonly resets: number;
}

/**
 * The moving median over the last `size` RTT samples of each node (client.go latencyFilter): one
 * slow probe does not move the coordinate, at the cost of a little delay (Ledlie et al.).
 */
export class LatencyFilter {
  private readonly samples = new Map<string, number[]>();

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`latency filter size must be a positive integer, got ${size}`);
  }

  /** Adds a sample (seconds) for `node` and returns the median of its retained samples. */
  sample(node: string, rttSeconds: number): number {
    let samples = this.samples.get(node);
    if (samples === undefined) {
      samples = [];
      this.samples.set(node, samples);
    }
    samples.push(rttSeconds);
    if (samples.length > this.size) samples.shift();
    const sorted = [...samples].sort((a, b) => a - b);
    // The upper median for an even count, as Serf's sorted[len/2].
    return sorted[sorted.length >> 1] as number;
  }

  forget(node: string): void {
    this.samples.delete(node);
  }

  /** Nodes with samples; Serf forgets a node when it is reaped, which bounds this. */
  get nodeCount(): number {
    return this.samples.size;
  }
}

function checkCoordinate(ours: Coordinate, coord: Coordinate): VivaldiError | null {
  if (!isCompatibleWith(ours, coord)) return new VivaldiError('incompatible', "dimensions aren't compatible");
  if (!isValid(coord)) return new VivaldiError('invalid', 'coordinate is invalid');
  return null;
}

function copyCoordinate(c: Coordinate): Coordinate {
  return { vec: [...c.vec], error: c.error, adjustment: c.adjustment, height: c.height };
}

/** Serf's coordinate.Client: our estimated coordinate and the state that refines it. */
export class VivaldiClient {
  private coord: Coordinate;
  private readonly origin: Coordinate;
  private readonly adjustmentSamples: number[];
  private adjustmentIndex = 0;
  private readonly latency: LatencyFilter;
  private resets = 0;

  /**
   * `rng` supplies the random direction Serf picks when two coordinates coincide (every fresh
   * node sits at the origin). Throws RangeError for a configuration Serf would refuse
   * (dimensionality 0) or crash on (latency filter size 0: Go indexes an empty slice).
   */
  constructor(
    private readonly rng: Rng,
    readonly config: CoordinateConfig = DEFAULT_COORDINATE_CONFIG,
  ) {
    if (!Number.isInteger(config.dimensionality) || config.dimensionality < 1) {
      throw new RangeError(`dimensionality must be >0, got ${config.dimensionality}`);
    }
    if (!Number.isInteger(config.adjustmentWindowSize) || config.adjustmentWindowSize < 0) {
      throw new RangeError(`adjustment window size must be a non-negative integer, got ${config.adjustmentWindowSize}`);
    }
    this.latency = new LatencyFilter(config.latencyFilterSize);
    this.coord = newCoordinate(config);
    this.origin = newCoordinate(config);
    this.adjustmentSamples = new Array<number>(config.adjustmentWindowSize).fill(0);
  }

  /** A copy of our current coordinate (what Serf puts in its acks). */
  getCoordinate(): Coordinate {
    return copyCoordinate(this.coord);
  }

  /** Forces our coordinate to a known state (e.g. restored from a snapshot); refuses invalid or incompatible ones. */
  setCoordinate(coord: Coordinate): VivaldiResult<Coordinate> {
    const error = checkCoordinate(this.coord, coord);
    if (error !== null) return { ok: false, error };
    this.coord = copyCoordinate(coord);
    return { ok: true, value: copyCoordinate(coord) };
  }

  /** Drops the RTT samples kept for `node` (Serf calls this when it reaps a member). */
  forgetNode(node: string): void {
    this.latency.forget(node);
  }

  stats(): VivaldiStats {
    return { resets: this.resets };
  }

  /** Our estimated RTT to `other`, in whole nanoseconds as Serf's DistanceTo; throws DimensionalityConflictError on mismatch. */
  distanceToNs(other: Coordinate): number {
    return distanceNs(this.coord, other);
  }

  /** Our estimated RTT to `other` in milliseconds. */
  distanceToMs(other: Coordinate): number {
    return this.distanceToNs(other) / 1e6;
  }

  /**
   * Takes an observation: `other` is the peer's coordinate from its ack, `rttMs` the measured
   * round trip. Returns our updated coordinate, or an error (and no state change) when the
   * coordinate is incompatible or invalid, or the RTT is outside [0, 10 s]. A zero RTT is allowed
   * (coarse clocks produce them; Serf only counts them).
   */
  update(node: string, other: Coordinate, rttMs: number): VivaldiResult<Coordinate> {
    const error = checkCoordinate(this.coord, other);
    if (error !== null) return { ok: false, error };

    // Serf gets the RTT as a Go time.Duration: whole nanoseconds.
    const rttNs = Math.round(rttMs * 1e6);
    if (!(rttNs >= 0 && rttNs <= MAX_RTT_MS * 1e6)) {
      return {
        ok: false,
        error: new VivaldiError('rtt-out-of-range', `round trip time not in valid range, duration ${rttMs}ms is not a positive value less than ${MAX_RTT_MS / 1000}s`),
      };
    }

    const rttSeconds = this.latency.sample(node, durationSeconds(rttNs));
    this.updateVivaldi(other, rttSeconds);
    this.updateAdjustment(other, rttSeconds);
    this.updateGravity();
    if (!isValid(this.coord)) {
      this.resets++;
      this.coord = newCoordinate(this.config);
    }
    return { ok: true, value: copyCoordinate(this.coord) };
  }

  /** The Vivaldi spring step (Dabek et al. §3, with the error-weighted timestep of Fig. 3). */
  private updateVivaldi(other: Coordinate, rttSecondsIn: number): void {
    const config = this.config;
    // Serf measures the current estimate through a time.Duration too, so it is truncated to whole nanoseconds.
    const dist = durationSeconds(distanceNs(this.coord, other));
    const rttSeconds = Math.max(rttSecondsIn, ZERO_THRESHOLD);
    const wrongness = Math.abs(dist - rttSeconds) / rttSeconds;

    let totalError = this.coord.error + other.error;
    if (totalError < ZERO_THRESHOLD) totalError = ZERO_THRESHOLD;
    const weight = this.coord.error / totalError;

    let newError = config.vivaldiCE * weight * wrongness + this.coord.error * (1.0 - config.vivaldiCE * weight);
    if (newError > config.vivaldiErrorMax) newError = config.vivaldiErrorMax;

    const delta = config.vivaldiCC * weight;
    const force = delta * (rttSeconds - dist);
    this.coord = applyForce(config, { ...this.coord, error: newError }, force, other, this.rng);
  }

  /**
   * The adjustment term (Lee et al.): half the mean, over the last AdjustmentWindowSize samples, of
   * the observed RTT minus the raw (unadjusted) distance. Slots not yet filled count as zero.
   */
  private updateAdjustment(other: Coordinate, rttSeconds: number): void {
    const window = this.config.adjustmentWindowSize;
    if (window === 0) return;

    this.adjustmentSamples[this.adjustmentIndex] = rttSeconds - rawDistance(this.coord, other);
    this.adjustmentIndex = (this.adjustmentIndex + 1) % window;

    let sum = 0.0;
    for (const sample of this.adjustmentSamples) sum += sample;
    this.coord = { ...this.coord, adjustment: sum / (2.0 * window) };
  }

  /** A small pull towards the origin, growing with the square of the distance, so the whole system does not drift (Ledlie et al.). */
  private updateGravity(): void {
    const dist = durationSeconds(distanceNs(this.origin, this.coord));
    const ratio = dist / this.config.gravityRho;
    // Go's math.Pow(x, 2) squares the mantissa once, so it equals x * x bit for bit.
    const force = -1.0 * (ratio * ratio);
    this.coord = applyForce(this.config, this.coord, force, this.origin, this.rng);
  }
}
