// One GET of MODEL_LIST_URL, bounded in time and size, with `Authorization: OAuth <token>` when a
// token is set. Every failure is an Error whose message is safe to log (no token, no query string).
import { request } from 'undici';
import { failureReason, readJsonAnswer } from '../gateway/json-get.js';

export interface FetchOptions {
  url: string;
  authToken: string | undefined;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** A catalog is a list of a few hundred entries; anything near this is not one. */
const MAX_BYTES = 16 * 1024 * 1024;

/** Scheme, host and path of the catalog URL: what messages and /health may show of it. */
export function describeUrl(url: string): string {
  const parsed = new URL(url);
  return parsed.origin + parsed.pathname;
}

export async function fetchCatalog(options: FetchOptions): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.authToken !== undefined) headers.authorization = `OAuth ${options.authToken}`;
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]);
  let response: Awaited<ReturnType<typeof request>>;
  try {
    response = await request(options.url, {
      method: 'GET',
      headers,
      signal,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  } catch (error) {
    throw new Error(failureReason(error, timeout));
  }
  return readJsonAnswer(response, timeout, MAX_BYTES);
}
