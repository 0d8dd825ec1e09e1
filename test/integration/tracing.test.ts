// OpenTelemetry traces through a collector stand-in on loopback (a node:http server taking the
// exporter's OTLP/HTTP JSON at POST /v1/traces): one SERVER span per exchange and one CLIENT span
// per upstream attempt beneath it, with the GenAI attributes (gen_ai.system, gen_ai.request.model,
// gen_ai.response.model, token usage), a client's traceparent continued, no message content unless
// OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true, and nothing sent without an endpoint.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const OPENAI_KEY = 'sk-tracing-openai-secret-0001';
const GROQ_KEY = 'sk-tracing-groq-secret-0002';
const PROMPT = 'Tell me about the secret garden';
const MESSAGES = [{ role: 'user' as const, content: PROMPT }];
const CONFIG = `model_mappings:
  fast: ["openai:gpt-4o-mini", "groq:llama3-8b-8192"]
`;
const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: OtlpValue }[];
  status?: { code?: number };
}

interface Span extends Omit<OtlpSpan, 'attributes'> {
  attributes: Record<string, string | number | boolean>;
  service: string | undefined;
}

function plain(value: OtlpValue): string | number | boolean {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  return value.boolValue ?? '';
}

/** A collector stand-in: keeps every POSTed body and its spans. */
class Collector {
  readonly bodies: string[] = [];
  readonly spans: Span[] = [];
  readonly contentTypes: string[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (req.method !== 'POST' || req.url !== '/v1/traces') {
          res.writeHead(404).end();
          return;
        }
        const text = Buffer.concat(chunks).toString('utf8');
        this.bodies.push(text);
        this.contentTypes.push(req.headers['content-type'] ?? '');
        const body = JSON.parse(text) as {
          resourceSpans: {
            resource: { attributes: { key: string; value: OtlpValue }[] };
            scopeSpans: { spans: OtlpSpan[] }[];
          }[];
        };
        for (const resource of body.resourceSpans) {
          const service = resource.resource.attributes.find((a) => a.key === 'service.name');
          for (const scope of resource.scopeSpans) {
            for (const span of scope.spans) {
              this.spans.push({
                ...span,
                attributes: Object.fromEntries(span.attributes.map((a) => [a.key, plain(a.value)])),
                service: service === undefined ? undefined : String(plain(service.value)),
              });
            }
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  reset(): void {
    this.bodies.length = 0;
    this.spans.length = 0;
    this.contentTypes.length = 0;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

describe('OpenTelemetry traces', () => {
  let openai: ProviderEmulator;
  let groq: ProviderEmulator;
  const collector = new Collector();
  const gateways: TestGateway[] = [];

  function env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      OPENAI_API_KEY: OPENAI_KEY,
      OPENAI_BASE_URL: `${openai.url}/v1`,
      GROQ_API_KEY: GROQ_KEY,
      GROQ_BASE_URL: `${groq.url}/openai/v1`,
      RETRY_PER_TARGET: '1',
      RETRY_BACKOFF_MS: '1',
      RETRY_MAX_BACKOFF_MS: '5',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_SERVICE_NAME: 'ai-proxy-under-test',
      OTEL_BSP_SCHEDULE_DELAY: '20',
      ...extra,
    };
  }

  async function gateway(extra: Record<string, string> = {}): Promise<TestGateway> {
    const gw = await startTestGateway({ env: env(extra), files: { 'config.yml': CONFIG } });
    gateways.push(gw);
    return gw;
  }

  /** Every span of the exchanges so far, once their usage is accounted and the batch is sent. */
  async function exported(gw: TestGateway): Promise<Span[]> {
    await gw.requestLog();
    await gw.gateway.runtime.tracing?.forceFlush();
    return collector.spans;
  }

  function exchangeSpan(spans: Span[], requestId: string | null): Span {
    const span = spans.find((s) => s.kind === SERVER && s.attributes['ai_proxy.request_id'] === requestId);
    expect(span, `the exchange span of ${requestId}`).toBeDefined();
    return span!;
  }

  function childrenOf(spans: Span[], parent: Span): Span[] {
    return spans
      .filter((s) => s.parentSpanId === parent.spanId)
      .sort((a, b) => Number(BigInt(a.startTimeUnixNano) - BigInt(b.startTimeUnixNano)));
  }

  beforeAll(async () => {
    openai = await ProviderEmulator.start();
    groq = await ProviderEmulator.start();
    await collector.start();
  });
  beforeEach(() => {
    openai.reset();
    groq.reset();
    collector.reset();
  });
  afterAll(async () => {
    await Promise.all(gateways.map((gw) => gw.stop()));
    await openai?.close();
    await groq?.close();
    await collector.close();
  });

  it('a whole answer: an exchange span and its attempt, with the GenAI attributes and usage', async () => {
    const gw = await gateway();
    openai.setDefault({
      kind: 'raw',
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'chatcmpl-trace',
        object: 'chat.completion',
        created: 1_700_000_000,
        model: 'gpt-4o-mini-2024-07-18',
        choices: [{ index: 0, message: { role: 'assistant', content: 'A garden.' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 21, completion_tokens: 4, total_tokens: 25 },
      }),
    });
    const { response } = await gw
      .client()
      .chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES, temperature: 0.5, max_tokens: 50 })
      .withResponse();
    const spans = await exported(gw);
    expect(collector.contentTypes.every((type) => type.startsWith('application/json'))).toBe(true);

    const exchange = exchangeSpan(spans, response.headers.get('x-request-id'));
    expect(exchange.service).toBe('ai-proxy-under-test');
    expect(exchange.name).toBe('chat gpt-4o-mini');
    expect(exchange.parentSpanId ?? '').toBe('');
    expect(exchange.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.system': 'openai',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
      'gen_ai.request.temperature': 0.5,
      'gen_ai.request.max_tokens': 50,
      'gen_ai.usage.input_tokens': 21,
      'gen_ai.usage.output_tokens': 4,
      'http.request.method': 'POST',
      'http.route': '/v1/chat/completions',
      'http.response.status_code': 200,
      'ai_proxy.attempts': 1,
    });
    expect(exchange.status?.code ?? 0).not.toBe(ERROR);

    const attempts = childrenOf(spans, exchange);
    expect(attempts).toHaveLength(1);
    const [attempt] = attempts;
    expect(attempt!.kind).toBe(CLIENT);
    expect(attempt!.traceId).toBe(exchange.traceId);
    expect(attempt!.name).toBe('chat gpt-4o-mini');
    expect(attempt!.attributes).toMatchObject({
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
      'gen_ai.usage.input_tokens': 21,
      'gen_ai.usage.output_tokens': 4,
      'server.address': '127.0.0.1',
      'http.response.status_code': 200,
      'ai_proxy.outcome': 'ok',
    });
    // The attempt lies within the exchange.
    expect(BigInt(attempt!.startTimeUnixNano) >= BigInt(exchange.startTimeUnixNano)).toBe(true);
    expect(BigInt(attempt!.endTimeUnixNano) <= BigInt(exchange.endTimeUnixNano)).toBe(true);

    // No message content by default, and never a key.
    const sent = collector.bodies.join('\n');
    expect(sent).not.toContain(PROMPT);
    expect(sent).not.toContain('A garden.');
    expect(exchange.attributes['gen_ai.input.messages']).toBeUndefined();
    for (const secret of [OPENAI_KEY, GROQ_KEY]) expect(sent).not.toContain(secret);
  });

  it('a stream, a fallback and an upstream error: one span per attempt, failures marked', async () => {
    const gw = await gateway();
    const api = gw.client();
    openai.setDefault({
      kind: 'chat',
      content: 'streamed words',
      usage: { prompt_tokens: 8, completion_tokens: 2 },
    });
    const stream = await api.chat.completions
      .create({
        model: 'gpt-4o-mini',
        messages: MESSAGES,
        stream: true,
        stream_options: { include_usage: true },
      })
      .withResponse();
    for await (const _chunk of stream.data) {
      // drained
    }

    openai.setDefault({ kind: 'error', status: 500 });
    groq.setDefault({ kind: 'chat', usage: { prompt_tokens: 9, completion_tokens: 3 } });
    const fallback = await api.chat.completions.create({ model: 'fast', messages: MESSAGES }).withResponse();

    let failedId: string | null = null;
    try {
      await api.chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES });
    } catch (error) {
      failedId = (error as { headers?: Headers }).headers?.get('x-request-id') ?? null;
    }
    expect(failedId).not.toBeNull();

    const spans = await exported(gw);
    expect(spans.filter((s) => s.kind === SERVER)).toHaveLength(3);

    const streamed = exchangeSpan(spans, stream.response.headers.get('x-request-id'));
    expect(streamed.attributes).toMatchObject({
      'gen_ai.request.stream': true,
      'gen_ai.response.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': 8,
      'gen_ai.usage.output_tokens': 2,
    });
    expect(childrenOf(spans, streamed)).toHaveLength(1);

    const fell = exchangeSpan(spans, fallback.response.headers.get('x-request-id'));
    expect(fell.attributes).toMatchObject({
      'gen_ai.system': 'groq',
      'gen_ai.request.model': 'fast',
      'gen_ai.response.model': 'llama3-8b-8192',
      'gen_ai.usage.input_tokens': 9,
      'ai_proxy.attempts': 3,
    });
    const tried = childrenOf(spans, fell);
    expect(
      tried.map((s) => [s.attributes['gen_ai.system'], s.attributes['http.response.status_code']]),
    ).toEqual([
      ['openai', 500],
      ['openai', 500],
      ['groq', 200],
    ]);
    expect(tried.map((s) => s.status?.code ?? 0)).toEqual([ERROR, ERROR, 0]);
    expect(tried[0]!.attributes['error.type']).toBe('500');
    expect(tried[2]!.attributes['gen_ai.usage.output_tokens']).toBe(3);

    const failed = exchangeSpan(spans, failedId);
    expect(failed.status?.code).toBe(ERROR);
    expect(failed.attributes).toMatchObject({ 'error.type': '502', 'http.response.status_code': 502 });
    expect(failed.attributes['gen_ai.usage.input_tokens']).toBeUndefined();
    expect(childrenOf(spans, failed).map((s) => s.attributes['ai_proxy.outcome'])).toEqual([
      'status',
      'status',
    ]);
  });

  it("continues a client's traceparent", async () => {
    const gw = await gateway();
    openai.setDefault({ kind: 'chat' });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const { response } = await gw
      .client()
      .chat.completions.create(
        { model: 'gpt-4o-mini', messages: MESSAGES },
        { headers: { traceparent: `00-${traceId}-${parentId}-01` } },
      )
      .withResponse();
    const spans = await exported(gw);
    const exchange = exchangeSpan(spans, response.headers.get('x-request-id'));
    expect(exchange.traceId).toBe(traceId);
    expect(exchange.parentSpanId).toBe(parentId);
    const attempt = childrenOf(spans, exchange)[0];
    expect(attempt?.traceId).toBe(traceId);
    // The provider is told the attempt's span as its parent: its own trace joins this one.
    expect(openai.requests.at(-1)?.headers.traceparent).toBe(`00-${traceId}-${attempt?.spanId}-01`);
  });

  it('OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true: the prompt and the answer are on the span', async () => {
    const gw = await gateway({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true' });
    openai.setDefault({ kind: 'chat', content: 'Roses and a locked door.' });
    const { response } = await gw
      .client()
      .chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES })
      .withResponse();
    const spans = await exported(gw);
    const exchange = exchangeSpan(spans, response.headers.get('x-request-id'));
    expect(JSON.parse(String(exchange.attributes['gen_ai.input.messages']))).toEqual(MESSAGES);
    expect(String(exchange.attributes['gen_ai.output.messages'])).toContain('Roses and a locked door.');
  });

  it('without an endpoint, or with OTEL_TRACES_EXPORTER=none: no tracer and nothing sent', async () => {
    const plainGw = await gateway({ OTEL_EXPORTER_OTLP_ENDPOINT: '' });
    const none = await gateway({ OTEL_TRACES_EXPORTER: 'none' });
    openai.setDefault({ kind: 'chat' });
    for (const gw of [plainGw, none]) {
      expect(gw.gateway.runtime.tracing).toBeUndefined();
      await gw.client().chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES });
      await gw.requestLog();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(collector.bodies).toEqual([]);
  });

  it('a bad endpoint or sampler is refused at start, naming the variable', async () => {
    await expect(gateway({ OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://collector:4317' })).rejects.toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
    await expect(gateway({ OTEL_TRACES_SAMPLER: 'sometimes' })).rejects.toThrow(/OTEL_TRACES_SAMPLER/);
  });
});
