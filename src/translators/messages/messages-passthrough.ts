// Messages in, Anthropic protocol out: the native pass-through. The body goes as the client sent
// it with only the top-level model rewritten, the client's anthropic-version and anthropic-beta
// go with it, and the answer and stream come back byte for byte (no response or stream step).
import type { IncomingHttpHeaders } from 'node:http';
import { isRecord } from '../../json-guards.js';
import { withTopLevelModel } from '../model-field.js';
import { anthropicErrorDetail } from '../openai-anthropic-response.js';
import type { BuildContext, ChatTranslator, UpstreamErrorDetail, UpstreamRequest } from '../types.js';

/** What the Anthropic SDKs send when a caller sets nothing. */
export const DEFAULT_ANTHROPIC_VERSION = '2023-06-01';

function headerValue(headers: IncomingHttpHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.join(',');
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The error step: a body in Anthropic's own error shape is the client's shape, relayed as it came. */
export function messagesErrorDetail(status: number, body: string): UpstreamErrorDetail {
  const detail = anthropicErrorDetail(status, body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return detail;
  }
  const error = isRecord(parsed) ? parsed.error : undefined;
  if (
    isRecord(parsed) &&
    parsed.type === 'error' &&
    isRecord(error) &&
    typeof error.type === 'string' &&
    typeof error.message === 'string'
  ) {
    return { ...detail, relay: true };
  }
  return detail;
}

export const messagesPassthrough: ChatTranslator = {
  buildRequest(ctx: BuildContext): UpstreamRequest {
    const body = ctx.body.model === ctx.model ? ctx.rawBody : withTopLevelModel(ctx.rawBody, ctx.model);
    const headers: Record<string, string> = {
      'anthropic-version': headerValue(ctx.clientHeaders, 'anthropic-version') ?? DEFAULT_ANTHROPIC_VERSION,
    };
    const beta = headerValue(ctx.clientHeaders, 'anthropic-beta');
    if (beta !== undefined) headers['anthropic-beta'] = beta;
    return { path: '/messages', body, headers, droppedParams: [] };
  },
  parseError: messagesErrorDetail,
};
