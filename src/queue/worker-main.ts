/** `npm run worker`: the per-GPU-host worker. Wiring only; see worker-process.ts. */
import { describeError } from '../errors.js';
import { threadedRunner } from './thread-runner.js';
import { startWorkerProcess } from './worker-process.js';

try {
  // Each attempt runs the real runPipeline in a worker thread: parsing never blocks lock renewal.
  const worker = await startWorkerProcess(process.env, threadedRunner());
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    worker.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`worker: shutdown after ${signal} failed: ${describeError(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} catch (err) {
  process.stderr.write(`worker: ${describeError(err)}\n`);
  process.exit(1);
}
