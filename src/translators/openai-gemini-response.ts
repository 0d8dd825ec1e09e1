// Gemini `GenerateContentResponse` → OpenAI chat.completion (wire-formats.md §3.3), plus the
// pieces the stream translator shares: finish reasons, usage, parts read into text and calls.
import { randomUUID } from 'node:crypto';
import { GatewayError } from '../errors.js';
import { isRecord } from '../json-guards.js';
import { assistantMessage, nowSeconds, type OpenAIUsage, tokenCount } from './openai-shapes.js';
import type { BuildContext } from './types.js';

type Json = Record<string, unknown>;

export interface OpenAIToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
  /**
   * Gemini 3's thoughtSignature of this call, where Google's own OpenAI-compatible layer puts it;
   * the client sends it back with the call and the next request hands it to Gemini again.
   */
  extra_content?: { google: { thought_signature: string } };
}

const CONTENT_FILTER = new Set([
  'SAFETY',
  'RECITATION',
  'LANGUAGE',
  'OTHER',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'NO_IMAGE',
  'IMAGE_RECITATION',
  'IMAGE_OTHER',
]);

/** Gemini says STOP even when the turn is a function call; OpenAI clients look for tool_calls. */
export function finishReasonOf(reason: unknown, hasCalls: boolean): string {
  if (reason === 'MAX_TOKENS') return 'length';
  if (typeof reason === 'string' && CONTENT_FILTER.has(reason)) return 'content_filter';
  return hasCalls ? 'tool_calls' : 'stop';
}

/**
 * `candidatesTokenCount` excludes thinking tokens, which OpenAI counts as completion tokens;
 * `promptTokenCount` excludes what tools (Google Search grounding, code execution, URL context)
 * fed the model, which is billed as input: prompt_tokens counts both, so prompt + completion
 * adds up to Gemini's totalTokenCount.
 */
export function usageOf(metadata: unknown): OpenAIUsage | undefined {
  if (!isRecord(metadata)) return undefined;
  const prompt = tokenCount(metadata.promptTokenCount) + tokenCount(metadata.toolUsePromptTokenCount);
  const completion = tokenCount(metadata.candidatesTokenCount) + tokenCount(metadata.thoughtsTokenCount);
  const usage: OpenAIUsage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens:
      typeof metadata.totalTokenCount === 'number' ? metadata.totalTokenCount : prompt + completion,
  };
  if (typeof metadata.cachedContentTokenCount === 'number')
    usage.prompt_tokens_details = { cached_tokens: metadata.cachedContentTokenCount };
  if (typeof metadata.thoughtsTokenCount === 'number')
    usage.completion_tokens_details = { reasoning_tokens: metadata.thoughtsTokenCount };
  return usage;
}

export interface ReadParts {
  /** Answer text; thought parts (reasoning) are left out. */
  text: string;
  calls: Array<{ id: string | undefined; name: string; args: unknown; signature: string | undefined }>;
}

export function readParts(candidate: Json): ReadParts {
  const content = isRecord(candidate.content) ? candidate.content : {};
  const parts = Array.isArray(content.parts) ? content.parts : [];
  let text = '';
  const calls: ReadParts['calls'] = [];
  for (const part of parts) {
    if (!isRecord(part)) continue;
    if (typeof part.text === 'string' && part.thought !== true) text += part.text;
    const call = part.functionCall;
    if (isRecord(call) && typeof call.name === 'string') {
      calls.push({
        id: typeof call.id === 'string' ? call.id : undefined,
        name: call.name,
        args: call.args ?? {},
        // A sibling of functionCall in the same part, not a field of it.
        signature: typeof part.thoughtSignature === 'string' ? part.thoughtSignature : undefined,
      });
    }
  }
  return { text, calls };
}

/**
 * What makes one answer's ids unique: Gemini's responseId, or a random one when it sent none.
 * Tool-call ids are built from it, so they never repeat across the turns of a conversation
 * (clients and agent frameworks key tool results by id).
 */
export function responseKeyOf(upstream: Json): string {
  return typeof upstream.responseId === 'string' && upstream.responseId !== ''
    ? upstream.responseId
    : randomUUID();
}

/**
 * Gemini's own id when it sends one, else `call_<responseKey>_<candidate>_<n>`: unique across
 * turns, and the same answer always gets the same ids. A thoughtSignature rides along.
 */
export function toolCallOf(
  call: ReadParts['calls'][number],
  responseKey: string,
  candidate: number,
  n: number,
): OpenAIToolCall {
  const toolCall: OpenAIToolCall = {
    id: call.id ?? `call_${responseKey}_${candidate}_${n}`,
    type: 'function',
    function: { name: call.name, arguments: JSON.stringify(call.args) },
  };
  if (call.signature !== undefined)
    toolCall.extra_content = { google: { thought_signature: call.signature } };
  return toolCall;
}

export function modelOf(upstream: Json, ctx: BuildContext): string {
  return typeof upstream.modelVersion === 'string' ? upstream.modelVersion : ctx.model;
}

export function candidatesOf(upstream: Json): Json[] {
  return Array.isArray(upstream.candidates) ? upstream.candidates.filter(isRecord) : [];
}

export function candidateIndex(candidate: Json, position: number): number {
  return typeof candidate.index === 'number' ? candidate.index : position;
}

export function translateGeminiResponse(upstream: unknown, ctx: BuildContext): unknown {
  if (!isRecord(upstream)) {
    const provider = ctx.provider.name;
    throw new GatewayError('upstream_error', `${provider} answered with JSON that is not an object.`, {
      provider,
    });
  }
  const responseKey = responseKeyOf(upstream);
  const candidates = candidatesOf(upstream);
  const choices = candidates.map((candidate, position) => {
    const { text, calls } = readParts(candidate);
    const index = candidateIndex(candidate, position);
    return {
      index,
      message: assistantMessage(
        text,
        calls.map((call, n) => toolCallOf(call, responseKey, index, n)),
      ),
      logprobs: null,
      finish_reason: finishReasonOf(candidate.finishReason, calls.length > 0),
    };
  });
  // A prompt blocked outright comes back with no candidates at all, only promptFeedback.
  if (choices.length === 0) {
    choices.push({
      index: 0,
      message: { role: 'assistant', content: null, refusal: null },
      logprobs: null,
      finish_reason: 'content_filter',
    });
  }
  const answer: Json = {
    id: `chatcmpl-${responseKey}`,
    object: 'chat.completion',
    created: nowSeconds(),
    model: modelOf(upstream, ctx),
    choices,
  };
  const usage = usageOf(upstream.usageMetadata);
  if (usage !== undefined) answer.usage = usage;
  return answer;
}
