// One ingest thread (LOGDB_IMPORT_PARALLELISM > 1): ingests the files it is given with the same
// code as the main thread and reports progress in bytes, then its result.
import { parentPort, workerData } from 'node:worker_threads';
import { ingestFiles, type WorkerJob, type WorkerMessage } from './ingest.js';

const job = workerData as WorkerJob;
const post = (message: WorkerMessage) => parentPort?.postMessage(message);

ingestFiles(
  job.files,
  {
    ...job.options,
    progress: { add: (bytes) => post({ type: 'progress', bytes }), setTotal() {}, done() {} },
  },
  1,
  job.locks,
).then(
  (result) => post({ type: 'done', result }),
  (error: unknown) =>
    post({ type: 'error', message: error instanceof Error ? error.message : String(error) }),
);
