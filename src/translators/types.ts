// What a translator is: four steps between the OpenAI API the client speaks and one upstream API.
// A pass-through (OpenAI-protocol providers) has only the request step and an error step.
import type { IncomingHttpHeaders } from 'node:http';
import type { ProviderConfig } from '../config/types.js';

/** A chat request as validated at the boundary; fields beyond the schema travel untouched. */
export type ChatRequestBody = Record<string, unknown> & {
  model?: string;
  messages: unknown[];
  stream?: boolean;
  models?: string[];
};

export interface UpstreamRequest {
  /** Path appended to the provider's base URL, with query string. */
  path: string;
  body: string;
  headers: Record<string, string>;
  /** OpenAI parameters the provider lacks, named in x-ai-proxy-dropped-params. */
  droppedParams: string[];
}

export interface BuildContext {
  provider: ProviderConfig;
  model: string;
  stream: boolean;
  body: ChatRequestBody;
  /** The body exactly as the client sent it, reused when nothing needs to change. */
  rawBody: string;
  /**
   * The client's request headers: a native pass-through forwards its dialect's own (Anthropic's
   * anthropic-version and anthropic-beta). Absent where no client request exists (tests, the CLI).
   */
  clientHeaders?: IncomingHttpHeaders;
}

export interface UpstreamErrorDetail {
  message: string;
  type: string | null;
  code: string | null;
  param: string | null;
  /**
   * The body is in OpenAI's error shape already (an OpenAI-protocol provider's): when the gateway
   * passes the error back, it relays the body as it came, provider-only fields included.
   */
  relay?: boolean;
}

/** Feeds upstream stream bytes in, gets the client dialect's SSE bytes out. */
export interface StreamTranslator {
  push(chunk: Buffer): Buffer | undefined;
  end(): Buffer | undefined;
  /**
   * The whole answer the stream amounted to, once it ended (a bridged Responses stream's final
   * Response object, which the gateway stores); undefined where a translator keeps none.
   */
  result?(): unknown;
}

export interface ChatTranslator {
  buildRequest(ctx: BuildContext): UpstreamRequest;
  /** Undefined: the upstream answer is already OpenAI's shape and is relayed byte for byte. */
  translateResponse?: (upstream: unknown, ctx: BuildContext) => unknown;
  createStreamTranslator?: (ctx: BuildContext) => StreamTranslator;
  parseError(status: number, body: string): UpstreamErrorDetail;
}
