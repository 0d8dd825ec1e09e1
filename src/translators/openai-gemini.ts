// OpenAI chat ↔ Gemini native API (generateContent, streamGenerateContent?alt=sse): the four
// translator steps, each in its own file, and Google's RPC-style errors read back.

import { isRecord } from '../json-guards.js';
import { buildGeminiRequest } from './openai-gemini-request.js';
import { translateGeminiResponse } from './openai-gemini-response.js';
import { GeminiStreamTranslator } from './openai-gemini-stream.js';
import { openAIErrorDetail } from './openai-passthrough.js';
import type { ChatTranslator, UpstreamErrorDetail } from './types.js';

/** google.rpc status → OpenAI error type. */
const TYPE_BY_RPC_STATUS: Record<string, string> = {
  INVALID_ARGUMENT: 'invalid_request_error',
  FAILED_PRECONDITION: 'invalid_request_error',
  OUT_OF_RANGE: 'invalid_request_error',
  UNAUTHENTICATED: 'authentication_error',
  PERMISSION_DENIED: 'permission_error',
  NOT_FOUND: 'not_found_error',
  ALREADY_EXISTS: 'conflict_error',
  RESOURCE_EXHAUSTED: 'rate_limit_error',
  CANCELLED: 'api_error',
  INTERNAL: 'api_error',
  UNAVAILABLE: 'api_error',
  DEADLINE_EXCEEDED: 'timeout_error',
};

/** `{"error":{"code","message","status"}}`, or that inside a one-element array (JSON streams). */
export function geminiErrorDetail(status: number, body: string): UpstreamErrorDetail {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return openAIErrorDetail(status, body);
  }
  const record = Array.isArray(parsed) ? parsed[0] : parsed;
  const error = isRecord(record) ? record.error : undefined;
  if (!isRecord(error) || typeof error.message !== 'string') return openAIErrorDetail(status, body);
  const rpcStatus = typeof error.status === 'string' ? error.status : null;
  return {
    message: error.message,
    type: rpcStatus === null ? null : (TYPE_BY_RPC_STATUS[rpcStatus] ?? null),
    code: rpcStatus,
    param: null,
  };
}

export const openAIGemini: ChatTranslator = {
  buildRequest: buildGeminiRequest,
  translateResponse: translateGeminiResponse,
  createStreamTranslator: (ctx) => new GeminiStreamTranslator(ctx),
  parseError: geminiErrorDetail,
};
