// The answer to a GET for a JSON document (the model catalog, a provider's model list), read
// bounded in size, with failures whose messages are safe to log: a status, a timeout, a socket
// error's code; never a URL's query, a key or the answer's text (a provider may echo the key it
// refused).
import type { Dispatcher } from 'undici';

/** An HTTP status other than 2xx, kept apart so a caller can act on it (another key after 401/403). */
export class HttpStatusError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

/**
 * The body of a 2xx answer parsed as JSON. Throws HttpStatusError for another status, else an Error
 * with a safe message; the body is destroyed on every failure.
 */
export async function readJsonAnswer(
  response: Dispatcher.ResponseData<unknown>,
  timeout: AbortSignal,
  maxBytes: number,
): Promise<unknown> {
  try {
    if (response.statusCode < 200 || response.statusCode >= 300)
      throw new HttpStatusError(response.statusCode);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) throw new Error(`answer larger than ${maxBytes} bytes`);
      chunks.push(chunk as Buffer);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    } catch {
      throw new Error('answer is not JSON');
    }
  } catch (error) {
    if (!response.body.destroyed) {
      // Destroying undici's body emits an abort error of its own; nobody else listens for it.
      response.body.on('error', () => {});
      response.body.destroy();
    }
    if (error instanceof HttpStatusError) throw error;
    throw new Error(failureReason(error, timeout));
  }
}

/** What went wrong with a request, safe to log. */
export function failureReason(error: unknown, timeout: AbortSignal): string {
  if (timeout.aborted) return 'timed out';
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  // undici's messages name the socket, never the URL; its codes say more than "fetch failed".
  return typeof code === 'string' && !error.message.includes(code)
    ? `${error.message} (${code})`
    : error.message;
}
