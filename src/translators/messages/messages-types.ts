// The Anthropic Messages request as the translators read it. The route's schema has checked the
// outline (model, max_tokens, messages with user/assistant roles); everything inside is still read
// defensively, since fields the schema does not list travel on untouched.
import type { ChatRequestBody } from '../types.js';

export type Json = Record<string, unknown>;

/** POST /v1/messages: the fields the translators know; any other field is kept as sent. */
export type MessagesRequestBody = Record<string, unknown> & {
  model?: string;
  max_tokens?: number;
  messages: unknown[];
  system?: unknown;
  stream?: boolean;
  stop_sequences?: unknown;
  temperature?: unknown;
  top_p?: unknown;
  top_k?: unknown;
  tools?: unknown;
  tool_choice?: unknown;
  thinking?: unknown;
  metadata?: unknown;
};

/** The Messages body, which reaches a translator typed as the pipeline's chat body. */
export function messagesBodyOf(body: ChatRequestBody): MessagesRequestBody {
  return body as MessagesRequestBody;
}
