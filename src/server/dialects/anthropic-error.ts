// Errors as Anthropic's clients expect them: {"type":"error","error":{"type","message"},
// "request_id"} with Anthropic's error types, in a body or as a stream's `error` event. The
// status stays the gateway's (the catalogue's, or the upstream's); the type follows it.
import type { GatewayError } from '../../errors.js';
import { sseEvent } from '../../streaming/sse-writer.js';
import type { RenderedError } from './dialect.js';

export function anthropicErrorType(status: number): string {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 402:
      return 'billing_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 503:
    case 529:
      return 'overloaded_error';
    case 504:
      return 'timeout_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

export function renderAnthropicError(error: GatewayError, requestId: string): RenderedError {
  // An Anthropic upstream's own error body, relayed as it came (its translator judged the shape).
  if (error.relayed !== undefined) return { text: error.relayed.text, logged: error.relayed.body.error };
  const inner = { type: anthropicErrorType(error.status), message: error.message };
  const text = JSON.stringify({ type: 'error', error: inner, request_id: requestId });
  return { text, logged: { ...inner, code: error.wireCode } };
}

/** The `error` event that ends a Messages stream which failed after its first byte. */
export function anthropicStreamError(error: { message: string; type: string; code: string }): Buffer {
  const type =
    error.code === 'shutting_down'
      ? 'overloaded_error'
      : error.type === 'timeout_error'
        ? 'timeout_error'
        : 'api_error';
  return Buffer.from(sseEvent('error', { type: 'error', error: { type, message: error.message } }));
}
