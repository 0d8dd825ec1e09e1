// Turns a packed batch into JSON lines and appends them to the day files (UTC): each run of
// records of one day goes out in one append. A record that cannot be serialized is reported and
// skipped, never the batch. Synchronous: it runs in the log writer thread (or, as a fallback, in
// a flush on the main thread).
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ByteBuffer } from './byte-buffer.js';
import { unpackRecords } from './record-batch.js';
import { writeRecordLine } from './request-record.js';

/**
 * Per record: prompt, completion and total tokens (NaN: no usage), cost (NaN: none), then the
 * cache-read, cache-write and reasoning tokens (0 when the answer does not say).
 */
export const RESULT_FIELDS = 7;

export interface BatchOutcome {
  results: Float64Array<ArrayBuffer>;
  /** Records that could not be serialized, and a write that failed. */
  errors: Error[];
}

/** Folders already created by this thread: one mkdir each, not one per batch. */
const madeDirs = new Set<string>();
/** The lines of the day being written; reused from batch to batch. */
const lines = new ByteBuffer(1024 * 1024);

function append(requestsDir: string, day: string, bytes: Buffer): void {
  if (!madeDirs.has(requestsDir)) {
    mkdirSync(requestsDir, { recursive: true });
    madeDirs.add(requestsDir);
  }
  const path = join(requestsDir, `${day}.jsonl`);
  try {
    appendFileSync(path, bytes);
  } catch (error) {
    // The folder was removed while running (a clean-up job, say): make it again, once.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    mkdirSync(requestsDir, { recursive: true });
    appendFileSync(path, bytes);
  }
}

export function writeBatch(
  requestsDir: string,
  bytes: Uint8Array,
  count: number,
  bodies: boolean,
): BatchOutcome {
  const results = new Float64Array(count * RESULT_FIELDS).fill(Number.NaN);
  const errors: Error[] = [];
  let day: string | undefined;
  const writeDay = () => {
    if (day === undefined || lines.length === 0) return;
    try {
      append(requestsDir, day, lines.bytes);
    } catch (error) {
      errors.push(error as Error);
    }
    lines.reset();
  };
  lines.reset();
  let i = 0;
  for (const record of unpackRecords(bytes, count)) {
    if (record.day !== day) {
      writeDay();
      day = record.day;
    }
    const start = lines.length;
    try {
      const { tokens, cost } = writeRecordLine(lines, record, bodies);
      const at = i * RESULT_FIELDS;
      if (tokens !== undefined) {
        results[at] = tokens.promptTokens;
        results[at + 1] = tokens.completionTokens;
        results[at + 2] = tokens.totalTokens;
        results[at + 4] = tokens.cachedReadTokens ?? 0;
        results[at + 5] = tokens.cacheWriteTokens ?? 0;
        results[at + 6] = tokens.reasoningTokens ?? 0;
      }
      if (cost !== null) results[at + 3] = cost;
    } catch (error) {
      lines.truncate(start);
      errors.push(error instanceof Error ? error : new Error(String(error)));
    }
    i += 1;
  }
  writeDay();
  return { results, errors };
}
