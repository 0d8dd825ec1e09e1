// Each provider's own model list endpoint: where its pages are and how to read one. The answers are
// upstream JSON, so every field is checked; a page of the wrong shape is an error, a bad entry is
// skipped. Ids are the names a chat call sends upstream (Gemini's without `models/`).
import type { ProviderConfig } from '../config/types.js';
import { BUILTIN_PROVIDERS } from '../providers/registry.js';

export interface FetchedModel {
  /** The upstream model name. */
  id: string;
  /** Epoch seconds, when the provider says. */
  created?: number;
}

export interface ListPage {
  models: FetchedModel[];
  /** The next page's cursor; undefined on the last page. */
  next: string | undefined;
}

export interface ModelListProtocol {
  /** The request path of the page after `cursor` (undefined: the first page). */
  path(basePath: string, cursor: string | undefined): string;
  parse(body: unknown): ListPage;
}

/** Longer ids, or ones with control characters, are not model names a client could send. */
const MAX_ID_LENGTH = 256;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Control characters (CR, LF, NUL…) are what is refused. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

function plausibleId(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && value.length <= MAX_ID_LENGTH && !CONTROL.test(value);
}

/** An array field of the answer, or an error naming it: a page without it is not a list. */
function arrayField(body: unknown, field: string): unknown[] {
  const value = isRecord(body) ? body[field] : undefined;
  if (!Array.isArray(value)) throw new Error(`answer has no "${field}" array`);
  return value;
}

function cursorOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function secondsOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return Math.floor(value);
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

function withQuery(path: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.set(name, value);
  const text = query.toString();
  return text === '' ? path : `${path}?${text}`;
}

function model(id: unknown, created: unknown): FetchedModel[] {
  if (!plausibleId(id)) return [];
  const seconds = secondsOf(created);
  return [seconds === undefined ? { id } : { id, created: seconds }];
}

/** OpenAI and its kin (Groq, OpenRouter, vLLM…): `GET {base}/models`, one page of `data`. */
const openAiList: ModelListProtocol = {
  path: (basePath) => `${basePath}/models`,
  parse: (body) => ({
    models: arrayField(body, 'data').flatMap((entry) =>
      isRecord(entry) ? model(entry.id, entry.created) : [],
    ),
    next: undefined,
  }),
};

/** Anthropic: `GET /v1/models`, pages of up to 1000 chained by `after_id` while `has_more`. */
const anthropicList: ModelListProtocol = {
  path: (basePath, cursor) => withQuery(`${basePath}/models`, { limit: '1000', after_id: cursor }),
  parse: (body) => {
    const models = arrayField(body, 'data').flatMap((entry) =>
      isRecord(entry) ? model(entry.id, entry.created_at) : [],
    );
    const more = isRecord(body) && body.has_more === true;
    return { models, next: more && isRecord(body) ? cursorOf(body.last_id) : undefined };
  },
};

/** Methods a Gemini model needs for a route here: chat or embeddings. */
const GEMINI_METHODS = new Set(['generateContent', 'embedContent']);

/** Gemini: `GET /v1beta/models`, pages by `nextPageToken`; names come as `models/<id>`. */
const geminiList: ModelListProtocol = {
  path: (basePath, cursor) => withQuery(`${basePath}/models`, { pageSize: '1000', pageToken: cursor }),
  parse: (body) => ({
    models: arrayField(body, 'models').flatMap((entry) => {
      if (!isRecord(entry) || typeof entry.name !== 'string') return [];
      const methods = entry.supportedGenerationMethods;
      if (!Array.isArray(methods) || !methods.some((m) => typeof m === 'string' && GEMINI_METHODS.has(m)))
        return [];
      return model(entry.name.replace(/^models\//, ''), undefined);
    }),
    next: isRecord(body) ? cursorOf(body.nextPageToken) : undefined,
  }),
};

/** Cohere endpoints the gateway serves; rerank-only and classify-only models are left out. */
const COHERE_ENDPOINTS = new Set(['chat', 'embed']);

/** Cohere: `GET /v1/models` beside the `/v2` API, pages by `next_page_token`. */
const cohereList: ModelListProtocol = {
  path: (basePath, cursor) => withQuery(`${basePath}/v1/models`, { page_size: '1000', page_token: cursor }),
  parse: (body) => ({
    models: arrayField(body, 'models').flatMap((entry) => {
      if (!isRecord(entry)) return [];
      const endpoints = entry.endpoints;
      if (
        Array.isArray(endpoints) &&
        !endpoints.some((e) => typeof e === 'string' && COHERE_ENDPOINTS.has(e))
      )
        return [];
      return model(entry.name, undefined);
    }),
    next: isRecord(body) ? cursorOf(body.next_page_token) : undefined,
  }),
};

/** Ollama's own `GET /api/tags` at the server root (its OpenAI API lives under `/v1`). */
function ollamaTags(apiPath: string | undefined): ModelListProtocol {
  return {
    path: (basePath) => {
      const root =
        apiPath !== undefined && basePath.endsWith(apiPath) ? basePath.slice(0, -apiPath.length) : basePath;
      return `${root}/api/tags`;
    },
    parse: (body) => ({
      models: arrayField(body, 'models').flatMap((entry) =>
        isRecord(entry) ? model(entry.name, entry.modified_at) : [],
      ),
      next: undefined,
    }),
  };
}

/** How this provider's models are listed, or undefined when it has no list endpoint. */
export function modelListProtocolOf(provider: ProviderConfig): ModelListProtocol | undefined {
  // A catalog model names one exact endpoint; its list is the catalog's.
  if (provider.fixedPath !== undefined) return undefined;
  const descriptor = provider.builtin ? BUILTIN_PROVIDERS.find((d) => d.name === provider.name) : undefined;
  if (descriptor?.modelList === 'none') return undefined;
  if (descriptor?.modelList === 'ollama-tags') return ollamaTags(descriptor.apiPath);
  switch (provider.protocol) {
    case 'openai':
      return openAiList;
    case 'anthropic':
      return anthropicList;
    case 'gemini':
      return geminiList;
    case 'cohere':
      return cohereList;
    default:
      return undefined;
  }
}
