// Serializes a batch of pending records and appends them to the day files (UTC), one append per
// day. A record that cannot be serialized is reported and skipped, never the batch.
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Accounting, type PendingRecord, serializeRecord } from './request-record.js';

const SLICE = 32;

function yieldToRequests(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Folders already created by this process: one mkdir each, not one per batch. */
const madeDirs = new Set<string>();

export async function writeBatch(
  requestsDir: string,
  batch: PendingRecord[],
  bodies: boolean,
  onError?: (error: unknown) => void,
  account?: Accounting,
): Promise<void> {
  const byDay = new Map<string, string[]>();
  for (let i = 0; i < batch.length; i++) {
    // A busy second queues thousands of records; serializing them in one go held the event loop
    // for milliseconds (visible in p99 latency), so requests get a turn every few dozen records.
    if (i > 0 && i % SLICE === 0) await yieldToRequests();
    const pending = batch[i]!;
    let line: string;
    try {
      line = serializeRecord(pending, bodies, account);
    } catch (error) {
      onError?.(error);
      continue;
    }
    const day = pending.base.time.slice(0, 10);
    let lines = byDay.get(day);
    if (lines === undefined) {
      lines = [];
      byDay.set(day, lines);
    }
    lines.push(line);
  }
  if (!madeDirs.has(requestsDir)) {
    await mkdir(requestsDir, { recursive: true });
    madeDirs.add(requestsDir);
  }
  for (const [day, lines] of byDay) {
    const path = join(requestsDir, `${day}.jsonl`);
    const text = lines.join('');
    try {
      await appendFile(path, text);
    } catch (error) {
      // The folder was removed while running (a clean-up job, say): make it again, once.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await mkdir(requestsDir, { recursive: true });
      await appendFile(path, text);
    }
  }
}
