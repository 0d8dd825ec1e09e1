// One request-log line to a record, cheaply (see splitLine).
import type { RequestRecord } from '../logs/request-record.js';

export function parseJsonText(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const REQUEST_KEY = ',"request":';
const RESPONSE_KEY = ',"response":';

/**
 * Most of a line is the two bodies, which the store keeps as JSON text: parsing them only to
 * serialize them again was a third of ingest's CPU. The writer (src/logs/request-record.ts) puts
 * them last, as `…,"error":…,"request":<json>,"response":<json>}`, so the small head before them is
 * parsed alone and the bodies are sliced out as they are. The head must parse as a record ending
 * in `error` (a `,"request":` nested earlier fails that and the line is parsed whole); the
 * response is found from the end, which only an answer with its own nested "response" key fools.
 */
export function splitLine(
  line: string,
): { head: RequestRecord; request: string; response: string } | undefined {
  if (line.charCodeAt(line.length - 1) !== 125) return undefined;
  const r = line.indexOf(REQUEST_KEY);
  const q = line.lastIndexOf(RESPONSE_KEY);
  if (r < 0 || q < r) return undefined;
  let head: unknown;
  try {
    head = JSON.parse(`${line.slice(0, r)}}`);
  } catch {
    return undefined;
  }
  if (!isRecord(head) || !('error' in head) || 'request' in head) return undefined;
  return {
    head,
    request: line.slice(r + REQUEST_KEY.length, q),
    response: line.slice(q + RESPONSE_KEY.length, -1),
  };
}

export function isRecord(value: unknown): value is RequestRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return typeof r.id === 'string' && typeof r.time === 'string' && typeof r.status === 'number';
}
