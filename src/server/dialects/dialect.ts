// What an inbound API (a dialect: OpenAI Chat Completions, Anthropic Messages, and next the OpenAI
// Responses API) brings to the one exchange pipeline (exchange-handler.ts): its path, its request
// schema, its translators per upstream protocol, and how its clients expect errors, in a body and
// in a stream. Everything else (auth, body reading, routing, the attempt loop, the relay, the
// request log) is the pipeline's and is the same for every dialect.
import type { ProviderConfig } from '../../config/types.js';
import type { GatewayError } from '../../errors.js';
import type { Protocol } from '../../providers/registry.js';
import type { ChatTranslator } from '../../translators/types.js';
import type { RequestValidator } from '../request-validator.js';

export type DialectName = 'chat' | 'messages';

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
}
