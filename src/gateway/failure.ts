// What went wrong with one attempt, and whether another attempt may help.
import { errors as undiciErrors } from 'undici';

/** `invalid`: a 2xx answer that is broken (not JSON, a stream that ended without its end). */
export type FailureKind = 'connect' | 'timeout' | 'status' | 'stream' | 'invalid' | 'too_large' | 'aborted';

export interface AttemptFailure {
  kind: FailureKind;
  retryable: boolean;
  status?: number;
  /** Safe to show the client: no key, no header values. */
  message: string;
  retryAfterMs?: number;
  /** The upstream's own error type and code, when it answered with an error body. */
  upstreamType?: string | null;
  upstreamCode?: string | null;
  /** The upstream's error body (secrets redacted) when its translator relays it as it came. */
  upstreamBody?: string;
}

/** SPEC §4: these statuses are worth another key or provider. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504, 529]);

/** Seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  const seconds = Number(text);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** A byte limit as the config writes it: `32mb`, `64kb`, or bytes. */
export function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)}mb`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024}kb`;
  return `${bytes} bytes`;
}

export class TotalTimeoutError extends Error {
  constructor(ms: number) {
    super(`the request took longer than the total timeout of ${ms} ms`);
    this.name = 'TotalTimeoutError';
  }
}

/** Turns a thrown transport error into a failure. `clientGone` wins: nobody is waiting. */
export function failureFromError(error: unknown, clientGone: boolean): AttemptFailure {
  if (clientGone) return { kind: 'aborted', retryable: false, message: 'the client closed the connection' };
  if (error instanceof TotalTimeoutError)
    return { kind: 'timeout', retryable: false, message: error.message };
  if (error instanceof undiciErrors.HeadersTimeoutError) {
    return { kind: 'timeout', retryable: true, message: 'no response headers within the first-byte timeout' };
  }
  if (error instanceof undiciErrors.BodyTimeoutError) {
    return { kind: 'timeout', retryable: true, message: 'the response stalled longer than the idle timeout' };
  }
  if (error instanceof undiciErrors.ConnectTimeoutError) {
    return { kind: 'timeout', retryable: true, message: 'connecting took longer than the connect timeout' };
  }
  const code = (error as { code?: unknown }).code;
  const detail = typeof code === 'string' ? code : error instanceof Error ? error.message : 'unknown error';
  return { kind: 'connect', retryable: true, message: `connection failed (${detail})` };
}
