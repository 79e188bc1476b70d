// Vivaldi network coordinates exactly as Serf 0.9.4 computes them (hashicorp/serf coordinate/
// coordinate.go, config.go; reference §8.9). A coordinate is a point in an 8-dimensional Euclidean
// space plus a non-Euclidean height (the access link) and an adjustment (a per-node offset learnt
// from recent samples). All distances are in seconds, as in Serf, because coordinates travel on the
// wire in Serf's units. Every function returns a new coordinate; none mutates its arguments.
import type { Rng } from '../protocol/rng.js';

export interface Coordinate {
  /** The Euclidean part, in seconds. */
  readonly vec: readonly number[];
  /** Confidence in the coordinate (dimensionless): VivaldiErrorMax for a fresh node, lower is better. */
  readonly error: number;
  /** Distance offset in seconds learnt over the adjustment window ("Network Coordinates in the Wild" / Lee et al.). */
  readonly adjustment: number;
  /** Non-Euclidean offset in seconds modelling the node's access link; never below HeightMin. */
  readonly height: number;
}

/** Serf's coordinate.Config. The references are Dabek et al. (Vivaldi), Ledlie et al. and Lee et al. */
export interface CoordinateConfig {
  /** Dimensions of the Euclidean part; Serf uses 8 (Ledlie et al.). */
  readonly dimensionality: number;
  /** Error of a fresh node, and the cap on the error. */
  readonly vivaldiErrorMax: number;
  /** How far one observation can move a node's error (Vivaldi's ce). */
  readonly vivaldiCE: number;
  /** How far one observation can move a node's coordinate (Vivaldi's cc). */
  readonly vivaldiCC: number;
  /** Samples kept for the adjustment term; 0 disables it. */
  readonly adjustmentWindowSize: number;
  /** Floor for the height (seconds); it must stay positive. */
  readonly heightMin: number;
  /** RTT samples kept per node; the client uses their median. */
  readonly latencyFilterSize: number;
  /** How strongly gravity pulls coordinates back towards the origin to stop drift. */
  readonly gravityRho: number;
}

/** Serf's DefaultConfig(), which the agent uses unchanged. */
export const DEFAULT_COORDINATE_CONFIG: CoordinateConfig = Object.freeze({
  dimensionality: 8,
  vivaldiErrorMax: 1.5,
  vivaldiCE: 0.25,
  vivaldiCC: 0.25,
  adjustmentWindowSize: 20,
  heightMin: 10.0e-6,
  latencyFilterSize: 3,
  gravityRho: 150.0,
});

/** Below this, two points count as the same place (Serf's zeroThreshold). */
export const ZERO_THRESHOLD = 1.0e-6;

/** Serf panics with this when two coordinates of different dimensionality meet. */
export class DimensionalityConflictError extends Error {
  override readonly name = 'DimensionalityConflictError';
  constructor(a: number, b: number) {
    super(`coordinate dimensionality does not match (${a} vs ${b})`);
  }
}

/** A fresh coordinate: at the origin, with the largest error and the smallest height. */
export function newCoordinate(config: CoordinateConfig = DEFAULT_COORDINATE_CONFIG): Coordinate {
  return { vec: new Array<number>(config.dimensionality).fill(0), error: config.vivaldiErrorMax, adjustment: 0, height: config.heightMin };
}

/** False if any component is NaN or infinite (Serf's IsValid). */
export function isValid(c: Coordinate): boolean {
  for (const v of c.vec) if (!Number.isFinite(v)) return false;
  return Number.isFinite(c.error) && Number.isFinite(c.adjustment) && Number.isFinite(c.height);
}

/** Only the number of dimensions matters (Serf's IsCompatibleWith). */
export function isCompatibleWith(a: Coordinate, b: Coordinate): boolean {
  return a.vec.length === b.vec.length;
}

function requireCompatible(a: Coordinate, b: Coordinate): void {
  if (!isCompatibleWith(a, b)) throw new DimensionalityConflictError(a.vec.length, b.vec.length);
}

// The vector helpers below are plain loops: Vivaldi runs on every probe, and these are its hot path.

/** vec1 + vec2 (same length assumed, as in Serf). */
export function add(vec1: readonly number[], vec2: readonly number[]): number[] {
  const out = new Array<number>(vec1.length);
  for (let i = 0; i < vec1.length; i++) out[i] = (vec1[i] as number) + (vec2[i] as number);
  return out;
}

/** vec1 − vec2 (Serf's diff). */
export function sub(vec1: readonly number[], vec2: readonly number[]): number[] {
  const out = new Array<number>(vec1.length);
  for (let i = 0; i < vec1.length; i++) out[i] = (vec1[i] as number) - (vec2[i] as number);
  return out;
}

/** vec × factor (Serf's mul). */
export function scale(vec: readonly number[], factor: number): number[] {
  const out = new Array<number>(vec.length);
  for (let i = 0; i < vec.length; i++) out[i] = (vec[i] as number) * factor;
  return out;
}

/** Euclidean length; summed in index order, as Go does, so results match bit for bit. */
export function magnitude(vec: readonly number[]): number {
  let sum = 0;
  for (const v of vec) sum += v * v;
  return Math.sqrt(sum);
}

/** magnitude(sub(vec1, vec2)) without the intermediate array (the same operations, so the same bits). */
function distanceBetween(vec1: readonly number[], vec2: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < vec1.length; i++) {
    const d = (vec1[i] as number) - (vec2[i] as number);
    sum += d * d;
  }
  return Math.sqrt(sum);
}

/**
 * The unit vector pointing at vec1 from vec2, and the distance between them. When the points
 * coincide (as every fresh node does, at the origin) there is no direction, so Serf picks a random
 * one (components uniform in [−0.5, 0.5), then normalised) and reports distance 0; should even that
 * come out as zero it falls back to the first axis.
 */
export function unitVectorAt(vec1: readonly number[], vec2: readonly number[], rng: Rng): { unit: number[]; magnitude: number } {
  const mag = distanceBetween(vec1, vec2);
  if (mag > ZERO_THRESHOLD) return { unit: scale(sub(vec1, vec2), 1.0 / mag), magnitude: mag };

  const random = vec1.map(() => rng.next() - 0.5);
  const randomMag = magnitude(random);
  if (randomMag > ZERO_THRESHOLD) return { unit: scale(random, 1.0 / randomMag), magnitude: 0 };

  const axis = new Array<number>(vec1.length).fill(0);
  axis[0] = 1.0;
  return { unit: axis, magnitude: 0 };
}

/**
 * Moves `c` by `force` seconds away from `other` (towards it when negative), and grows the height in
 * proportion (Serf's ApplyForce). Throws DimensionalityConflictError for mismatched dimensions.
 */
export function applyForce(config: CoordinateConfig, c: Coordinate, force: number, other: Coordinate, rng: Rng): Coordinate {
  requireCompatible(c, other);
  const { unit, magnitude: mag } = unitVectorAt(c.vec, other.vec, rng);
  let height = c.height;
  if (mag > ZERO_THRESHOLD) {
    height = ((height + other.height) * force) / mag + height;
    height = Math.max(height, config.heightMin);
  }
  // add(c.vec, scale(unit, force)) in one pass (JS never fuses the multiply-add, so the bits are the same).
  const vec = new Array<number>(unit.length);
  for (let i = 0; i < unit.length; i++) vec[i] = (c.vec[i] as number) + (unit[i] as number) * force;
  return { vec, error: c.error, adjustment: c.adjustment, height };
}

/** Distance in seconds without the adjustment terms (Serf's rawDistanceTo); dimensions assumed compatible. */
export function rawDistance(a: Coordinate, b: Coordinate): number {
  return distanceBetween(a.vec, b.vec) + a.height + b.height;
}

/**
 * The estimated RTT between two coordinates in whole nanoseconds (Serf's DistanceTo, a Go
 * time.Duration): the raw distance plus both adjustments, unless that sum is not positive, in
 * which case the adjustments are ignored. Throws DimensionalityConflictError for mismatched dimensions.
 */
export function distanceNs(a: Coordinate, b: Coordinate): number {
  requireCompatible(a, b);
  let dist = rawDistance(a, b);
  const adjusted = dist + a.adjustment + b.adjustment;
  if (adjusted > 0.0) dist = adjusted;
  return secondsToDurationNs(dist);
}

/** The estimated RTT in milliseconds (distanceNs / 1e6), for display and for the rest of shoal. */
export function distanceMs(a: Coordinate, b: Coordinate): number {
  return distanceNs(a, b) / 1e6;
}

const TWO_POW_63 = 2 ** 63;

/**
 * Go's time.Duration(seconds * 1e9): truncation towards zero to an int64. A float outside the int64
 * range (or NaN) has no defined conversion in Go; on amd64, where serf agents run, it yields
 * math.MinInt64, and so does this. Only an already-diverged coordinate can get there.
 */
export function secondsToDurationNs(seconds: number): number {
  const ns = seconds * 1.0e9;
  if (!(ns >= -TWO_POW_63 && ns < TWO_POW_63)) return -TWO_POW_63;
  return Math.trunc(ns) + 0; // + 0 turns −0 into 0, as an int64 has no negative zero
}

/**
 * Go's Duration.Seconds(): whole seconds plus the remaining nanoseconds / 1e9, computed in that
 * order (not ns / 1e9), so the rounding matches Go's for every duration.
 */
export function durationSeconds(ns: number): number {
  const nsec = ns % 1e9;
  // ns − nsec is an exact multiple of 1e9 in Go's int64; Math.round undoes the float rounding of
  // the subtraction and division for durations beyond 2^53 ns.
  const sec = Math.round((ns - nsec) / 1e9);
  return sec + nsec / 1e9;
}
