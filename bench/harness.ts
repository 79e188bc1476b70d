// A tiny timing harness for the codec benchmarks: warm up, then call the function in short batches
// for a fixed wall time and report ops/s and ns/op. Single-threaded by design: the figures are per core.
//
// On a shared machine another process can take the core in the middle of a batch, and that batch
// then reports the other process's time as ours. So each batch also reads this process's CPU time,
// and the headline figure is the median of the batches that kept the CPU throughout (CPU time at
// least UNDISTURBED_SHARE of wall time); the mean over all batches is reported beside it.
//
// Each timed function returns a number (messages decoded, bytes written, …); the harness adds them
// up, so the optimiser cannot drop the work, and the sum lets the caller check every call did it.

export interface Measurement {
  /** Calls timed, over `seconds` of measured wall time. */
  readonly ops: number;
  readonly seconds: number;
  /** From the median undisturbed batch (the median of all batches if none was undisturbed). */
  readonly opsPerSec: number;
  readonly nsPerOp: number;
  /** Over all batches, disturbed or not. */
  readonly meanOpsPerSec: number;
  /** This process's CPU time over wall time while measuring: about 1 on an idle machine. */
  readonly cpuShare: number;
  /** How many batches the median was taken over, and how many there were. */
  readonly undisturbedBatches: number;
  readonly batches: number;
  /** Sum of the function's return values over the timed calls. */
  readonly checksum: number;
}

/** Batches this short rarely straddle a scheduler time slice, yet dwarf the timers' own cost. */
const BATCH_NS = 2_000_000n;
const MAX_BATCH = 1 << 24;
const UNDISTURBED_SHARE = 0.95;

interface Batch {
  readonly wallNs: number;
  readonly cpuNs: number;
  readonly sum: number;
}

function runBatch(fn: () => number, n: number): Batch {
  let sum = 0;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sum += fn();
  const wallNs = Number(process.hrtime.bigint() - start);
  const used = process.cpuUsage(cpu);
  return { wallNs, cpuNs: (used.user + used.system) * 1000, sum };
}

/** Doubles the batch size from `n` until one batch takes about BATCH_NS. */
function calibrate(fn: () => number, n = 1): number {
  for (;;) {
    const { wallNs } = runBatch(fn, n);
    if (wallNs >= Number(BATCH_NS) || n >= MAX_BATCH) return n;
    n *= 2;
  }
}

/**
 * Times `fn`: calibrates a batch size, warms up for `warmupSeconds` (so the JIT has compiled the
 * hot paths), calibrates again, then runs whole batches until `seconds` of wall time have been measured.
 * The second calibration matters: the first runs cold code, whose few calls can take the whole
 * 2 ms, and batches of a few dozen calls would leave the timers' own cost in the figures.
 */
export function measure(fn: () => number, seconds: number, warmupSeconds = Math.max(0.05, seconds / 20)): Measurement {
  const cold = calibrate(fn);
  const warmupNs = warmupSeconds * 1e9;
  for (let spent = 0; spent < warmupNs;) spent += runBatch(fn, cold).wallNs;
  const batch = calibrate(fn, cold);

  const targetNs = seconds * 1e9;
  const batches: Batch[] = [];
  let wallNs = 0;
  let cpuNs = 0;
  let checksum = 0;
  do {
    const run = runBatch(fn, batch);
    batches.push(run);
    wallNs += run.wallNs;
    cpuNs += run.cpuNs;
    checksum += run.sum;
  } while (wallNs < targetNs);
  const undisturbed = batches.filter((b) => b.cpuNs >= UNDISTURBED_SHARE * b.wallNs);
  const nsPerOp = median((undisturbed.length > 0 ? undisturbed : batches).map((b) => b.wallNs)) / batch;
  const ops = batch * batches.length;
  return {
    ops,
    seconds: wallNs / 1e9,
    opsPerSec: 1e9 / nsPerOp,
    nsPerOp,
    meanOpsPerSec: (ops * 1e9) / wallNs,
    cpuShare: cpuNs / wallNs,
    undisturbedBatches: undisturbed.length,
    batches: batches.length,
    checksum,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
