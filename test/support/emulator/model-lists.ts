import { openAiErrorBody } from './openai-protocol.js';
import type { Protocol, Reply, RouteHandler } from './protocol.js';
import { pathEndsWith } from './protocol.js';
import type { RecordedRequest } from './types.js';

/**
 * Every provider's model list endpoint, answered in that provider's shape. The path alone cannot
 * tell them apart (OpenAI, Anthropic and Cohere all use …/v1/models), so the request does, as it
 * would on the real hosts: `anthropic-version` is Anthropic's, `x-goog-api-key` (or `?key=`) is
 * Google's, `page_size` is Cohere's paging parameter, `/api/tags` is Ollama's; anything else is the
 * OpenAI shape. Pages hold PAGE_SIZE models so paging is exercised.
 */

/** Ids listed by GET …/models in the OpenAI shape. */
export const EMULATOR_MODEL_IDS = ['emulator-model-a', 'emulator-model-b'] as const;

/** What each provider lists when a test has not set its own ids. */
export const DEFAULT_MODEL_LISTS = {
  openai: [...EMULATOR_MODEL_IDS],
  anthropic: ['claude-3-5-haiku-20241022', 'claude-sonnet-4-20250514', 'claude-opus-4-20250514'],
  // aqa supports generateAnswer only: a gateway must leave it out.
  gemini: ['gemini-2.0-flash', 'gemini-1.5-pro', 'text-embedding-004', 'aqa'],
  // rerank-v3.5 serves rerank only: a gateway must leave it out.
  cohere: ['command-r-plus', 'command-a-03-2025', 'embed-english-v3.0', 'rerank-v3.5'],
  ollama: ['llama3:latest', 'qwen2.5:7b'],
} as const;

export type ModelListShape = keyof typeof DEFAULT_MODEL_LISTS;

const PAGE_SIZE = 2;
const CREATED = 1_700_000_000;

export function shapeOf(req: RecordedRequest): ModelListShape {
  const url = new URL(req.path, 'http://emulator');
  if (pathEndsWith(url.pathname, '/api/tags')) return 'ollama';
  if (req.headers['anthropic-version'] !== undefined) return 'anthropic';
  if (req.headers['x-goog-api-key'] !== undefined || url.searchParams.has('key')) return 'gemini';
  if (url.searchParams.has('page_size') || url.searchParams.has('page_token')) return 'cohere';
  return 'openai';
}

/** One page of `ids` from the index in `cursor` (the providers' cursors are opaque strings). */
function page(ids: readonly string[], cursor: string | null): { items: string[]; next: string | undefined } {
  const start = cursor === null ? 0 : Number(cursor.replace(/^page-/, '')) || 0;
  const items = ids.slice(start, start + PAGE_SIZE);
  return { items, next: start + PAGE_SIZE < ids.length ? `page-${start + PAGE_SIZE}` : undefined };
}

function json(body: unknown): Reply {
  return { type: 'json', status: 200, headers: {}, body };
}

/** The reply for `req`, listing `ids` (undefined: the shape's defaults). */
export function modelListReply(req: RecordedRequest, ids: readonly string[] | undefined): Reply {
  const shape = shapeOf(req);
  const list = ids ?? DEFAULT_MODEL_LISTS[shape];
  const query = new URL(req.path, 'http://emulator').searchParams;
  switch (shape) {
    case 'openai':
      return json({
        object: 'list',
        data: list.map((id) => ({ id, object: 'model', created: CREATED, owned_by: 'emulator' })),
      });
    case 'anthropic': {
      // Anthropic pages by the last id seen; here the id's index stands for it.
      const after = query.get('after_id');
      const start = after === null ? 0 : list.indexOf(after) + 1;
      const items = list.slice(start, start + PAGE_SIZE);
      return json({
        data: items.map((id) => ({
          type: 'model',
          id,
          display_name: id,
          created_at: '2024-10-22T00:00:00Z',
        })),
        has_more: start + PAGE_SIZE < list.length,
        first_id: items[0] ?? null,
        last_id: items.at(-1) ?? null,
      });
    }
    case 'gemini': {
      const { items, next } = page(list, query.get('pageToken'));
      return json({
        models: items.map((id) => ({
          name: `models/${id}`,
          version: '001',
          displayName: id,
          supportedGenerationMethods: id.includes('embedding')
            ? ['embedContent']
            : id === 'aqa'
              ? ['generateAnswer']
              : ['generateContent', 'countTokens'],
        })),
        ...(next === undefined ? {} : { nextPageToken: next }),
      });
    }
    case 'cohere': {
      const { items, next } = page(list, query.get('page_token'));
      return json({
        models: items.map((name) => ({
          name,
          endpoints: name.startsWith('embed')
            ? ['embed']
            : name.startsWith('rerank')
              ? ['rerank']
              : ['generate', 'chat', 'summarize'],
          finetuned: false,
          context_length: 128000,
        })),
        ...(next === undefined ? {} : { next_page_token: next }),
      });
    }
    case 'ollama':
      return json({
        models: list.map((name) => ({
          name,
          model: name,
          modified_at: '2024-05-01T10:00:00.000000+00:00',
          size: 4_661_224_676,
          digest: 'sha256:0000',
        })),
      });
  }
}

/** GET …/models (every shape but Ollama's) and GET …/api/tags. */
export function isModelListRequest(method: string, pathname: string): boolean {
  return method === 'GET' && (pathEndsWith(pathname, '/models') || pathEndsWith(pathname, '/api/tags'));
}

/** The routes; the server hands each list request the ids a test set (see setModelList). */
export function modelListProtocol(ids: () => readonly string[] | undefined): Protocol {
  const handler: RouteHandler = (req) => modelListReply(req, ids());
  return {
    route: (method, pathname) => (isModelListRequest(method, pathname) ? handler : undefined),
    errorBody: openAiErrorBody,
  };
}
