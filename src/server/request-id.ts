// Request ids: a random per-process prefix and a counter. Unique across restarts and servers (the
// log store de-duplicates by id), and far cheaper than a UUID per request.
import { randomBytes } from 'node:crypto';

const PREFIX = `req_${randomBytes(6).toString('hex')}`;
let counter = 0;

export function nextRequestId(): string {
  counter += 1;
  return PREFIX + counter.toString(36).padStart(6, '0');
}
