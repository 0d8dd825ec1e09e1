// The log writer thread's entry: packed batches in, lines appended, per-record usage and cost
// back to the main thread (which settles key reservations with them). Assembling streams and
// serializing records was the largest share of the gateway's per-request CPU; here it runs on
// another core, off the event loop that serves requests.
import { parentPort, workerData } from 'node:worker_threads';
import { writeBatch } from './jsonl-writer.js';

export interface WriterSetup {
  requestsDir: string;
  bodies: boolean;
}

export interface BatchMessage {
  seq: number;
  bytes: Uint8Array;
  count: number;
}

export interface DoneMessage {
  seq: number;
  results: Float64Array<ArrayBuffer>;
  errors: string[];
}

const setup = workerData as WriterSetup;
const port = parentPort;
if (port === null) throw new Error('log-writer-thread runs as a worker thread');

port.on('message', (message: BatchMessage) => {
  let done: DoneMessage;
  try {
    const outcome = writeBatch(setup.requestsDir, message.bytes, message.count, setup.bodies);
    done = {
      seq: message.seq,
      results: outcome.results,
      errors: outcome.errors.map((error) => error.stack ?? error.message),
    };
  } catch (error) {
    done = {
      seq: message.seq,
      results: new Float64Array(0),
      errors: [(error as Error).stack ?? String(error)],
    };
  }
  port.postMessage(done, [done.results.buffer]);
});
