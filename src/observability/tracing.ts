// OpenTelemetry traces, on when an OTLP endpoint is configured (settings.ts): one SERVER span per
// exchange and one CLIENT span per upstream attempt, with the GenAI conventions' attributes
// (gen_ai.system and gen_ai.provider.name, gen_ai.request.model, gen_ai.response.model, token
// usage). Spans are batched and POSTed as OTLP/HTTP JSON by the official exporter. A client's
// W3C traceparent makes the exchange span its child. Prompts and answers are attached only with
// OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true.
//
// Token usage is known only once the log writer has read the answer (usage/accounting.ts), so the
// exchange span and the attempt that answered are ended then, with the time the exchange ended.
// When tracing is off nothing here is loaded or called.
import {
  type Attributes,
  type Context,
  isSpanContextValid,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from '@opentelemetry/semantic-conventions';
import type {
  AttemptRecord,
  AttemptSpanHandle,
  AttemptTracer,
  CommittedResponse,
} from '../gateway/attempt-loop.js';
import type { AccountingMeta, PendingRecord, UsageObserver } from '../logs/request-record.js';
import type { Target } from '../routing/router.js';
import type { TokenUsage } from '../usage/cost.js';
import { genAiProviderName, operationOf, routeLabel } from './labels.js';
import type { TracingConfig } from './settings.js';

/** What the exchange span reads of the exchange when it is logged. */
export interface ExchangeFacts {
  responseBytes: Buffer | undefined;
  streamResult: unknown;
}

interface RequestFacts {
  id: string;
  startedAt: number;
  method: string;
  endpoint: string;
  headers: Record<string, string | string[] | undefined>;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A client's W3C traceparent as the parent context, or the root. */
function parentContext(header: string | string[] | undefined): Context {
  const match = typeof header === 'string' ? TRACEPARENT.exec(header.trim()) : null;
  if (match === null || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: match[1]!,
    spanId: match[2]!,
    traceFlags: Number.parseInt(match[3]!, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  });
}

function samplerOf(config: TracingConfig): Sampler {
  const root =
    config.ratio >= 1
      ? new AlwaysOnSampler()
      : config.ratio <= 0
        ? new AlwaysOffSampler()
        : new TraceIdRatioBasedSampler(config.ratio);
  return config.parentBased ? new ParentBasedSampler({ root }) : root;
}

function epochMs(performanceMs: number): number {
  return performance.timeOrigin + performanceMs;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

const MODEL_FIELD = /"model"\s*:\s*"((?:[^"\\]|\\.){1,200})"/;

/** The model an answer names: a JSON answer's field, or the first one in a stream's first chunk. */
function responseModel(response: CommittedResponse): string | undefined {
  const fromJson = record(response.json)?.model;
  if (typeof fromJson === 'string') return fromJson;
  const chunk = response.firstChunk;
  if (chunk === undefined) return undefined;
  const match = MODEL_FIELD.exec(chunk.subarray(0, 4096).toString('utf8'));
  return match === null ? undefined : match[1];
}

function usageAttributes(tokens: TokenUsage): Attributes {
  return {
    'gen_ai.usage.input_tokens': tokens.promptTokens,
    'gen_ai.usage.output_tokens': tokens.completionTokens,
    'gen_ai.usage.cache_read.input_tokens': tokens.cachedReadTokens ?? 0,
    'gen_ai.usage.cache_creation.input_tokens': tokens.cacheWriteTokens ?? 0,
    'gen_ai.usage.reasoning.output_tokens': tokens.reasoningTokens ?? 0,
  };
}

class AttemptSpan implements AttemptSpanHandle {
  constructor(
    private readonly owner: ExchangeSpan,
    readonly span: Span,
  ) {}

  get traceparent(): string | undefined {
    const context = this.span.spanContext();
    if (!isSpanContextValid(context)) return undefined;
    const flags = (context.traceFlags & TraceFlags.SAMPLED).toString(16).padStart(2, '0');
    return `00-${context.traceId}-${context.spanId}-${flags}`;
  }

  end(attempt: AttemptRecord, response: CommittedResponse | undefined): void {
    const span = this.span;
    if (attempt.status !== null) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, attempt.status);
    span.setAttribute('ai_proxy.outcome', attempt.outcome);
    if (response === undefined) {
      span.setAttribute(ATTR_ERROR_TYPE, attempt.status === null ? attempt.outcome : String(attempt.status));
      span.setStatus({ code: SpanStatusCode.ERROR, message: attempt.error });
      span.end();
      return;
    }
    const model = responseModel(response);
    if (model !== undefined) span.setAttribute('gen_ai.response.model', model);
    // The answering call lasts until its answer is relayed: ended with the exchange.
    this.owner.committed(this, model);
  }
}

/** One exchange's span; its attempts' spans are its children. */
export class ExchangeSpan implements AttemptTracer, UsageObserver {
  private readonly context: Context;
  private answered: AttemptSpan | undefined;
  private answeredModel: string | undefined;
  private endTime = 0;
  private meter: UsageObserver | undefined;

  constructor(
    private readonly tracing: Tracing,
    readonly span: Span,
    private readonly operation: string,
  ) {
    this.context = trace.setSpan(ROOT_CONTEXT, span);
  }

  attempt(target: Target, keyId: string): AttemptSpanHandle {
    const provider = target.provider;
    const system = genAiProviderName(provider.name);
    const attributes: Attributes = {
      'gen_ai.operation.name': this.operation,
      'gen_ai.system': system,
      'gen_ai.provider.name': system,
      'gen_ai.request.model': target.model,
      'ai_proxy.provider': provider.name,
      'ai_proxy.key_id': keyId,
    };
    const origin = this.tracing.originOf(provider.baseUrl);
    if (origin !== undefined) {
      attributes[ATTR_SERVER_ADDRESS] = origin.host;
      attributes[ATTR_SERVER_PORT] = origin.port;
    }
    const span = this.tracing.tracer.startSpan(
      `${this.operation} ${target.model}`,
      { kind: SpanKind.CLIENT, attributes },
      this.context,
    );
    return new AttemptSpan(this, span);
  }

  committed(attempt: AttemptSpan, model: string | undefined): void {
    this.answered = attempt;
    this.answeredModel = model;
  }

  /** The exchange is logged: what is known now goes on; the span ends with the usage. */
  finish(base: PendingRecord['base'], facts: ExchangeFacts, meter: UsageObserver | undefined): UsageObserver {
    this.meter = meter;
    this.endTime = Date.now();
    const span = this.span;
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, base.status);
    span.setAttribute('ai_proxy.attempts', base.attempts.length);
    if (base.provider !== null) {
      const system = genAiProviderName(base.provider);
      span.setAttribute('gen_ai.system', system);
      span.setAttribute('gen_ai.provider.name', system);
      span.setAttribute('ai_proxy.provider', base.provider);
    }
    if (base.model_mapped !== null) span.setAttribute('ai_proxy.upstream_model', base.model_mapped);
    const responseModel = this.answeredModel ?? (base.status < 400 ? base.model_mapped : null);
    if (responseModel !== null) span.setAttribute('gen_ai.response.model', responseModel);
    if (base.key_id !== null) span.setAttribute('ai_proxy.key_id', base.key_id);
    if (base.status >= 400) {
      span.setAttribute(ATTR_ERROR_TYPE, String(base.status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    if (this.tracing.captureContent) {
      const output = outputText(facts);
      if (output !== undefined) span.setAttribute('gen_ai.output.messages', output);
    }
    return this;
  }

  usage(meta: AccountingMeta, tokens: TokenUsage | undefined, cost: number | null): void {
    this.meter?.usage(meta, tokens, cost);
    const usage = tokens === undefined ? undefined : usageAttributes(tokens);
    if (usage !== undefined) this.span.setAttributes(usage);
    if (cost !== null && Number.isFinite(cost)) this.span.setAttribute('ai_proxy.cost_usd', cost);
    const answered = this.answered;
    if (answered !== undefined) {
      if (usage !== undefined) answered.span.setAttributes(usage);
      answered.span.end(this.endTime);
    }
    this.span.end(this.endTime);
  }
}

function outputText(facts: ExchangeFacts): string | undefined {
  if (facts.streamResult !== undefined) return JSON.stringify(facts.streamResult);
  return facts.responseBytes?.toString('utf8');
}

function inputOf(body: Record<string, unknown>): unknown {
  return body.messages ?? body.input ?? body.prompt ?? body.contents;
}

export class Tracing {
  readonly tracer: Tracer;
  readonly captureContent: boolean;
  private readonly provider: BasicTracerProvider;
  private readonly origins = new Map<string, { host: string; port: number } | undefined>();

  constructor(config: TracingConfig, version: string) {
    this.captureContent = config.captureContent;
    const exporter = new OTLPTraceExporter({ url: config.url, headers: config.headers });
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({
        [ATTR_SERVICE_NAME]: config.serviceName,
        [ATTR_SERVICE_VERSION]: version,
      }),
      sampler: samplerOf(config),
      spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: config.scheduleDelayMs })],
    });
    this.tracer = this.provider.getTracer('ai-proxy', version);
  }

  /** A span for an exchange that has just been parsed; it began when the request arrived. */
  exchange(request: RequestFacts, body: Record<string, unknown>): ExchangeSpan {
    const route = routeLabel(request.endpoint);
    const operation = operationOf(route) ?? 'chat';
    const model = typeof body.model === 'string' ? body.model : undefined;
    const attributes: Attributes = {
      'gen_ai.operation.name': operation,
      [ATTR_HTTP_REQUEST_METHOD]: request.method,
      [ATTR_HTTP_ROUTE]: route,
      'ai_proxy.request_id': request.id,
    };
    if (model !== undefined) attributes['gen_ai.request.model'] = model;
    for (const [field, name] of REQUEST_PARAMS) {
      const value = body[field];
      if (typeof value === 'number') attributes[name] = value;
    }
    if (typeof body.stream === 'boolean') attributes['gen_ai.request.stream'] = body.stream;
    if (this.captureContent) {
      const input = inputOf(body);
      if (input !== undefined) attributes['gen_ai.input.messages'] = JSON.stringify(input);
    }
    const span = this.tracer.startSpan(
      model === undefined ? operation : `${operation} ${model}`,
      { kind: SpanKind.SERVER, attributes, startTime: epochMs(request.startedAt) },
      parentContext(request.headers.traceparent),
    );
    return new ExchangeSpan(this, span, operation);
  }

  originOf(baseUrl: string): { host: string; port: number } | undefined {
    if (this.origins.has(baseUrl)) return this.origins.get(baseUrl);
    let origin: { host: string; port: number } | undefined;
    try {
      const url = new URL(baseUrl);
      origin = { host: url.hostname, port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80) };
    } catch {
      origin = undefined;
    }
    this.origins.set(baseUrl, origin);
    return origin;
  }

  forceFlush(): Promise<void> {
    return this.provider.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}

const REQUEST_PARAMS = [
  ['max_tokens', 'gen_ai.request.max_tokens'],
  ['max_completion_tokens', 'gen_ai.request.max_tokens'],
  ['max_output_tokens', 'gen_ai.request.max_tokens'],
  ['temperature', 'gen_ai.request.temperature'],
  ['top_p', 'gen_ai.request.top_p'],
  ['top_k', 'gen_ai.request.top_k'],
  ['frequency_penalty', 'gen_ai.request.frequency_penalty'],
  ['presence_penalty', 'gen_ai.request.presence_penalty'],
  ['seed', 'gen_ai.request.seed'],
] as const;
