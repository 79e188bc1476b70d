// A sweep worker: runs the (file, seed) it is sent and answers with the result minus its timeline.
import { parentPort } from 'node:worker_threads';
import { runScenario } from './execute.js';
import { loadScenarioFile } from './load.js';
import type { SweepMessage, SweepTask } from './sweep.js';

const port = parentPort;
if (port === null) throw new Error('sweep-worker.js runs as a worker thread');
port.on('message', ({ index, task }: { index: number; task: SweepTask }) => {
  let reply: SweepMessage;
  try {
    const { timeline: _timeline, ...rest } = runScenario(loadScenarioFile(task.file), { seed: task.seed });
    void _timeline;
    reply = { index, result: rest };
  } catch (err) {
    reply = { index, error: err instanceof Error ? err.stack ?? err.message : String(err) };
  }
  port.postMessage(reply);
});
