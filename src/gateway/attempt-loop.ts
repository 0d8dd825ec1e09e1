// The attempt loop: for each target in order, a key from the pool, the translator's upstream
// request, one call; on a retryable failure another key, a bounded retry with backoff, then the next
// target. A stream is committed only once its first byte is in hand, so it can still fall back.
import type { IncomingHttpHeaders } from 'node:http';
import type { Config, ProviderConfig, ProviderKey } from '../config/types.js';
import { GatewayError, type RelayedError } from '../errors.js';
import type { Acquired, KeyPools } from '../keys/key-pool.js';
import type { Lease } from '../keys/limit-store.js';
import { estimateTokens } from '../keys/token-estimate.js';
import { fixedUpstreamPath } from '../providers/fixed-path.js';
import type { Protocol } from '../providers/registry.js';
import type { Target } from '../routing/router.js';
import { redactorFor } from '../secrets/config-secrets.js';
import type { Redactor } from '../secrets/redactor.js';
import { chatTranslatorFor } from '../translators/index.js';
import type { BuildContext, ChatRequestBody, ChatTranslator } from '../translators/types.js';
import { type ExchangeSignal, sleep } from './exchange-signal.js';
import {
  type AttemptFailure,
  failureFromError,
  formatSize,
  parseRetryAfter,
  RETRYABLE_STATUSES,
} from './failure.js';
import { notAnEventStream, streamEndProblem } from './stream-end.js';
import { type CallOutcome, UpstreamCall } from './upstream-call.js';
import type { UpstreamPools } from './upstream-pools.js';

/** The operation name the images route passes; image-only models serve nothing else. */
export const IMAGE_OPERATION = 'image generation';

export interface AttemptRecord {
  provider: string;
  model: string;
  key_id: string;
  status: number | null;
  outcome: 'ok' | AttemptFailure['kind'];
  error?: string;
  duration_ms: number;
}

export interface ExchangeInput {
  body: ChatRequestBody;
  rawBody: string;
  stream: boolean;
  signal: ExchangeSignal;
  /**
   * The translator for a provider's protocol on this endpoint (chat by default; embeddings and
   * images pass their own). Undefined: the protocol cannot serve this endpoint.
   */
  translatorFor?: (protocol: Protocol, provider: ProviderConfig) => ChatTranslator | undefined;
  /** Names the endpoint in the "cannot serve" message, e.g. "chat completions". */
  operation?: string;
  /** The answer is generated text (chat-like): reserve output tokens even when no cap is sent. */
  expectsOutput?: boolean;
  /** The client's request headers, for translators that forward their dialect's own. */
  clientHeaders?: IncomingHttpHeaders;
  /**
   * Only this key of the target's provider may answer (a follow-up to a response the upstream
   * stores under the key that created it).
   */
  pinnedKeyId?: string;
}

export interface CommittedResponse {
  target: Target;
  key: ProviderKey;
  /** The key's reservation, settled with the answer's usage once it is known. */
  lease: Lease | undefined;
  translator: ChatTranslator;
  buildContext: BuildContext;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  droppedParams: string[];
  /** Non-stream: the whole upstream body, and that body parsed (a JSON object). */
  body?: Buffer;
  json?: unknown;
  /** Stream: the first chunk, and the call that delivers the rest to an attached sink. */
  firstChunk?: Buffer;
  call?: UpstreamCall;
  /** Stops listening to the exchange signal once the body is done with. */
  release: () => void;
  /** The configuration's secrets, for what is copied from the stream (its error events). */
  redactor: Redactor;
}

export interface AttemptDeps {
  config: Config;
  pools: UpstreamPools;
  keys: KeyPools;
}

export interface ExchangeTrace {
  attempts: AttemptRecord[];
  /** Milliseconds spent waiting on upstreams, to tell gateway overhead apart. */
  upstreamMs: number;
  /** The exchange's span when traces are on (observability/tracing.ts): a child span per attempt. */
  tracer?: AttemptTracer | undefined;
}

/** Starts an attempt's span. */
export interface AttemptTracer {
  attempt(target: Target, keyId: string): AttemptSpanHandle;
}

/** Ends it with the attempt's record and, for the attempt that answered, its response. */
export interface AttemptSpanHandle {
  /** The W3C traceparent of this attempt's span, sent upstream so the provider's trace joins it. */
  readonly traceparent: string | undefined;
  end(record: AttemptRecord, response: CommittedResponse | undefined): void;
}

type AttemptResult = { ok: true; response: CommittedResponse } | { ok: false; failure: AttemptFailure };

interface Endpoint {
  origin: string;
  basePath: string;
}

// Per provider (a new Config makes new objects, so a reload is picked up): where to send, and the
// fixed headers per key and stream flag, built once instead of on every request.
const endpoints = new WeakMap<ProviderConfig, Endpoint>();
const headerSets = new WeakMap<ProviderKey, Map<string, Record<string, string>>>();

function endpointOf(provider: ProviderConfig): Endpoint {
  let endpoint = endpoints.get(provider);
  if (endpoint === undefined) {
    const url = new URL(provider.baseUrl);
    endpoint = { origin: url.origin, basePath: url.pathname.replace(/\/+$/, '') };
    endpoints.set(provider, endpoint);
  }
  return endpoint;
}

function baseHeaders(provider: ProviderConfig, key: ProviderKey, stream: boolean): Record<string, string> {
  let byProvider = headerSets.get(key);
  if (byProvider === undefined) {
    byProvider = new Map();
    headerSets.set(key, byProvider);
  }
  // The protocol is part of the slot: catalog models share a name and a key but not their headers.
  const slot = `${provider.name}\u0000${provider.protocol}\u0000${stream ? 1 : 0}`;
  let headers = byProvider.get(slot);
  if (headers === undefined) {
    headers = {
      'content-type': 'application/json',
      accept: stream ? 'text/event-stream' : 'application/json',
      ...provider.headers,
    };
    if (key.key !== '') headers[provider.auth.header] = provider.auth.prefix + key.key;
    byProvider.set(slot, headers);
  }
  return headers;
}

async function attemptOnce(
  deps: AttemptDeps,
  target: Target,
  key: ProviderKey,
  lease: Lease | undefined,
  translator: ChatTranslator,
  input: ExchangeInput,
  traceparent: string | undefined,
): Promise<AttemptResult> {
  const { provider } = target;
  const buildContext: BuildContext = {
    provider,
    model: target.model,
    stream: input.stream,
    body: input.body,
    rawBody: input.rawBody,
    clientHeaders: input.clientHeaders,
  };
  const request = translator.buildRequest(buildContext);
  const { origin, basePath } = endpointOf(provider);
  const fixed = baseHeaders(provider, key, input.stream);
  // Translators rarely add headers; when they do, the shared set is copied, never changed.
  let headers = Object.keys(request.headers).length === 0 ? fixed : { ...fixed, ...request.headers };
  if (traceparent !== undefined) headers = { ...headers, traceparent };

  const call = new UpstreamCall(
    input.stream,
    deps.config.responseLimitBytes,
    deps.config.errorBodyLimitBytes,
  );
  // The exchange signal (client gone, total timeout) cancels the call in flight.
  const onAbort = () => call.abort(input.signal.reason as Error);
  if (input.signal.aborted) onAbort();
  else input.signal.once('abort', onAbort);
  deps.pools.get(origin).dispatch(
    {
      method: 'POST',
      path:
        provider.fixedPath === undefined
          ? basePath + request.path
          : fixedUpstreamPath(provider.fixedPath, request.path),
      headers,
      body: request.body,
      headersTimeout: deps.config.timeouts.firstByteMs,
      bodyTimeout: deps.config.timeouts.idleMs,
    },
    call,
  );
  const outcome = await call.ready;

  if (outcome.kind === 'error') {
    input.signal.off('abort', onAbort);
    const failure = input.signal.failure() ?? failureFromError(outcome.error, false);
    // Headers came but the body broke before its first byte: still a fallback case.
    const kind = failure.kind === 'connect' && call.answered ? 'stream' : failure.kind;
    return { ok: false, failure: { ...failure, kind } };
  }
  if (outcome.kind === 'too-large') {
    input.signal.off('abort', onAbort);
    // Not retried: another attempt would most likely be as large, and as costly to read.
    return {
      ok: false,
      failure: {
        kind: 'too_large',
        status: outcome.status,
        retryable: false,
        message: `the answer is larger than the response limit of ${formatSize(outcome.limit)} (RESPONSE_LIMIT, response_limit); it was not read further`,
      },
    };
  }
  if (outcome.status < 200 || outcome.status >= 300) {
    input.signal.off('abort', onAbort);
    const body = outcome.kind === 'answer' ? outcome.body : outcome.chunk;
    // Some providers echo a key ("Incorrect API key provided: sk-…"), in any field. Everything the
    // client, the log and the attempt records get of this body is read from the redacted text.
    const text = redactorFor(deps.config).errorBody(body.toString('utf8'));
    const detail = translator.parseError(outcome.status, text);
    return {
      ok: false,
      failure: {
        kind: 'status',
        status: outcome.status,
        retryable: RETRYABLE_STATUSES.has(outcome.status),
        message: detail.message,
        retryAfterMs: parseRetryAfter(outcome.headers['retry-after']),
        upstreamType: detail.type,
        upstreamCode: detail.code,
        upstreamBody: detail.relay === true ? text : undefined,
      },
    };
  }
  const answered = outcome.kind === 'answer';
  // A buffered answer is done with the signal now; a stream listens until its body is relayed.
  if (answered) input.signal.off('abort', onAbort);
  // Nothing has reached the client yet: a broken answer is a failure another attempt may mend.
  const json = answered ? jsonObjectOf(outcome.body) : undefined;
  const broken = answered
    ? json === undefined
      ? `answered ${outcome.status} with a body that is not a JSON object (${contentTypeOf(outcome)})`
      : undefined
    : brokenStream(outcome, call, provider.protocol);
  if (broken !== undefined) {
    if (!answered) {
      input.signal.off('abort', onAbort);
      call.abort(new Error(broken));
    }
    return {
      ok: false,
      failure: { kind: 'invalid', status: outcome.status, retryable: true, message: broken },
    };
  }
  // One literal of one shape for both kinds (spreading a shared part measured ~2 µs per request).
  const response: CommittedResponse = {
    target,
    key,
    lease,
    translator,
    buildContext,
    status: outcome.status,
    headers: outcome.headers,
    droppedParams: request.droppedParams,
    body: answered ? outcome.body : undefined,
    json,
    firstChunk: answered ? undefined : outcome.chunk,
    call: answered ? undefined : call,
    release: () => input.signal.off('abort', onAbort),
    redactor: redactorFor(deps.config),
  };
  return { ok: true, response };
}

/** The answer as a JSON object, or undefined when it is not one (an HTML page, cut-off JSON). */
function jsonObjectOf(body: Buffer): unknown {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function contentTypeOf(outcome: { headers: Record<string, string | string[] | undefined> }): string {
  const value = outcome.headers['content-type'];
  const text = (Array.isArray(value) ? value[0] : value)?.split(';')[0]?.trim().slice(0, 64);
  return text === undefined || text === '' ? 'no content type' : `content-type ${text}`;
}

/**
 * A stream that is plainly not one, or that is already whole (or broken) before anything was
 * relayed and did not end as its protocol ends an answer: what is wrong with it, else undefined.
 */
function brokenStream(
  outcome: Extract<CallOutcome, { kind: 'first-chunk' }>,
  call: UpstreamCall,
  protocol: Protocol,
): string | undefined {
  if (notAnEventStream(outcome.chunk))
    return `answered ${outcome.status} to a stream request with a body that is not an event stream (${contentTypeOf(outcome)})`;
  if (call.broken !== undefined)
    return `the stream broke off: ${failureFromError(call.broken, false).message}`;
  return call.complete ? streamEndProblem(protocol, call) : undefined;
}

function backoffMs(config: Config, retry: number): number {
  const base = Math.min(config.retry.maxBackoffMs, config.retry.backoffMs * 2 ** retry);
  // Full jitter keeps many clients from retrying in step.
  return Math.round(base / 2 + Math.random() * (base / 2));
}

export async function runAttempts(
  deps: AttemptDeps,
  targets: Target[],
  input: ExchangeInput,
  trace: ExchangeTrace,
): Promise<CommittedResponse> {
  const { config } = deps;
  let lastFailure: AttemptFailure | undefined;
  let lastTarget: Target | undefined;
  let noKeyFor: Target | undefined;
  let freeInMs: number | undefined;
  let limiterDown = false;
  const estimate = estimateTokens(
    input.rawBody,
    input.body,
    input.expectsOutput ?? input.translatorFor === undefined,
  );
  const gapPercent = config.modelUsageGapPercentage;

  for (const target of targets) {
    if (target.provider.imagesOnly === true && input.operation !== IMAGE_OPERATION) {
      throw new GatewayError(
        'invalid_request',
        `${target.model} is an image model: call POST /v1/images/generations with it, not ${input.operation ?? 'chat completions'}.`,
        { param: 'model' },
      );
    }
    const translator = (input.translatorFor ?? chatTranslatorFor)(target.provider.protocol, target.provider);
    if (translator === undefined) {
      throw new GatewayError(
        'unsupported_protocol',
        `Provider ${target.provider.name} speaks the ${target.provider.protocol} protocol, which cannot serve ${input.operation ?? 'chat completions'}.`,
        { provider: target.provider.name },
      );
    }
    const tried = new Set<string>();
    let retries = 0;
    let lastKey: ProviderKey | undefined;
    const pinned =
      input.pinnedKeyId === undefined
        ? undefined
        : target.provider.keys.find((key) => key.id === input.pinnedKeyId);
    if (input.pinnedKeyId !== undefined && pinned === undefined) {
      throw new GatewayError(
        'invalid_request',
        `The key that created this conversation (${input.pinnedKeyId}) is no longer configured for ${target.provider.name}.`,
      );
    }
    while (trace.attempts.length < config.retry.maxAttempts) {
      let acquired: Acquired | Promise<Acquired> = deps.keys.acquire(target.provider, {
        tried,
        estimate,
        gapPercent,
        only: pinned,
      });
      if (acquired instanceof Promise) acquired = await acquired;
      if (acquired.key === undefined) {
        if (acquired.unavailable) limiterDown = true;
        if (acquired.freeInMs !== undefined)
          freeInMs = Math.min(freeInMs ?? acquired.freeInMs, acquired.freeInMs);
        const canRetrySameKey =
          lastKey !== undefined && retries < config.retry.retriesPerTarget && lastFailure?.status !== 429;
        if (!canRetrySameKey) break;
        try {
          await sleep(backoffMs(config, retries), input.signal);
        } catch (error) {
          throw toClientError(input.signal.failure() ?? failureFromError(error, false), target, trace);
        }
        retries += 1;
        acquired = deps.keys.acquire(target.provider, { tried, estimate, gapPercent, only: lastKey });
        if (acquired instanceof Promise) acquired = await acquired;
        if (acquired.key === undefined) break;
      }
      const { key, lease } = acquired;
      tried.add(key.id);
      lastKey = key;
      lastTarget = target;

      const span = trace.tracer?.attempt(target, key.id);
      const started = performance.now();
      const result = await attemptOnce(deps, target, key, lease, translator, input, span?.traceparent);
      const duration = performance.now() - started;
      trace.upstreamMs += duration;
      const record: AttemptRecord = {
        provider: target.provider.name,
        model: target.model,
        key_id: key.id,
        status: result.ok ? result.response.status : (result.failure.status ?? null),
        outcome: result.ok ? 'ok' : result.failure.kind,
        duration_ms: Math.round(duration * 100) / 100,
      };
      // A transport error's text is not the upstream's, but it is copied to the client and the log.
      if (!result.ok) {
        result.failure.message = redactorFor(config).text(result.failure.message);
        record.error = result.failure.message;
      }
      trace.attempts.push(record);
      span?.end(record, result.ok ? result.response : undefined);
      if (result.ok) {
        deps.keys.report(key, lease, { status: result.response.status }, target.provider.name);
        return result.response;
      }

      const failure = result.failure;
      lastFailure = failure;
      // A 2xx that failed (too large, broken) settles its reservation as a failure does.
      const failedStatus = failure.status !== undefined && failure.status >= 400 ? failure.status : undefined;
      deps.keys.report(
        key,
        lease,
        { status: failedStatus, retryAfterMs: failure.retryAfterMs },
        target.provider.name,
      );
      if (failure.kind === 'aborted' || input.signal.failure() !== undefined)
        throw toClientError(failure, target);
      if (!failure.retryable) {
        // A refused key may be just that key: another key of the same provider can still answer.
        const keyProblem = failure.status === 401 || failure.status === 403;
        if (keyProblem && target.provider.keys.length > tried.size) continue;
        throw toClientError(failure, target);
      }
    }
    if (lastTarget !== target) noKeyFor ??= target;
    if (trace.attempts.length >= config.retry.maxAttempts) break;
  }

  if (lastFailure !== undefined && lastTarget !== undefined)
    throw toClientError(lastFailure, lastTarget, trace);
  if (limiterDown) {
    throw new GatewayError(
      'no_capacity',
      'The shared rate-limit store (Redis) is unreachable and REDIS_FAIL_MODE=closed; retry later.',
    );
  }
  const blocked = noKeyFor ?? targets[0];
  throw new GatewayError(
    'rate_limit_exceeded',
    `Every key of ${blocked?.provider.name ?? 'the provider'} is at its rate limit or cooling down; retry later.`,
    { headers: { 'retry-after': String(Math.max(1, Math.ceil((freeInMs ?? 60_000) / 1000))) } },
  );
}

const TYPE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  409: 'conflict_error',
  422: 'invalid_request_error',
  429: 'rate_limit_error',
};

function toClientError(failure: AttemptFailure, target: Target, trace?: ExchangeTrace): GatewayError {
  const provider = target.provider.name;
  // The message may not name the provider (a relayed body is left as it came): the header does.
  const named = { 'x-ai-proxy-provider': provider };
  const tries =
    trace === undefined
      ? ''
      : ` after ${trace.attempts.length} attempt${trace.attempts.length === 1 ? '' : 's'}`;
  if (failure.kind === 'timeout') {
    return new GatewayError('upstream_timeout', `${provider}: ${failure.message}${tries}`, {
      provider,
      headers: named,
    });
  }
  if (failure.kind === 'status' && failure.status !== undefined) {
    const status = failure.status;
    if (status === 429) {
      const retryAfter = Math.max(1, Math.ceil((failure.retryAfterMs ?? 60_000) / 1000));
      return new GatewayError('rate_limit_exceeded', `${provider}: ${failure.message}`, {
        provider,
        headers: { ...named, 'retry-after': String(retryAfter) },
      });
    }
    if (status >= 400 && status < 500) {
      const relayed = relayedBody(failure.upstreamBody);
      if (relayed !== undefined) {
        return new GatewayError('provider_error', failure.message, {
          provider,
          status,
          type: failure.upstreamType ?? TYPE_BY_STATUS[status] ?? 'invalid_request_error',
          wireCode: failure.upstreamCode ?? null,
          relayed,
          headers: named,
        });
      }
      return new GatewayError('provider_error', `${provider}: ${failure.message}`, {
        provider,
        headers: named,
        status,
        type: failure.upstreamType ?? TYPE_BY_STATUS[status] ?? 'invalid_request_error',
        wireCode: failure.upstreamCode ?? null,
      });
    }
    return new GatewayError('upstream_error', `${provider} returned ${status}: ${failure.message}${tries}`, {
      provider,
      headers: named,
    });
  }
  return new GatewayError('upstream_error', `${provider}: ${failure.message}${tries}`, {
    provider,
    headers: named,
  });
}

/** A relayable error body (OpenAI's shape, as its translator judged) as text and value. */
function relayedBody(text: string | undefined): RelayedError | undefined {
  if (text === undefined) return undefined;
  const body: unknown = JSON.parse(text);
  return { text, body: body as RelayedError['body'] };
}
