// Did an upstream stream end as its protocol ends a whole answer? Judged from the stream's last
// bytes only, once, at its end (nothing per chunk): an OpenAI-protocol stream ends with
// `data: [DONE]` or at least a chunk with a finish reason; Anthropic's with `message_stop`,
// Cohere's with `message-end` (v2) or `stream-end` (v1), Gemini's with a `finishReason` (or a
// blocked prompt's `blockReason`); an error event the upstream sent also ends it (it is relayed as
// such). A last event without its blank line was cut off mid-write. Also here: a 2xx "stream" whose
// body is plainly not an event stream (an HTML page, a JSON document).
import type { Protocol } from '../providers/registry.js';

/** How far back the end is looked for: Gemini's last event carries usage and grounding after its finishReason. */
export const STREAM_TAIL_BYTES = 64 * 1024;

/** What the judge needs of a finished stream (UpstreamCall has it). */
export interface StreamEnd {
  readonly last: Buffer | undefined;
  tail(max: number): Buffer;
}

const DONE = Buffer.from('[DONE]');

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/** The index after the last byte that is not whitespace. */
function trimmedEnd(bytes: Buffer): number {
  let end = bytes.length;
  while (end > 0 && isSpace(bytes[end - 1]!)) end -= 1;
  return end;
}

function endsWithDone(bytes: Buffer, end: number): boolean {
  return end >= DONE.length && bytes.compare(DONE, 0, DONE.length, end - DONE.length, end) === 0;
}

/**
 * The last event is whole: the whitespace after it holds a blank line, or (Gemini ends its last
 * event with one CRLF and no blank line) its line ended right after the JSON object closed. A write
 * cut mid-event leaves neither.
 */
function terminated(bytes: Buffer, end: number): boolean {
  let breaks = 0;
  for (let i = end; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === 0x0a || (byte === 0x0d && bytes[i + 1] !== 0x0a)) breaks += 1;
  }
  const closeBrace = 0x7d;
  return breaks >= 2 || (breaks === 1 && bytes[end - 1] === closeBrace);
}

/** The start of the last event before `end`: after the last blank line, in any of SSE's line ends. */
function lastEventStart(bytes: Buffer, end: number): number {
  let start = 0;
  for (const gap of ['\n\n', '\r\n\r\n', '\r\r']) {
    const at = end - gap.length < 0 ? -1 : bytes.lastIndexOf(gap, end - gap.length);
    if (at !== -1) start = Math.max(start, at + gap.length);
  }
  return start;
}

/** Some `"<key>": "…"` before `end`: a key with a string value (not null). */
function hasStringValue(bytes: Buffer, key: string, end: number): boolean {
  let at = bytes.lastIndexOf(key, end);
  while (at !== -1) {
    let i = at + key.length;
    while (i < end && isSpace(bytes[i]!)) i += 1;
    if (bytes[i] === 0x3a /* : */) {
      i += 1;
      while (i < end && isSpace(bytes[i]!)) i += 1;
      if (bytes[i] === 0x22 /* " */) return true;
    }
    at = at === 0 ? -1 : bytes.lastIndexOf(key, at - 1);
  }
  return false;
}

function includes(bytes: Buffer, start: number, end: number, text: string): boolean {
  const at = bytes.indexOf(text, start);
  return at !== -1 && at + text.length <= end;
}

/** The upstream ended it with an error event of its own: relayed as it came, not a cut. */
function isErrorEvent(bytes: Buffer, start: number, end: number): boolean {
  return includes(bytes, start, end, '"error":') || includes(bytes, start, end, 'event: error');
}

/** Undefined when the stream ended whole; else what is wrong with its end, for the client. */
export function streamEndProblem(protocol: Protocol, stream: StreamEnd): string | undefined {
  // The common case, an OpenAI-protocol stream whose last chunk ends in [DONE], costs no copy.
  const last = stream.last;
  if (protocol === 'openai' && last !== undefined && endsWithDone(last, trimmedEnd(last))) return undefined;
  if (protocol === 'ideogram') return undefined; // never streamed
  const bytes = stream.tail(STREAM_TAIL_BYTES);
  const end = trimmedEnd(bytes);
  if (end === 0) return 'the stream ended before any event';
  if (protocol === 'openai' && endsWithDone(bytes, end)) return undefined;
  if (!terminated(bytes, end)) return 'the stream ended in the middle of an event';
  const start = lastEventStart(bytes, end);
  if (isErrorEvent(bytes, start, end)) return undefined;
  switch (protocol) {
    case 'openai':
      return hasStringValue(bytes, '"finish_reason"', end)
        ? undefined
        : 'the stream ended without [DONE] or a finish reason';
    case 'anthropic':
      return includes(bytes, start, end, 'message_stop') ? undefined : 'the stream ended before message_stop';
    case 'cohere':
      return includes(bytes, start, end, 'message-end') || includes(bytes, start, end, 'stream-end')
        ? undefined
        : 'the stream ended before message-end';
    case 'gemini':
      return hasStringValue(bytes, '"finishReason"', end) || hasStringValue(bytes, '"blockReason"', end)
        ? undefined
        : 'the stream ended without a finishReason';
  }
}

/** A 2xx answer to a stream request that is plainly something else: an HTML page, a JSON document. */
export function notAnEventStream(first: Buffer): boolean {
  const limit = Math.min(first.length, 256);
  for (let i = 0; i < limit; i++) {
    const byte = first[i]!;
    if (isSpace(byte) || byte === 0xef || byte === 0xbb || byte === 0xbf /* BOM */) continue;
    return byte === 0x3c /* < */ || byte === 0x7b /* { */ || byte === 0x5b /* [ */;
  }
  return false;
}
