// One GET of MODEL_LIST_URL, bounded in time and size, with `Authorization: OAuth <token>` when a
// token is set. Every failure is an Error whose message is safe to log (no token, no query string).
import { request } from 'undici';

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
    throw new Error(reason(error, timeout));
  }
  try {
    if (response.statusCode < 200 || response.statusCode >= 300) {
      throw new Error(`HTTP ${response.statusCode}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length;
      if (size > MAX_BYTES) throw new Error(`answer larger than ${MAX_BYTES} bytes`);
      chunks.push(chunk as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new Error('answer is not JSON');
    }
  } catch (error) {
    if (!response.body.destroyed) {
      // Destroying undici's body emits an abort error of its own; nobody else listens for it.
      response.body.on('error', () => {});
      response.body.destroy();
    }
    throw new Error(reason(error, timeout));
  }
}

function reason(error: unknown, timeout: AbortSignal): string {
  if (timeout.aborted) return 'timed out';
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  // undici's messages name the socket, never the URL; its codes say more than "fetch failed".
  return typeof code === 'string' && !error.message.includes(code)
    ? `${error.message} (${code})`
    : error.message;
}
