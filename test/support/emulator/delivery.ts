import type { ServerResponse } from 'node:http';
import type { Reply } from './protocol.js';
import { sseComment } from './sse.js';

/** The text OpenRouter puts in its keep-alive comments. */
export const KEEP_ALIVE_TEXT = 'OPENROUTER PROCESSING';

export interface DeliveryOptions {
  chunkDelayMs?: number;
  keepAliveComments?: number;
  headers?: Record<string, string>;
  /** Stop after this many data frames and either leave the response hanging or cut the socket. */
  interrupt?: { mode: 'stall' | 'cut'; afterChunks: number };
}

/**
 * Resolves after `ms`, or at once when `signal` aborts, clearing its timer either way so a
 * closed emulator leaves no timers behind.
 */
export function sleep(ms: number | undefined, signal: AbortSignal): Promise<void> {
  if (ms === undefined || ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const finish = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      resolve();
    };
    const timer = setTimeout(finish, ms);
    signal.addEventListener('abort', finish, { once: true });
  });
}

/** Waits until the frame reaches the kernel, so a cut right after it still lets it out. */
function writeFrame(res: ServerResponse, frame: string, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const finish = (): void => {
      signal.removeEventListener('abort', finish);
      resolve();
    };
    signal.addEventListener('abort', finish, { once: true });
    res.write(frame, finish);
  });
}

/**
 * Writes a protocol's reply with the scripted timing. Returns 'interrupted' when the caller must
 * stall or cut instead of ending the response (it owns the socket, so it does the cutting).
 */
export async function deliver(
  res: ServerResponse,
  reply: Reply,
  options: DeliveryOptions,
  signal: AbortSignal,
): Promise<'done' | 'interrupted'> {
  let frames: string[];
  let keepAlive = 0;
  if (reply.type === 'json') {
    const text = JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      'content-type': 'application/json',
      // A declared length makes a truncated body detectable by the client.
      'content-length': String(Buffer.byteLength(text)),
      ...reply.headers,
      ...options.headers,
    });
    if (options.interrupt === undefined) {
      res.end(text);
      return 'done';
    }
    // A plain JSON answer has no events; its two halves stand in for them when interrupting.
    const half = Math.floor(text.length / 2);
    frames = [text.slice(0, half), text.slice(half)];
  } else {
    res.writeHead(reply.status, { ...reply.headers, ...options.headers });
    frames = reply.events;
    keepAlive = options.keepAliveComments ?? 0;
  }
  // Headers go out now, so a client sees the response start even if nothing else follows.
  res.flushHeaders();

  const limit = options.interrupt?.afterChunks ?? Number.POSITIVE_INFINITY;
  for (let i = 0; i < keepAlive; i++) await writeFrame(res, sseComment(KEEP_ALIVE_TEXT), signal);
  for (const [index, frame] of frames.entries()) {
    if (index >= limit || signal.aborted) break;
    if (index > 0) {
      await sleep(options.chunkDelayMs, signal);
      if (keepAlive > 0) await writeFrame(res, sseComment(KEEP_ALIVE_TEXT), signal);
    }
    await writeFrame(res, frame, signal);
  }
  if (signal.aborted) return 'done';
  if (options.interrupt !== undefined) return 'interrupted';
  res.end();
  return 'done';
}
