// A seed sweep (`shoal sim FILE --seeds A..B`): the runs spread over worker threads, one per
// core, each worker running one (file, seed) at a time and sending back the result without its
// bulky timeline. Results come back in (file, seed) order whatever order the workers finish in.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { RunResult } from './result.js';

/** Young generation per worker (V8's default is 16–32 MB on 64-bit). */
const YOUNG_GENERATION_MB = 64;

export interface SweepTask {
  readonly file: string;
  readonly seed: number;
}

/** A sweep result: the run's result minus its timeline (the HTML report is for single runs). */
export type SweepResult = Omit<RunResult, 'timeline'> & { timeline?: undefined };

export interface SweepMessage {
  readonly index: number;
  readonly result?: SweepResult;
  readonly error?: string;
}

export async function sweep(tasks: readonly SweepTask[], options: { readonly threads?: number; readonly onResult?: (task: SweepTask, result: SweepResult) => void } = {}): Promise<SweepResult[]> {
  const threads = Math.max(1, Math.min(options.threads ?? availableParallelism(), tasks.length));
  const results: Array<SweepResult | undefined> = new Array(tasks.length);
  let next = 0;
  const workerUrl = new URL('./sweep-worker.js', import.meta.url);
  await Promise.all(Array.from({ length: threads }, () => new Promise<void>((resolve, reject) => {
    // A larger young generation: a simulation allocates many short-lived objects (packets,
    // timers), and fewer scavenges measurably cut its CPU time.
    const worker = new Worker(workerUrl, { resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } });
    const feed = (): void => {
      if (next >= tasks.length) {
        void worker.terminate().then(() => resolve());
        return;
      }
      const index = next++;
      worker.postMessage({ index, task: tasks[index] });
    };
    worker.on('message', (msg: SweepMessage) => {
      if (msg.error !== undefined || msg.result === undefined) {
        const task = tasks[msg.index] as SweepTask;
        void worker.terminate();
        reject(new Error(`${task.file} seed ${task.seed}: ${msg.error ?? 'no result'}`));
        return;
      }
      results[msg.index] = msg.result;
      options.onResult?.(tasks[msg.index] as SweepTask, msg.result);
      feed();
    });
    worker.on('error', reject);
    feed();
  })));
  return results as SweepResult[];
}
