// The request-log worker thread: receives batches of pending records, serializes and appends them,
// and acknowledges each batch, so the request thread never spends time on JSON or files.
import { parentPort, workerData } from 'node:worker_threads';
import { writeBatch } from './jsonl-writer.js';
import type { PendingRecord } from './request-record.js';

interface BatchMessage {
  seq: number;
  batch: PendingRecord[];
}

const { requestsDir, bodies } = workerData as { requestsDir: string; bodies: boolean };

/** Buffers arrive as plain Uint8Arrays after the thread hop; the serializer wants Buffers. */
function revive(record: PendingRecord): PendingRecord {
  const bytes = record.responseBytes;
  if (bytes !== undefined && !Buffer.isBuffer(bytes)) {
    const view = bytes as Uint8Array;
    record.responseBytes = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  }
  return record;
}

parentPort?.on('message', (message: BatchMessage) => {
  writeBatch(requestsDir, message.batch.map(revive), bodies).then(
    () => parentPort?.postMessage({ seq: message.seq }),
    (error: unknown) => parentPort?.postMessage({ seq: message.seq, error: String(error) }),
  );
});
