// A stored response that the upstream keeps (native pass-through) is read, listed and deleted
// there, with the provider key that created it: only that key (its project) can see it. One
// bounded call through the shared upstream pools; the answer (or the upstream's error) goes back
// to the client as it came, secrets redacted.
import type { Config, ProviderConfig, ProviderKey } from '../config/types.js';
import { GatewayError } from '../errors.js';
import { failureReason } from '../gateway/json-get.js';
import type { UpstreamPools } from '../gateway/upstream-pools.js';
import { redactorFor } from '../secrets/config-secrets.js';
import type { StoredResponse } from './response-store.js';

export interface NativeAnswer {
  status: number;
  /** The upstream's body (a 2xx one whole, an error one up to ERROR_BODY_LIMIT), redacted. */
  body: Buffer;
}

export interface NativeCall {
  method: 'GET' | 'DELETE';
  /** The path under the provider's base URL, e.g. `/responses/resp_1/input_items`. */
  path: string;
  /** The query string to forward, without `?`; empty for none. */
  query: string;
}

/** Where a native record lives now: undefined once its provider or key is no longer configured. */
export function nativeHome(
  config: Config,
  record: StoredResponse,
): { provider: ProviderConfig; key: ProviderKey } | undefined {
  const provider = config.providers.get(record.provider);
  const key = provider?.keys.find((candidate) => candidate.id === record.keyId);
  return provider === undefined || key === undefined ? undefined : { provider, key };
}

async function readBounded(body: AsyncIterable<unknown>, maxBytes: number, cut: boolean): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const bytes = chunk as Buffer;
    if (size + bytes.length > maxBytes) {
      if (!cut) throw new Error(`answer larger than ${maxBytes} bytes`);
      chunks.push(bytes.subarray(0, maxBytes - size));
      break;
    }
    size += bytes.length;
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

export async function callNativeUpstream(
  config: Config,
  pools: UpstreamPools,
  home: { provider: ProviderConfig; key: ProviderKey },
  call: NativeCall,
): Promise<NativeAnswer> {
  const { provider, key } = home;
  const url = new URL(provider.baseUrl);
  const headers: Record<string, string> = { accept: 'application/json', ...provider.headers };
  if (key.key !== '') headers[provider.auth.header] = provider.auth.prefix + key.key;
  const path = url.pathname.replace(/\/+$/, '') + call.path + (call.query === '' ? '' : `?${call.query}`);
  const timeout = AbortSignal.timeout(config.timeouts.totalMs);
  let response: Awaited<ReturnType<ReturnType<UpstreamPools['get']>['request']>> | undefined;
  try {
    response = await pools.get(url.origin).request({
      method: call.method,
      path,
      headers,
      headersTimeout: config.timeouts.firstByteMs,
      bodyTimeout: config.timeouts.idleMs,
      signal: timeout,
    });
    const ok = response.statusCode >= 200 && response.statusCode < 300;
    const body = await readBounded(
      response.body,
      ok ? config.responseLimitBytes : config.errorBodyLimitBytes,
      !ok,
    );
    return { status: response.statusCode, body: redactorFor(config).bytes(body) };
  } catch (error) {
    if (response !== undefined && !response.body.destroyed) {
      response.body.on('error', () => {});
      response.body.destroy();
    }
    const reason = failureReason(error, timeout);
    const code = (error as { code?: unknown }).code;
    const timedOut = timeout.aborted || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
    throw new GatewayError(
      timedOut ? 'upstream_timeout' : 'upstream_error',
      `${provider.name}: ${call.method} of a stored response failed: ${reason}`,
      { provider: provider.name, cause: error },
    );
  }
}
