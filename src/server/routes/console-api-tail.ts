// The console's live tail: the newest records of the request log (LOG_DIR/requests/YYYY-MM-DD.jsonl),
// read backwards from the end of the newest day files, newest first. It needs no log store and sees
// an exchange as soon as the log writer has flushed it (about 50 ms), before any ingest.
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { requestPreview } from './console-api-logs.js';
import type { LogHit } from './console-api-types.js';

/** A tail row has the shape of a search hit, so the console shows both with one table. */
export type TailRecord = LogHit;

const CHUNK = 256 * 1024;
/** Past this much read from one file, older lines are not worth the wait. */
const MOST_BYTES = 16 * 1024 * 1024;

function newlines(buffer: Buffer): number {
  let n = 0;
  for (let i = buffer.indexOf(10); i !== -1; i = buffer.indexOf(10, i + 1)) n += 1;
  return n;
}

/** The last `count` whole lines of a file, newest first; a line still being written is left out. */
function lastLines(path: string, count: number): string[] {
  if (count <= 0) return [];
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const floor = Math.max(0, size - MOST_BYTES);
    let pos = size;
    let acc = Buffer.alloc(0);
    // count + 1 line breaks: the first piece may be the end of a line that began further back.
    while (pos > floor && newlines(acc) < count + 1) {
      const start = Math.max(floor, pos - CHUNK);
      const chunk = Buffer.alloc(pos - start);
      readSync(fd, chunk, 0, chunk.length, start);
      acc = Buffer.concat([chunk, acc]);
      pos = start;
    }
    const pieces = acc.toString('utf8').split('\n');
    pieces.pop(); // after the last line break: empty, or a line not yet whole
    if (pos > 0) pieces.shift(); // the start of this one is before what was read
    return pieces
      .filter((line) => line !== '')
      .slice(-count)
      .reverse();
  } finally {
    closeSync(fd);
  }
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function tokens(usage: unknown): { prompt: number | null; completion: number | null } {
  if (typeof usage !== 'object' || usage === null) return { prompt: null, completion: null };
  const u = usage as Record<string, unknown>;
  return {
    prompt: num(u.prompt_tokens ?? u.input_tokens),
    completion: num(u.completion_tokens ?? u.output_tokens),
  };
}

function summary(line: string): TailRecord | undefined {
  let record: Record<string, unknown>;
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value !== 'object' || value === null) return undefined;
    record = value as Record<string, unknown>;
  } catch {
    return undefined; // a damaged line is skipped, as the log store's ingest skips it
  }
  const id = str(record.id);
  if (id === null) return undefined;
  const usage = tokens(record.usage);
  return {
    request_id: id,
    time: str(record.time) ?? '',
    endpoint: str(record.endpoint) ?? '',
    model: str(record.model_requested),
    model_mapped: str(record.model_mapped),
    provider: str(record.provider),
    status: num(record.status) ?? 0,
    latency_ms: num(record.latency_ms),
    stream: record.stream === true,
    prompt_tokens: usage.prompt,
    completion_tokens: usage.completion,
    cost: num(record.cost),
    client: str(record.client_key_hash),
    dialog_id: str(record.dialog_id),
    snippet: record.request === undefined ? null : requestPreview(JSON.stringify(record.request)),
  };
}

/** The newest `count` exchanges of the request log, newest first. */
export function tailRequestLog(logDir: string, count: number): TailRecord[] {
  const dir = join(logDir, 'requests');
  if (!existsSync(dir)) return [];
  const days = readdirSync(dir)
    .filter((name) => /^\d{4}-\d{2}-\d{2}\.jsonl$/.test(name))
    .sort()
    .reverse();
  const out: TailRecord[] = [];
  for (const day of days.slice(0, 2)) {
    for (const line of lastLines(join(dir, day), count - out.length)) {
      const record = summary(line);
      if (record !== undefined) out.push(record);
    }
    if (out.length >= count) break;
  }
  return out;
}
