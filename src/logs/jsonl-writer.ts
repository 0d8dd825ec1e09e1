// Serializes a batch of pending records and appends them to the day files (UTC), one append per
// day. Used by the log worker, and in-thread where no worker can be started.
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type PendingRecord, serializeRecord } from './request-record.js';

export async function writeBatch(requestsDir: string, batch: PendingRecord[], bodies: boolean): Promise<void> {
  const byDay = new Map<string, string[]>();
  for (const pending of batch) {
    const line = serializeRecord(pending, bodies);
    const day = pending.base.time.slice(0, 10);
    let lines = byDay.get(day);
    if (lines === undefined) {
      lines = [];
      byDay.set(day, lines);
    }
    lines.push(line);
  }
  await mkdir(requestsDir, { recursive: true });
  for (const [day, lines] of byDay) await appendFile(join(requestsDir, `${day}.jsonl`), lines.join(''));
}
