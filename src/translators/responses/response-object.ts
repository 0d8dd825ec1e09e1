// The Response object a bridged answer becomes, shared by the non-stream answer and the stream:
// its id and clock (one per exchange), the output items, usage in the Responses shape, status, and
// the request's fields OpenAI echoes back, which SDKs read (instructions, tools, text, reasoning…).
import { randomUUID } from 'node:crypto';
import { isRecord } from '../../json-guards.js';
import { nowSeconds, tokenCount } from '../openai-shapes.js';
import type { BuildContext } from '../types.js';
import type { Json } from './responses-types.js';
import { responsesBodyOf } from './responses-types.js';

export interface ResponseIdentity {
  /** `resp_<hex>`; the output items' ids share its hex. */
  id: string;
  hex: string;
  createdAt: number;
}

/**
 * One id and clock per exchange, whichever step asks first. The gateway stores bridged responses
 * by this id, so it is random, never the upstream's (which a chat-only server may repeat).
 */
const identities = new WeakMap<BuildContext, ResponseIdentity>();

export function responseIdentityOf(ctx: BuildContext): ResponseIdentity {
  const known = identities.get(ctx);
  if (known !== undefined) return known;
  const hex = randomUUID().replaceAll('-', '');
  const made = { id: `resp_${hex}`, hex, createdAt: nowSeconds() };
  identities.set(ctx, made);
  return made;
}

export interface ResponsesUsage {
  input_tokens: number;
  /** cache_write_tokens: written to the prompt cache (priced apart), as chat usage names them. */
  input_tokens_details: { cached_tokens: number; cache_write_tokens?: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/**
 * Chat usage as Responses usage. Both count cached tokens inside the input (DeepSeek names them
 * prompt_cache_hit_tokens), cache writes too (kept as cache_write_tokens); no usage at all (a server that ignores include_usage) is null.
 */
export function responsesUsageOf(usage: unknown): ResponsesUsage | null {
  if (!isRecord(usage)) return null;
  const prompt = isRecord(usage.prompt_tokens_details) ? usage.prompt_tokens_details : {};
  const completion = isRecord(usage.completion_tokens_details) ? usage.completion_tokens_details : {};
  const input = tokenCount(usage.prompt_tokens);
  const output = tokenCount(usage.completion_tokens);
  const out: ResponsesUsage = {
    input_tokens: input,
    input_tokens_details: {
      cached_tokens: tokenCount(prompt.cached_tokens ?? usage.prompt_cache_hit_tokens),
    },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: tokenCount(completion.reasoning_tokens) },
    total_tokens: typeof usage.total_tokens === 'number' ? usage.total_tokens : input + output,
  };
  const written = tokenCount(prompt.cache_write_tokens);
  if (written > 0) out.input_tokens_details.cache_write_tokens = written;
  return out;
}

/** Why a chat answer stopped short, in the Responses terms; undefined: it completed. */
export function incompleteReasonOf(finishReason: unknown): string | undefined {
  if (finishReason === 'length') return 'max_output_tokens';
  if (finishReason === 'content_filter') return 'content_filter';
  return undefined;
}

export function messageItem(id: string, status: string, content: Json[]): Json {
  return { id, type: 'message', status, content, role: 'assistant' };
}

export function outputTextPart(text: string): Json {
  return { type: 'output_text', annotations: [], logprobs: [], text };
}

export function refusalPart(refusal: string): Json {
  return { type: 'refusal', refusal };
}

export function reasoningItem(id: string, text: string | undefined): Json {
  return { id, type: 'reasoning', summary: text === undefined ? [] : [{ type: 'summary_text', text }] };
}

export function functionCallItem(
  id: string,
  status: string,
  callId: string,
  name: string,
  args: string,
): Json {
  return { id, type: 'function_call', status, arguments: args, call_id: callId, name };
}

function echoed(value: unknown, fallback: unknown): unknown {
  return value === undefined ? fallback : value;
}

export interface ResponseState {
  status: 'in_progress' | 'completed' | 'incomplete' | 'failed';
  output: Json[];
  usage: ResponsesUsage | null;
  incompleteReason?: string;
  error?: { code: string; message: string };
}

/** The whole Response object: the identity, the state, and the request's echoed fields. */
export function responseObject(ctx: BuildContext, state: ResponseState): Json {
  const body = responsesBodyOf(ctx.body);
  const identity = responseIdentityOf(ctx);
  const reasoning = isRecord(body.reasoning) ? body.reasoning : {};
  return {
    id: identity.id,
    object: 'response',
    created_at: identity.createdAt,
    status: state.status,
    background: false,
    error: state.error ?? null,
    incomplete_details: state.incompleteReason === undefined ? null : { reason: state.incompleteReason },
    instructions: echoed(body.instructions, null),
    max_output_tokens: echoed(body.max_output_tokens, null),
    max_tool_calls: echoed(body.max_tool_calls, null),
    model: typeof body.model === 'string' ? body.model : ctx.model,
    output: state.output,
    parallel_tool_calls: echoed(body.parallel_tool_calls, true),
    previous_response_id: echoed(body.previous_response_id, null),
    prompt_cache_key: echoed(body.prompt_cache_key, null),
    reasoning: { effort: echoed(reasoning.effort, null), summary: echoed(reasoning.summary, null) },
    safety_identifier: echoed(body.safety_identifier, null),
    store: echoed(body.store, true),
    temperature: echoed(body.temperature, 1),
    text: echoed(body.text, { format: { type: 'text' } }),
    tool_choice: echoed(body.tool_choice, 'auto'),
    tools: echoed(body.tools, []),
    top_p: echoed(body.top_p, 1),
    truncation: echoed(body.truncation, 'disabled'),
    usage: state.usage,
    user: echoed(body.user, null),
    metadata: echoed(body.metadata, {}),
  };
}
