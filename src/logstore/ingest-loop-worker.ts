// The in-server ingest's worker thread: runs an IngestLoop and answers the gateway's messages
// ('run' for a pass now, 'stop' for the last pass and exit). SQLite work here never holds the
// gateway's event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { IngestLoop, type LoopOptions, type PassSummary } from './ingest-loop.js';

export type LoopRequest = { type: 'run'; seq: number } | { type: 'stop' };
export type LoopReport =
  | { type: 'ran'; seq: number; summary: PassSummary | undefined }
  | { type: 'pass'; summary: PassSummary }
  | { type: 'error'; message: string }
  | { type: 'stopped' };

const post = (message: LoopReport) => parentPort?.postMessage(message);
const loop = new IngestLoop(workerData as LoopOptions, {
  onRun: (summary) => post({ type: 'pass', summary }),
  onError: (error) =>
    post({ type: 'error', message: error instanceof Error ? error.message : String(error) }),
});
loop.start(false);

parentPort?.on('message', (message: LoopRequest) => {
  if (message.type === 'run') {
    void loop.runOnce().then((summary) => post({ type: 'ran', seq: message.seq, summary }));
  } else {
    void loop.stop().then(() => {
      post({ type: 'stopped' });
      parentPort?.close();
    });
  }
});
