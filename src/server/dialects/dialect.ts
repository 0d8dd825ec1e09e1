// What an inbound API (a dialect: OpenAI Chat Completions, Anthropic Messages, and next the OpenAI
// Responses API) brings to the one exchange pipeline (exchange-handler.ts): its path, its request
// schema, its translators per upstream protocol, and how its clients expect errors, in a body and
// in a stream. Everything else (auth, body reading, routing, the attempt loop, the relay, the
// request log) is the pipeline's and is the same for every dialect.
import type { ProviderConfig } from '../../config/types.js';
import type { GatewayError } from '../../errors.js';
import type { CommittedResponse } from '../../gateway/attempt-loop.js';
import type { Protocol } from '../../providers/registry.js';
import type { ChatRequestBody, ChatTranslator } from '../../translators/types.js';
import type { ExchangeContext } from '../exchange-context.js';
import type { RequestValidator } from '../request-validator.js';
import type { Runtime } from '../runtime.js';

export type DialectName = 'chat' | 'messages' | 'responses';

/** A valid request, as a dialect's `prepare` hook sees it. */
export interface DialectRequest {
  ctx: ExchangeContext;
  body: ChatRequestBody;
  /** The body's text as the client sent it. */
  rawBody: string;
}

/** What `prepare` made of a request: the body to route and send, and maybe a pin. */
export interface PreparedRequest {
  body: ChatRequestBody;
  rawBody: string;
  /** Only this provider's key may answer (it holds the conversation). */
  pin?: { provider: string; keyId: string };
}

/** A 2xx answer the client got, as a dialect's `settle` hook sees it. */
export interface AnsweredExchange {
  ctx: ExchangeContext;
  /** The body as sent upstream (after `prepare`). */
  body: ChatRequestBody;
  committed: CommittedResponse;
  /** The answer in the client's dialect, parsed: a non-stream body, or a translated stream's result. */
  answer: unknown;
  /** A stream's first upstream chunk (a native stream's answer is not kept whole). */
  firstChunk: Buffer | undefined;
}

/** An error as a dialect's client gets it: the body's text, and what the request log keeps. */
export interface RenderedError {
  text: string;
  logged: unknown;
}

export interface Dialect {
  readonly name: DialectName;
  /** The POST path the fast path serves for it. */
  readonly path: string;
  /** Names the endpoint in "cannot serve" messages, e.g. "chat completions". */
  readonly operation: string;
  /** The header that carries the request id on every answer (besides x-request-id), if any. */
  readonly requestIdHeader: string | undefined;
  /** Builds its validator (compiled once per handler). */
  compileValidator(): RequestValidator;
  /** The translator from this dialect to a provider's protocol; undefined: it cannot serve it. */
  translatorFor(protocol: Protocol, provider: ProviderConfig): ChatTranslator | undefined;
  /** An error in this dialect's shape. */
  renderError(error: GatewayError, requestId: string): RenderedError;
  /** The event that ends a stream which failed after its first byte. */
  streamError(error: { message: string; type: string; code: string }): Buffer;
  /** Before routing: may rebuild the body or pin the exchange (a stored conversation). */
  prepare?(request: DialectRequest, runtime: Runtime): PreparedRequest | Promise<PreparedRequest>;
  /** After a 2xx answer went out: keeps what must outlive the exchange (a stored response). */
  settle?(answered: AnsweredExchange, runtime: Runtime): void;
}
