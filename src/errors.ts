// The error catalogue: every error the gateway answers with has a stable code, an HTTP status and
// an OpenAI error `type`. Handlers throw GatewayError; the server turns it into
// {"error":{"message","type","param","code"}}. Messages never carry a secret.

export interface ErrorSpec {
  status: number;
  type: string;
  description: string;
}

export const ERROR_CATALOGUE = {
  invalid_request: {
    status: 400,
    type: 'invalid_request_error',
    description: 'The request body is not valid JSON or a field is missing or has the wrong type.',
  },
  invalid_api_key: {
    status: 401,
    type: 'invalid_request_error',
    description: 'No client key was sent, or the key sent is not one of the configured client keys.',
  },
  model_not_found: {
    status: 404,
    type: 'invalid_request_error',
    description: 'The model cannot be routed to any configured provider.',
  },
  not_found: {
    status: 404,
    type: 'invalid_request_error',
    description: 'No such route.',
  },
  response_not_found: {
    status: 404,
    type: 'invalid_request_error',
    description:
      'A stored response (GET/DELETE /v1/responses/{id}, or previous_response_id) is unknown, expired, or belongs to another client key.',
  },
  method_not_allowed: {
    status: 405,
    type: 'invalid_request_error',
    description: 'The route exists but not for this HTTP method.',
  },
  body_too_large: {
    status: 413,
    type: 'invalid_request_error',
    description: 'The request body is larger than the configured limit.',
  },
  unsupported_media_type: {
    status: 415,
    type: 'invalid_request_error',
    description: 'The request body is not application/json.',
  },
  model_not_allowed: {
    status: 403,
    type: 'invalid_request_error',
    description:
      'A managed key asked for a model outside its allowed models (or, with a budget, a model that has no known price).',
  },
  budget_exceeded: {
    status: 429,
    type: 'insufficient_quota',
    description:
      "A managed key's daily, monthly or lifetime budget is spent; the message says which and when it resets.",
  },
  rate_limit_exceeded: {
    status: 429,
    type: 'rate_limit_error',
    description: 'A limit was reached; Retry-After says when to try again.',
  },
  provider_error: {
    status: 400,
    type: 'invalid_request_error',
    description:
      "The provider refused the request (4xx): its status and error come back (an OpenAI-protocol provider's body as it came).",
  },
  upstream_error: {
    status: 502,
    type: 'api_error',
    description: 'Every attempt failed: the provider could not be reached or answered with a server error.',
  },
  no_capacity: {
    status: 503,
    type: 'api_error',
    description:
      "The shared limit store (Redis) is unreachable and REDIS_FAIL_MODE=closed, or the workers' client-key budget file cannot be written: no request can be counted, so none is sent.",
  },
  response_store_unavailable: {
    status: 503,
    type: 'api_error',
    description: 'The stored-responses store (Redis, or the SQLite file) could not be read or written.',
  },
  console_busy: {
    status: 503,
    type: 'api_error',
    description:
      "The web console's query thread already has its limit of queries queued (16, the running one included); Retry-After says when to try again.",
  },
  shutting_down: {
    status: 503,
    type: 'api_error',
    description: 'The gateway is stopping: it finishes requests in flight but takes no new ones.',
  },
  unsupported_protocol: {
    status: 501,
    type: 'api_error',
    description: 'The target provider cannot serve this endpoint (chat to an image-only provider, say).',
  },
  upstream_timeout: {
    status: 504,
    type: 'timeout_error',
    description: 'The provider did not answer within the configured timeouts.',
  },
  console_query_timeout: {
    status: 504,
    type: 'timeout_error',
    description:
      'A web console query (usage history, log search, an exchange or a dialog) ran past its 30 s deadline; its thread was stopped.',
  },
  console_query_failed: {
    status: 500,
    type: 'api_error',
    description: "The web console's query thread died (out of memory, say) while it ran the query.",
  },
  internal_error: {
    status: 500,
    type: 'api_error',
    description: 'A bug in the gateway; the request id identifies it in the process log.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null; provider?: string };
}

/** An upstream's error body passed to the client as it came (secrets already redacted). */
export interface RelayedError {
  /** The exact text sent. */
  text: string;
  /** The same, parsed: what the request log keeps. */
  body: { error: Record<string, unknown> };
}

export interface GatewayErrorOptions {
  param?: string | null;
  /** Overrides the catalogue status, e.g. an upstream 422 passed back as it came. */
  status?: number;
  /** The OpenAI `type` when it differs from the catalogue's (upstream errors keep theirs). */
  type?: string;
  /** The code sent to the client when it differs from the catalogue code (an upstream's own code). */
  wireCode?: string | null;
  provider?: string;
  headers?: Record<string, string>;
  /** Sent instead of the gateway's own body: an OpenAI-protocol provider's error, as it came. */
  relayed?: RelayedError;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly wireCode: string | null;
  readonly provider: string | undefined;
  readonly headers: Record<string, string>;
  readonly relayed: RelayedError | undefined;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const spec: ErrorSpec = ERROR_CATALOGUE[code];
    this.name = 'GatewayError';
    this.code = code;
    this.status = options.status ?? spec.status;
    this.type = options.type ?? spec.type;
    this.param = options.param ?? null;
    this.wireCode = options.wireCode === undefined ? code : options.wireCode;
    this.provider = options.provider;
    this.headers = options.headers ?? {};
    this.relayed = options.relayed;
  }

  toBody(): OpenAIErrorBody {
    const error: OpenAIErrorBody['error'] = {
      message: this.message,
      type: this.type,
      param: this.param,
      code: this.wireCode,
    };
    if (this.provider !== undefined) error.provider = this.provider;
    return { error };
  }

  /** What the client gets (a relayed body's exact text, else the gateway's shape) and the log keeps. */
  toResponse(): { text: string; error: unknown } {
    if (this.relayed !== undefined) return { text: this.relayed.text, error: this.relayed.body.error };
    const body = this.toBody();
    return { text: JSON.stringify(body), error: body.error };
  }
}

export function errorBody(code: ErrorCode, message: string, param: string | null = null): OpenAIErrorBody {
  return new GatewayError(code, message, { param }).toBody();
}
