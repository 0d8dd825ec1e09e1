// The OpenAI Responses request as the translators read it. The route's schema has checked the
// outline; everything inside is still read defensively, since fields the schema does not list
// travel on untouched.
import type { ChatRequestBody } from '../types.js';

export type Json = Record<string, unknown>;

/** POST /v1/responses: the fields the translators know; any other field is kept as sent. */
export type ResponsesRequestBody = Record<string, unknown> & {
  model?: string;
  input?: unknown;
  instructions?: unknown;
  stream?: boolean;
  tools?: unknown;
  tool_choice?: unknown;
  parallel_tool_calls?: unknown;
  text?: unknown;
  reasoning?: unknown;
  max_output_tokens?: unknown;
  temperature?: unknown;
  top_p?: unknown;
  user?: unknown;
  safety_identifier?: unknown;
  metadata?: unknown;
};

/** The Responses body, which reaches a translator typed as the pipeline's chat body. */
export function responsesBodyOf(body: ChatRequestBody): ResponsesRequestBody {
  return body as unknown as ResponsesRequestBody;
}
