// One provider's model list, page by page, through the shared upstream pools with a time bound per
// page and a size bound per answer. Errors say what failed (status, timeout, socket error) and never
// carry a key, a URL's query or the answer's text (a provider may echo the key it refused).
import type { Pool } from 'undici';
import type { ProviderConfig, ProviderKey } from '../config/types.js';
import { failureReason, readJsonAnswer } from '../gateway/json-get.js';
import type { FetchedModel, ModelListProtocol } from './model-list-protocols.js';

export interface ListFetchOptions {
  pool: Pool;
  basePath: string;
  provider: ProviderConfig;
  /** undefined: a provider that needs no key (Ollama). */
  key: ProviderKey | undefined;
  protocol: ModelListProtocol;
  timeoutMs: number;
  signal: AbortSignal;
}

/** A non-2xx answer to a list request: the caller tries another key after 401/403. */
export { HttpStatusError as ListStatusError } from '../gateway/json-get.js';

/** A list of thousands of models is a few MB (OpenRouter's is the largest); past this it is not one. */
const MAX_BYTES = 16 * 1024 * 1024;
/** Paging stops here whatever the provider says, so a cursor that never ends cannot loop. */
const MAX_PAGES = 50;

export async function fetchModelList(options: ListFetchOptions): Promise<FetchedModel[]> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.provider.headers };
  if (options.key !== undefined && options.key.key !== '') {
    headers[options.provider.auth.header] = options.provider.auth.prefix + options.key.key;
  }
  const models: FetchedModel[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const body = await getJson(options, options.protocol.path(options.basePath, cursor), headers);
    const parsed = options.protocol.parse(body);
    models.push(...parsed.models);
    if (parsed.next === undefined || parsed.next === cursor) break;
    cursor = parsed.next;
  }
  return models;
}

async function getJson(options: ListFetchOptions, path: string, headers: Record<string, string>) {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([timeout, options.signal]);
  let response: Awaited<ReturnType<Pool['request']>>;
  try {
    response = await options.pool.request({
      method: 'GET',
      path,
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
