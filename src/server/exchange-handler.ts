// The one exchange pipeline, for every inbound API (dialect): client key, content type, body
// (size-limited, parsed, validated by the dialect's schema), routing, the attempt loop with the
// dialect's translators, the answer (one send, or a stream relayed chunk by chunk), errors in the
// dialect's shape, and the request-log record. It runs straight on node:http: Fastify measured a
// large share of the gateway's cost on the hottest route (see docs/architecture.md).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError } from '../errors.js';
import { type CommittedResponse, type ExchangeTrace, runAttempts } from '../gateway/attempt-loop.js';
import { ExchangeSignal } from '../gateway/exchange-signal.js';
import type { KeyStore } from '../managed-keys/key-store.js';
import type { Target } from '../routing/router.js';
import type { ChatRequestBody } from '../translators/types.js';
import { type ClientAuth, presentedKey } from './client-auth.js';
import { type ClientIdentity, checkManagedKey, identifyClient, keysRequired } from './client-identity.js';
import type { Dialect } from './dialects/dialect.js';
import {
  createContext,
  type ExchangeContext,
  type ExchangeInfo,
  newExchangeInfo,
  responseRequestId,
} from './exchange-context.js';
import { logExchange } from './exchange-log.js';
import { checkJsonDepth } from './json-depth.js';
import {
  admitManagedKey,
  budgetRemainingHeader,
  needsStreamUsage,
  withStreamUsage,
} from './key-admission.js';
import { nextRequestId } from './request-id.js';
import type { RequestValidator } from './request-validator.js';
import { relayStream } from './routes/relay-stream.js';
import type { Runtime } from './runtime.js';
import {
  gatewayHeaders,
  logClientClosed,
  parseUpstreamJson,
  priceAnswer,
  recordCommitted,
  recordTargets,
  recordTiming,
  usageOf,
  watchClient,
} from './upstream-exchange.js';
import { validationError } from './validation-error.js';

/**
 * The targets of a follow-up that only the provider holding the conversation can answer: the
 * routed targets on that provider, or a 400 when the model routes elsewhere.
 */
function pinnedTargets(targets: Target[], provider: string): Target[] {
  const kept = targets.filter((target) => target.provider.name === provider);
  if (kept.length > 0) return kept;
  throw new GatewayError(
    'invalid_request',
    `previous_response_id names a response that ${provider} stores, but the model routes to ${targets[0]?.provider.name ?? 'another provider'}; send a model that ${provider} serves.`,
    { param: 'previous_response_id' },
  );
}

/** Is this a POST to the path, with or without a query string? */
export function isPostTo(req: IncomingMessage, path: string): boolean {
  const url = req.url ?? '';
  return (
    req.method === 'POST' &&
    url.startsWith(path) &&
    (url.length === path.length || url.charCodeAt(path.length) === 63) /* ? */
  );
}

function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const semicolon = value.indexOf(';');
  const media = (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase();
  return media === 'application/json';
}

const AUTH_CACHE = Symbol('ai-proxy.auth');

interface AuthMemo {
  auth: ClientAuth;
  keys: KeyStore;
  credential: string;
  identity: ClientIdentity;
}

/**
 * Identifies the client once per connection: a keep-alive client sends the same header on every
 * request, and hashing it each time was a visible share of the hot path. The memo lives on the
 * socket, so it only ever holds what this same client sent; a reload (new ClientAuth) or a
 * different header identifies afresh, and a managed key is looked up again (a map lookup) on every
 * request, so a revocation or an expiry takes effect at once.
 */
function identify(req: IncomingMessage, auth: ClientAuth, keys: KeyStore): ClientIdentity | GatewayError {
  const credential = req.headers.authorization ?? req.headers['x-api-key'];
  const socket = req.socket as typeof req.socket & { [AUTH_CACHE]?: AuthMemo };
  const memo = socket[AUTH_CACHE];
  const now = Date.now();
  if (memo !== undefined && memo.auth === auth && memo.keys === keys && memo.credential === credential) {
    const known = memo.identity.key;
    if (known === undefined) return memo.identity;
    const current = keys.findByHash(known.hash);
    return current === undefined
      ? new GatewayError('invalid_api_key', 'Incorrect API key provided.')
      : checkManagedKey(current, now);
  }
  const identity = identifyClient(auth, keys, presentedKey(req.headers), now);
  if (!(identity instanceof GatewayError) && typeof credential === 'string')
    socket[AUTH_CACHE] = { auth, keys, credential, identity };
  return identity;
}

export class ExchangeHandler {
  private readonly validate: RequestValidator;

  constructor(
    private readonly runtime: Runtime,
    readonly dialect: Dialect,
  ) {
    this.validate = dialect.compileValidator();
  }

  /** The fast path: everything Fastify would do for this route, done here once. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const ctx = createContext(
      nextRequestId(),
      'POST',
      req.url ?? this.dialect.path,
      req.headers,
      req.socket.remoteAddress ?? '',
    );
    const early = this.admit(ctx, req);
    if (early !== undefined) {
      // Nothing more will be read: close the connection rather than drain an unwanted body.
      res.setHeader('connection', 'close');
      this.fail(ctx, res, early);
      req.resume();
      return;
    }
    const limit = this.runtime.state.config.bodyLimitBytes;
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        res.setHeader('connection', 'close');
        this.fail(
          ctx,
          res,
          new GatewayError('body_too_large', 'The request body is larger than the configured body_limit.'),
        );
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) return;
      const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
      void this.serve(ctx, res, text);
    });
  }

  /** Checks that need no body: shutting down, client key, content type, declared length. */
  private admit(ctx: ExchangeContext, req: IncomingMessage): GatewayError | undefined {
    const { state } = this.runtime;
    if (this.runtime.closing) {
      return new GatewayError(
        'shutting_down',
        'The gateway is shutting down; retry on another instance or in a moment.',
      );
    }
    if (keysRequired(state.auth, this.runtime.managedKeyCount)) {
      const identity = identify(req, state.auth, this.runtime.managedKeys);
      if (identity instanceof GatewayError) return identity;
      ctx.clientKeyHash = identity.shortHash;
      ctx.managedKey = identity.key;
    }
    const contentType = req.headers['content-type'];
    if (!isJsonContentType(contentType)) {
      const media =
        contentType === undefined ? 'no content type' : JSON.stringify(contentType.split(';')[0]?.trim());
      return new GatewayError(
        'unsupported_media_type',
        `Send the request body as application/json, not ${media}.`,
      );
    }
    const declared = Number(req.headers['content-length']);
    if (declared > state.config.bodyLimitBytes) {
      return new GatewayError('body_too_large', 'The request body is larger than the configured body_limit.');
    }
    return undefined;
  }

  /** Parses and validates the body, then runs the exchange. Also the Fastify route's entry. */
  async serve(ctx: ExchangeContext, res: ServerResponse, text: string): Promise<void> {
    let body: ChatRequestBody;
    try {
      body = this.parse(ctx, text);
    } catch (error) {
      this.fail(ctx, res, error);
      return;
    }
    const { config, router } = this.runtime.state;
    const stream = body.stream === true;
    const exchange = newExchangeInfo(body.model ?? null, stream);
    ctx.exchange = exchange;
    const signal = new ExchangeSignal(config.timeouts.totalMs);
    const onClose = watchClient(res, signal);
    exchange.span = this.runtime.tracing?.exchange(ctx, body as Record<string, unknown>);
    const trace: ExchangeTrace = { attempts: exchange.attempts, upstreamMs: 0, tracer: exchange.span };
    this.runtime.enter(signal);
    try {
      // A dialect may rebuild the body first (a stored conversation) or pin the exchange to a key.
      const prepared =
        this.dialect.prepare === undefined
          ? undefined
          : await this.dialect.prepare({ ctx, body, rawBody: text }, this.runtime);
      let sent = prepared?.body ?? body;
      let sentText = prepared?.rawBody ?? text;
      // A limited key's streamed chat must report its usage, or its real cost could not be counted.
      if (
        ctx.managedKey !== undefined &&
        stream &&
        this.dialect.name === 'chat' &&
        needsStreamUsage(ctx.managedKey, sent)
      ) {
        sent = withStreamUsage(sent);
        sentText = JSON.stringify(sent);
      }
      let targets = router.resolveRequest(sent.model, sent.models);
      if (prepared?.pin !== undefined) targets = pinnedTargets(targets, prepared.pin.provider);
      if (ctx.managedKey !== undefined) targets = await this.admitKey(ctx, exchange, sent, sentText, targets);
      recordTargets(exchange, targets);
      const committed = await runAttempts(
        { config, pools: this.runtime.pools, keys: this.runtime.keys },
        targets,
        {
          body: sent,
          rawBody: sentText,
          stream,
          signal,
          translatorFor: this.dialect.translatorFor,
          operation: this.dialect.operation,
          expectsOutput: true,
          clientHeaders: ctx.headers,
          pinnedKeyId: prepared?.pin?.keyId,
        },
        trace,
      );
      recordCommitted(exchange, committed);
      const headers = gatewayHeaders(ctx, committed, recordTiming(ctx, exchange, trace));
      const idHeader = this.dialect.requestIdHeader;
      if (idHeader !== undefined) headers[idHeader] = responseRequestId(ctx);
      const remaining = budgetRemainingHeader(ctx.budgetRemaining);
      if (remaining !== undefined) headers['x-ai-proxy-budget-remaining'] = remaining;
      if (stream) {
        const status = await relayStream(res, committed, headers, signal, exchange, {
          logLimitBytes: config.log.streamLimitBytes,
          errorEvent: this.dialect.streamError,
        });
        logExchange(this.runtime, ctx, status);
        if (this.dialect.settle !== undefined && status < 300 && exchange.error === null) {
          this.dialect.settle(
            { ctx, body: sent, committed, answer: exchange.streamResult, firstChunk: committed.firstChunk },
            this.runtime,
          );
        }
      } else {
        const answer = this.sendBody(ctx, res, committed, exchange, headers);
        if (this.dialect.settle !== undefined && committed.status < 300) {
          this.dialect.settle({ ctx, body: sent, committed, answer, firstChunk: undefined }, this.runtime);
        }
      }
    } catch (error) {
      if (signal.clientGone) {
        logClientClosed(this.runtime, ctx, exchange, error);
      } else {
        this.fail(ctx, res, error);
      }
    } finally {
      signal.dispose();
      res.off('close', onClose);
      this.runtime.leave(signal);
    }
  }

  /** A managed key's allowed models, limits and budgets: the targets it may use, its reservation kept. */
  private async admitKey(
    ctx: ExchangeContext,
    exchange: ExchangeInfo,
    body: ChatRequestBody,
    text: string,
    targets: Target[],
  ): Promise<Target[]> {
    const key = ctx.managedKey;
    if (key === undefined) return targets;
    const admission = await admitManagedKey(this.runtime, key, body, text, targets);
    exchange.clientReservation = admission.reservation;
    ctx.budgetRemaining = admission.remaining;
    return admission.targets;
  }

  private parse(ctx: ExchangeContext, text: string): ChatRequestBody {
    // Too deep for the code after the parse: refused before it, kept as text for the log.
    const tooDeep = checkJsonDepth(text);
    if (tooDeep !== undefined) {
      ctx.unparsedBody = text;
      throw tooDeep;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      // rawBody must stay valid JSON (the log splices it in as is, the pass-through resends it), so
      // text that does not parse is kept apart, for the log to store as a string.
      ctx.unparsedBody = text;
      const blank = text.length === 0 || /^\s*$/.test(text);
      throw new GatewayError(
        'invalid_request',
        blank
          ? 'The request body is empty; send a JSON object.'
          : `The request body is not valid JSON: ${(error as Error).message}`,
      );
    }
    ctx.rawBody = text;
    const issues = this.validate(parsed);
    if (issues !== undefined) throw validationError(issues);
    return parsed as ChatRequestBody;
  }

  /** Sends a non-stream answer; returns it as the client got it (parsed). */
  private sendBody(
    ctx: ExchangeContext,
    res: ServerResponse,
    committed: CommittedResponse,
    exchange: ExchangeInfo,
    headers: Record<string, string>,
  ): unknown {
    let bytes = committed.body ?? Buffer.alloc(0);
    const translate = committed.translator.translateResponse;
    let answer: unknown;
    if (translate !== undefined) {
      answer = translate(parseUpstreamJson(committed), committed.buildContext);
      bytes = Buffer.from(JSON.stringify(answer));
    }
    exchange.responseBytes = bytes;
    // The attempt loop parsed the upstream's answer already: its usage is read from that parse.
    priceAnswer(this.runtime, exchange, headers, () => usageOf(answer ?? parseUpstreamJson(committed)));
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(bytes.length);
    res.writeHead(committed.status, headers);
    res.end(bytes);
    logExchange(this.runtime, ctx, committed.status);
    return answer ?? committed.json;
  }

  /** Answers with the dialect's error shape and logs the exchange. */
  fail(ctx: ExchangeContext, res: ServerResponse, error: unknown): void {
    const gatewayError =
      error instanceof GatewayError
        ? error
        : new GatewayError(
            'internal_error',
            'Internal error in the gateway; see the process log for this request id.',
            {
              cause: error,
            },
          );
    if (gatewayError.code === 'internal_error') {
      this.runtime.logger.error({ err: error, reqId: ctx.id }, 'unhandled error');
    }
    const requestId = responseRequestId(ctx);
    const { text, logged } = this.dialect.renderError(gatewayError, requestId);
    ctx.errorBody = logged;
    if (ctx.exchange !== undefined && ctx.exchange.error === null) ctx.exchange.error = logged;
    if (!res.headersSent && !res.destroyed) {
      const headers: Record<string, string> = {
        ...gatewayError.headers,
        'x-request-id': requestId,
        'content-type': 'application/json; charset=utf-8',
        'content-length': String(Buffer.byteLength(text)),
      };
      const idHeader = this.dialect.requestIdHeader;
      if (idHeader !== undefined) headers[idHeader] = requestId;
      const remaining = budgetRemainingHeader(ctx.budgetRemaining);
      if (remaining !== undefined) headers['x-ai-proxy-budget-remaining'] = remaining;
      res.writeHead(gatewayError.status, headers);
      res.end(text);
    }
    logExchange(this.runtime, ctx, gatewayError.status);
  }
}
