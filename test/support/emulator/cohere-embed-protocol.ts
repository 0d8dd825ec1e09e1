import { vectorFor } from './openai-protocol.js';
import {
  type AnswerContext,
  isRecord,
  type Protocol,
  pathEndsWith,
  type Reply,
  type RouteHandler,
} from './protocol.js';
import type { RecordedRequest } from './types.js';

/**
 * Cohere's v2 embed endpoint (POST /v2/embed), shapes as in shared/reference/wire-formats.md §7.2.
 * Strict like the real service: a missing input_type, more than 96 texts or an unknown field get
 * Cohere's 400 `{"message"}`. Kept apart from the chat protocol so each can grow alone.
 */

export function cohereErrorBody(status: number, message: string): unknown {
  return { id: `emu-error-${status}`, message };
}

const FIELDS = new Set([
  'model',
  'texts',
  'images',
  'inputs',
  'input_type',
  'embedding_types',
  'output_dimension',
  'truncate',
  'max_tokens',
  'priority',
]);
const INPUT_TYPES = new Set(['search_document', 'search_query', 'classification', 'clustering', 'image']);
const DEFAULT_DIMENSIONS = 8;

function problemWith(body: unknown): string | undefined {
  if (!isRecord(body)) return 'invalid request: body must be a JSON object';
  for (const key of Object.keys(body)) if (!FIELDS.has(key)) return `invalid request: unknown field "${key}"`;
  if (typeof body.model !== 'string') return 'invalid request: model is required';
  if (typeof body.input_type !== 'string' || !INPUT_TYPES.has(body.input_type))
    return 'invalid request: input_type must be one of search_document, search_query, classification, clustering, image';
  const { texts } = body;
  if (!Array.isArray(texts) || texts.length === 0 || !texts.every((t) => typeof t === 'string'))
    return 'invalid request: texts must be a non-empty list of strings';
  if (texts.length > 96) return 'invalid request: texts can have at most 96 elements';
  const types = body.embedding_types;
  if (types !== undefined && (!Array.isArray(types) || !types.every((t) => t === 'float')))
    return 'emulator: only embedding_types ["float"] is emulated';
  return undefined;
}

const embed: RouteHandler = (req: RecordedRequest, ctx: AnswerContext): Reply => {
  const problem = problemWith(req.body);
  if (problem !== undefined)
    return { type: 'json', status: 400, headers: {}, body: cohereErrorBody(400, problem) };
  const body = req.body as Record<string, unknown>;
  const texts = body.texts as string[];
  const dims =
    typeof body.output_dimension === 'number' && body.output_dimension > 0
      ? body.output_dimension
      : DEFAULT_DIMENSIONS;
  const tokens =
    ctx.behaviour.usage?.prompt_tokens ??
    texts.reduce((sum, text) => sum + Math.max(1, text.split(/\s+/).length), 0);
  return {
    type: 'json',
    status: 200,
    headers: {},
    body: {
      id: `emu-embed-${ctx.next('cohere-embed')}`,
      embeddings: { float: texts.map((text) => vectorFor(text, dims)) },
      texts,
      meta: { api_version: { version: '2' }, billed_units: { input_tokens: tokens } },
      response_type: 'embeddings_by_type',
    },
  };
};

export const cohereEmbedProtocol: Protocol = {
  route(method, pathname) {
    return method === 'POST' && pathEndsWith(pathname, '/v2/embed') ? embed : undefined;
  },
  errorBody: cohereErrorBody,
};
