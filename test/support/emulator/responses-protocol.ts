import { openAiErrorBody } from './openai-protocol.js';
import {
  type AnswerContext,
  isRecord,
  type Protocol,
  pathEndsWith,
  type Reply,
  type RouteHandler,
} from './protocol.js';
import { planResponse, responseEvents, responseObject } from './responses-shapes.js';
import type { ResponseItem, ResponsesLedger, StoredResponse } from './responses-store.js';
import type { RecordedRequest } from './types.js';

/**
 * The OpenAI Responses API: POST /responses (a Response object or its event stream, from the same
 * behaviours chat uses), GET /responses/{id}, GET /responses/{id}/input_items and
 * DELETE /responses/{id}. Responses are stored unless `store: false`, per key, and
 * `previous_response_id` continues the stored conversation. As strict as OpenAI about what a
 * gateway gets wrong most easily: unknown top-level fields, a missing `input`, an unknown or
 * foreign previous response, a function_call_output without its call, an item sent twice.
 */

const KNOWN_FIELDS = new Set([
  'background',
  'context_management',
  'conversation',
  'include',
  'input',
  'instructions',
  'max_output_tokens',
  'max_tool_calls',
  'metadata',
  'model',
  'moderation',
  'parallel_tool_calls',
  'previous_response_id',
  'prompt',
  'prompt_cache_key',
  'prompt_cache_options',
  'prompt_cache_retention',
  'reasoning',
  'safety_identifier',
  'service_tier',
  'store',
  'stream',
  'stream_options',
  'temperature',
  'text',
  'tool_choice',
  'tools',
  'top_logprobs',
  'top_p',
  'truncation',
  'user',
]);

/** Thrown while reading a request: the reply OpenAI would give instead of an answer. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null,
    readonly code: string | null,
  ) {
    super(message);
  }
}

function refusalReply(refusal: Refusal): Reply {
  const body = {
    error: {
      message: refusal.message,
      type: 'invalid_request_error',
      param: refusal.param,
      code: refusal.code,
    },
  };
  return { type: 'json', status: refusal.status, headers: {}, body };
}

/** The caller's bearer token: responses belong to the key that created them. */
function keyOf(req: RecordedRequest): string {
  const auth = req.headers.authorization ?? '';
  return auth.toLowerCase().startsWith('bearer ') ? auth.slice(7).trim() : auth;
}

function requestId(ctx: AnswerContext): Record<string, string> {
  return { 'x-request-id': `req_emu_${ctx.next('request')}` };
}

function checkBody(body: unknown): Record<string, unknown> {
  if (!isRecord(body)) {
    throw new Refusal(400, 'We could not parse the JSON body of your request.', null, null);
  }
  for (const field of Object.keys(body)) {
    if (!KNOWN_FIELDS.has(field))
      throw new Refusal(400, `Unknown parameter: '${field}'.`, field, 'unknown_parameter');
  }
  for (const field of ['model', 'input']) {
    if (body[field] === undefined || body[field] === null)
      throw new Refusal(400, `Missing required parameter: '${field}'.`, field, 'missing_required_parameter');
  }
  if (typeof body.model !== 'string') {
    throw new Refusal(400, "Invalid type for 'model': expected a string.", 'model', 'invalid_type');
  }
  if (typeof body.input !== 'string' && !Array.isArray(body.input)) {
    throw new Refusal(
      400,
      "Invalid type for 'input': expected one of a string or array of input items.",
      'input',
      'invalid_type',
    );
  }
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools))
      throw new Refusal(400, "Invalid type for 'tools'.", 'tools', 'invalid_type');
    for (const [index, tool] of body.tools.entries()) {
      if (isRecord(tool) && tool.type === 'function' && typeof tool.name !== 'string') {
        const param = `tools[${index}].name`;
        throw new Refusal(
          400,
          `Missing required parameter: '${param}'.`,
          param,
          'missing_required_parameter',
        );
      }
    }
  }
  return body;
}

/** The id prefix OpenAI uses for each item type (message, function call and its output…). */
function idPrefix(type: unknown): string {
  if (type === 'function_call') return 'fc';
  if (type === 'function_call_output') return 'fco';
  if (type === 'reasoning') return 'rs';
  return 'msg';
}

/** One input item as OpenAI stores it: typed, with an id, string contents as content parts. */
function normalizeItem(item: unknown, index: number, ctx: AnswerContext): ResponseItem {
  if (!isRecord(item)) {
    throw new Refusal(
      400,
      `Invalid type for 'input[${index}]': expected an object.`,
      `input[${index}]`,
      null,
    );
  }
  const type = item.type ?? 'message';
  const normalized: ResponseItem = { id: undefined, type, ...item };
  if (type === 'message') {
    const role = item.role;
    if (role !== 'user' && role !== 'assistant' && role !== 'system' && role !== 'developer') {
      const param = `input[${index}].role`;
      throw new Refusal(400, `Invalid value for '${param}'.`, param, 'invalid_value');
    }
    if (typeof item.content === 'string') {
      const partType = role === 'assistant' ? 'output_text' : 'input_text';
      normalized.content = [{ type: partType, text: item.content }];
    }
  }
  if (typeof normalized.id !== 'string') {
    const prefix = idPrefix(type);
    normalized.id = `${prefix}_emu_${ctx.next(prefix)}`;
  }
  return normalized;
}

/** This request's input items, normalized, with item references resolved from the key's stored items. */
function inputItems(
  input: string | unknown[],
  earlier: ResponseItem[],
  key: string,
  ledger: ResponsesLedger,
  ctx: AnswerContext,
): ResponseItem[] {
  const given = typeof input === 'string' ? [{ role: 'user', content: input }] : input;
  const seen = new Set(earlier.map((item) => item.id));
  return given.map((item, index) => {
    if (isRecord(item) && item.type === 'item_reference') {
      const found = typeof item.id === 'string' ? ledger.item(item.id, key) : undefined;
      if (found === undefined) {
        const message = `Item with id '${String(item.id)}' not found.`;
        throw new Refusal(404, message, `input[${index}]`, null);
      }
      return found;
    }
    const normalized = normalizeItem(item, index, ctx);
    if (seen.has(normalized.id)) {
      const message = `Duplicate item found with id ${String(normalized.id)}. Remove duplicate items from your input and try again.`;
      throw new Refusal(400, message, 'input', null);
    }
    seen.add(normalized.id);
    return normalized;
  });
}

/** Each function_call_output answers a function_call that came before it in the conversation. */
function checkToolOutputs(conversation: ResponseItem[]): void {
  const calls = new Set<unknown>();
  for (const item of conversation) {
    if (item.type === 'function_call') calls.add(item.call_id);
    if (item.type === 'function_call_output' && !calls.has(item.call_id)) {
      const message = `No tool call found for function call output with call_id ${String(item.call_id)}.`;
      throw new Refusal(400, message, 'input', null);
    }
  }
}

/** A handler whose refusals become OpenAI error replies. */
function guarded(handler: (req: RecordedRequest, ctx: AnswerContext) => Reply): RouteHandler {
  return (req, ctx) => {
    try {
      return handler(req, ctx);
    } catch (error) {
      if (error instanceof Refusal) return refusalReply(error);
      throw error;
    }
  };
}

function create(ledger: ResponsesLedger): RouteHandler {
  return guarded((req, ctx) => {
    const body = checkBody(req.body);
    const key = keyOf(req);
    let earlier: ResponseItem[] = [];
    const previousId = body.previous_response_id;
    if (typeof previousId === 'string') {
      const previous = ledger.find(previousId, key);
      if (previous === undefined) {
        const message = `Previous response with id '${previousId}' not found.`;
        throw new Refusal(404, message, 'previous_response_id', 'previous_response_not_found');
      }
      earlier = ledger.conversationAfter(previous);
    }
    const input = [...earlier, ...inputItems(body.input as string | unknown[], earlier, key, ledger, ctx)];
    checkToolOutputs(input);
    const answer = planResponse(body, ctx);
    const stored = body.store !== false;
    ledger.turns.push({
      responseId: answer.id,
      key,
      previousResponseId: typeof previousId === 'string' ? previousId : undefined,
      instructions: typeof body.instructions === 'string' ? body.instructions : null,
      input,
      stored,
    });
    if (stored) ledger.save({ id: answer.id, key, response: responseObject(answer), input });
    if (body.stream !== true) {
      return { type: 'json', status: 200, headers: requestId(ctx), body: responseObject(answer) };
    }
    return {
      type: 'sse',
      status: 200,
      headers: { ...requestId(ctx), 'content-type': 'text/event-stream; charset=utf-8' },
      events: responseEvents(answer),
    };
  });
}

/** The stored response a GET or DELETE names, for this key. */
function storedOr404(ledger: ResponsesLedger, id: string, req: RecordedRequest): StoredResponse {
  const entry = ledger.find(id, keyOf(req));
  if (entry === undefined) throw new Refusal(404, `Response with id '${id}' not found.`, null, null);
  return entry;
}

function retrieve(ledger: ResponsesLedger, id: string): RouteHandler {
  return guarded((req, ctx) => {
    const entry = storedOr404(ledger, id, req);
    return { type: 'json', status: 200, headers: requestId(ctx), body: entry.response };
  });
}

function remove(ledger: ResponsesLedger, id: string): RouteHandler {
  return guarded((req, ctx) => {
    storedOr404(ledger, id, req);
    ledger.delete(id, keyOf(req));
    return {
      type: 'json',
      status: 200,
      headers: requestId(ctx),
      body: { id, object: 'response', deleted: true },
    };
  });
}

/** Cursor paging as OpenAI lists do: `order` (desc by default), `limit` (20, at most 100), `after`. */
function listInputItems(ledger: ResponsesLedger, id: string): RouteHandler {
  return guarded((req, ctx) => {
    const entry = storedOr404(ledger, id, req);
    const query = new URLSearchParams(req.path.split('?')[1] ?? '');
    const ordered = query.get('order') === 'asc' ? [...entry.input] : [...entry.input].reverse();
    const after = query.get('after');
    const start = after === null ? 0 : ordered.findIndex((item) => item.id === after) + 1;
    const limit = Math.min(100, Math.max(1, Number(query.get('limit') ?? 20) || 20));
    const data = ordered.slice(start, start + limit);
    const body = {
      object: 'list',
      data,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
      has_more: start + limit < ordered.length,
    };
    return { type: 'json', status: 200, headers: requestId(ctx), body };
  });
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

const ONE_RESPONSE = /\/responses\/([^/]+)(\/input_items)?\/?$/;

/** A Responses protocol over this ledger; each emulator has its own, cleared by reset(). */
export function responsesProtocol(ledger: ResponsesLedger): Protocol {
  const createHandler = create(ledger);
  return {
    route(method, pathname) {
      if (method === 'POST' && pathEndsWith(pathname, '/responses')) return createHandler;
      const match = ONE_RESPONSE.exec(pathname);
      if (match === null) return undefined;
      const id = safeDecode(match[1] ?? '');
      if (match[2] !== undefined) return method === 'GET' ? listInputItems(ledger, id) : undefined;
      if (method === 'GET') return retrieve(ledger, id);
      if (method === 'DELETE') return remove(ledger, id);
      return undefined;
    },
    errorBody: openAiErrorBody,
  };
}
