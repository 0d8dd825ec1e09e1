// The gateway's Prometheus metrics: one registry per gateway, the instruments, and the two moments
// they are fed. When an exchange is logged (`exchange`): requests by route, provider, model, status
// and client; request, overhead and GenAI operation durations; time to first token; attempts,
// upstream durations and errors by cause; fallbacks. When the log writer has found its usage
// (`ExchangeMeter.usage`, from usage/accounting.ts): tokens (input, cached input, cache writes,
// output, reasoning), cost, gen_ai_client_token_usage and time per output token. Gauges (in
// flight, request-log queue, key pools, the log store's lag) are read when scraped.
//
// Names follow OpenTelemetry's GenAI semantic conventions where they define one, in the form an
// OTel collector's Prometheus exporter gives them (dots to underscores, the unit as a suffix).
// A client is labelled by its managed key's id and name, or the short hash of a configured key;
// never by the key.
import cluster from 'node:cluster';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { PendingRecord, UsageObserver } from '../logs/request-record.js';
import type { ManagedKey } from '../managed-keys/types.js';
import type { TokenUsage } from '../usage/cost.js';
import { clusterMetricsText, joinCluster } from './cluster-metrics.js';
import { type KeyPoolSource, registerKeyPoolGauges } from './key-pool-gauges.js';
import { genAiProviderName, operationOf, routeLabel } from './labels.js';
import {
  CounterFamily,
  type CounterLeaf,
  HistogramFamily,
  type HistogramLeaf,
  type LabelKey,
  type LabelText,
  plainLabel,
  ScrapedGauge,
  SeriesIndex,
} from './series.js';

/** The conventions' boundaries for gen_ai.client.operation.duration (seconds). */
const DURATION_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];
/** The conventions' boundaries for gen_ai.client.token.usage. */
const TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];
/** The conventions' boundaries for gen_ai.server.time_to_first_token (seconds). */
const FIRST_TOKEN_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];
/** The conventions' boundaries for gen_ai.server.time_per_output_token (seconds). */
const PER_TOKEN_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5];
/** The gateway's own time: sub-millisecond matters. */
const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export interface MetricsSources extends KeyPoolSource {
  activeRequests(): number;
  queuedRecords(): number;
}

type Base = PendingRecord['base'];

const providerText: LabelText = (key) => (typeof key === 'string' ? genAiProviderName(key) : '');
const errorText: LabelText = (key) => (typeof key === 'number' && key >= 400 ? String(key) : '');

/** Usage counters of one (provider, model, client). */
interface UsageLeaves {
  input: CounterLeaf;
  cachedInput: CounterLeaf;
  cacheWrite: CounterLeaf;
  output: CounterLeaf;
  reasoning: CounterLeaf;
  cost: CounterLeaf | undefined;
}

/**
 * Every series one kind of exchange feeds (route, provider, model, status, client), found once per
 * exchange; the usage side is filled in on first use. It is also the record's usage observer, so
 * an exchange allocates nothing for its metrics.
 */
export class ExchangeMeter implements UsageObserver {
  readonly requests: CounterLeaf;
  readonly duration: HistogramLeaf;
  readonly overhead: HistogramLeaf;
  readonly operation: HistogramLeaf | undefined;
  private firstTokenLeaf: HistogramLeaf | undefined;
  private perTokenLeaf: HistogramLeaf | undefined;
  private usageLeaves: UsageLeaves | undefined;
  private tokenInput: HistogramLeaf | undefined;
  private tokenOutput: HistogramLeaf | undefined;

  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly op: string | undefined,
    private readonly provider: string | null,
    private readonly model: string | null,
    status: number,
    private readonly client: string | null,
    route: string,
  ) {
    const m = metrics.families;
    this.requests = m.requests.at(route, provider, model, status, client, metrics.clientName(client));
    this.duration = m.duration.at(route);
    this.overhead = m.overhead.at(route);
    this.operation =
      op === undefined || provider === null
        ? undefined
        : m.operation.at(op, provider, model, status >= 400 ? status : 0);
  }

  get firstToken(): HistogramLeaf | undefined {
    if (this.op === undefined || this.provider === null) return undefined;
    this.firstTokenLeaf ??= this.metrics.families.firstToken.at(this.op, this.provider, this.model);
    return this.firstTokenLeaf;
  }

  usage(
    meta: { stream: boolean; status: number; latencyMs: number; ttfbMs: number | null },
    tokens: TokenUsage | undefined,
    cost: number | null,
  ): void {
    if (this.provider === null) return;
    const m = this.metrics.families;
    const client = this.client;
    if (this.usageLeaves === undefined) {
      const name = this.metrics.clientName(client);
      const count = (type: string) => m.tokens.at(this.provider, this.model, client, type, name);
      this.usageLeaves = {
        input: count('input'),
        cachedInput: count('cached_input'),
        cacheWrite: count('cache_write_input'),
        output: count('output'),
        reasoning: count('reasoning'),
        cost: undefined,
      };
    }
    const leaves = this.usageLeaves;
    if (cost !== null && Number.isFinite(cost)) {
      leaves.cost ??= m.cost.at(this.provider, this.model, client, this.metrics.clientName(client));
      leaves.cost.value += cost;
    }
    if (tokens === undefined) return;
    leaves.input.value += tokens.promptTokens;
    leaves.cachedInput.value += tokens.cachedReadTokens ?? 0;
    leaves.cacheWrite.value += tokens.cacheWriteTokens ?? 0;
    leaves.output.value += tokens.completionTokens;
    leaves.reasoning.value += tokens.reasoningTokens ?? 0;
    if (this.op === undefined) return;
    this.tokenInput ??= m.tokenUsage.at(this.op, this.provider, this.model, 'input');
    this.tokenOutput ??= m.tokenUsage.at(this.op, this.provider, this.model, 'output');
    this.tokenInput.observe(tokens.promptTokens);
    if (this.op !== 'embeddings') this.tokenOutput.observe(tokens.completionTokens);
    // After the first token, how fast the rest came: streams only (a whole answer has no first token).
    if (meta.stream && meta.status < 400 && meta.ttfbMs !== null && tokens.completionTokens > 1) {
      this.perTokenLeaf ??= m.perToken.at(this.op, this.provider, this.model);
      this.perTokenLeaf.observe((meta.latencyMs - meta.ttfbMs) / 1000 / (tokens.completionTokens - 1));
    }
  }
}

/** One upstream attempt's series: (provider, model, outcome, status). */
interface AttemptLeaves {
  attempts: CounterLeaf;
  duration: HistogramLeaf;
  errors: CounterLeaf | undefined;
}

function families(registry: Registry) {
  const statusText: LabelText = plainLabel;
  return {
    requests: new CounterFamily(
      'ai_proxy_requests_total',
      'Requests to /v1 routes, by route, provider and model that answered (or would have), status and client.',
      ['route', 'provider', 'model', 'status', 'client', 'client_name'],
      [plainLabel, plainLabel, plainLabel, statusText, plainLabel, plainLabel],
      registry,
    ),
    duration: new HistogramFamily(
      'ai_proxy_request_duration_seconds',
      'Time from a request arriving to its response ending (a stream: its last byte), by route.',
      ['route'],
      DURATION_BUCKETS,
      [],
      registry,
    ),
    overhead: new HistogramFamily(
      'ai_proxy_overhead_seconds',
      "The gateway's own time in an exchange (all but waiting on upstreams, up to the first byte), by route.",
      ['route'],
      OVERHEAD_BUCKETS,
      [],
      registry,
    ),
    operation: new HistogramFamily(
      'gen_ai_client_operation_duration_seconds',
      'GenAI operation duration: a model exchange from request to the end of its answer.',
      ['gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model', 'error_type'],
      DURATION_BUCKETS,
      [plainLabel, providerText, plainLabel, errorText],
      registry,
    ),
    firstToken: new HistogramFamily(
      'gen_ai_server_time_to_first_token_seconds',
      'Time to the first chunk of a successful streamed answer, from the request arriving.',
      ['gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model'],
      FIRST_TOKEN_BUCKETS,
      [plainLabel, providerText],
      registry,
    ),
    perToken: new HistogramFamily(
      'gen_ai_server_time_per_output_token_seconds',
      'Time per output token after the first, for successful streamed answers.',
      ['gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model'],
      PER_TOKEN_BUCKETS,
      [plainLabel, providerText],
      registry,
    ),
    tokenUsage: new HistogramFamily(
      'gen_ai_client_token_usage',
      'Input and output tokens per exchange, as the provider reported them.',
      ['gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model', 'gen_ai_token_type'],
      TOKEN_BUCKETS,
      [plainLabel, providerText],
      registry,
    ),
    tokens: new CounterFamily(
      'ai_proxy_tokens_total',
      'Tokens by provider, model, client and type (input includes cached_input and cache_write_input; output includes reasoning).',
      ['provider', 'model', 'client', 'type', 'client_name'],
      [],
      registry,
    ),
    cost: new CounterFamily(
      'ai_proxy_cost_usd_total',
      'Cost in US dollars, by provider, model and client (answers with a known price).',
      ['provider', 'model', 'client', 'client_name'],
      [],
      registry,
    ),
    attempts: new CounterFamily(
      'ai_proxy_upstream_attempts_total',
      'Upstream attempts by provider, model, outcome (ok, status, timeout, connect, stream, invalid, too_large, aborted) and status.',
      ['provider', 'model', 'outcome', 'status'],
      [],
      registry,
    ),
    upstreamDuration: new HistogramFamily(
      'ai_proxy_upstream_duration_seconds',
      'One upstream attempt, from the call to its answer (a stream: to its first chunk), by provider, model and outcome.',
      ['provider', 'model', 'outcome'],
      DURATION_BUCKETS,
      [],
      registry,
    ),
    errors: new CounterFamily(
      'ai_proxy_upstream_errors_total',
      'Failed upstream attempts by provider and cause (status, timeout, connect, stream, invalid, too_large, aborted) and status.',
      ['provider', 'cause', 'status'],
      [],
      registry,
    ),
    fallbacks: new CounterFamily(
      'ai_proxy_fallbacks_total',
      'Exchanges that moved on to another target after a failure, by the provider left and the provider tried next.',
      ['from_provider', 'to_provider'],
      [],
      registry,
    ),
  };
}

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly families = families(this.registry);
  private readonly meters: SeriesIndex<ExchangeMeter>;
  private readonly attemptSeries: SeriesIndex<AttemptLeaves>;
  /** Managed keys' names by id, for the client_name label. */
  private readonly names = new Map<string, string>();

  constructor(sources: MetricsSources) {
    // The event-loop delay is sampled every 100 ms, not prom-client's 10: a 10 ms timer cost
    // 6.5 ms of CPU a second on an idle gateway (0.65% of a core, per worker); the percentiles stay.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
    this.meters = new SeriesIndex(5, (keys) => {
      const [route, provider, model, status, client] = keys as [
        string,
        string | null,
        string | null,
        number,
        string | null,
      ];
      return new ExchangeMeter(this, operationOf(route), provider, model, status, client, route);
    });
    const f = this.families;
    this.attemptSeries = new SeriesIndex(4, (keys) => {
      const [provider, model, outcome, status] = keys;
      return {
        attempts: f.attempts.at(provider, model, outcome, status),
        duration: f.upstreamDuration.at(provider, model, outcome),
        errors: outcome === 'ok' ? undefined : f.errors.at(provider, outcome, status),
      };
    });
    new ScrapedGauge(
      'ai_proxy_requests_in_flight',
      'Exchanges in progress.',
      () => [{ value: sources.activeRequests(), labels: {} }],
      'sum',
      this.registry,
    );
    new ScrapedGauge(
      'ai_proxy_request_log_queue_records',
      'Request-log records waiting to be written and accounted.',
      () => [{ value: sources.queuedRecords(), labels: {} }],
      'sum',
      this.registry,
    );
    registerKeyPoolGauges(this.registry, sources);
    joinCluster(this.registry);
  }

  clientName(client: LabelKey): string | undefined {
    return typeof client === 'string' ? this.names.get(client) : undefined;
  }

  /** An exchange is logged: count it; the returned meter takes its usage later. */
  exchange(base: Base, managedKey: ManagedKey | undefined): ExchangeMeter {
    const route = routeLabel(base.endpoint);
    let client = base.client_key_hash;
    if (managedKey !== undefined) {
      client = managedKey.id;
      if (this.names.get(client) !== managedKey.name) this.names.set(client, managedKey.name);
    }
    const provider = base.provider;
    const meter = this.meters.at(
      route,
      provider,
      provider === null ? null : base.model_mapped,
      base.status,
      client,
    );
    meter.requests.value += 1;
    meter.duration.observe(base.latency_ms / 1000);
    meter.operation?.observe(base.latency_ms / 1000);
    if (base.overhead_ms !== null) meter.overhead.observe(base.overhead_ms / 1000);
    if (base.stream && base.status < 400 && base.ttfb_ms !== null)
      meter.firstToken?.observe(base.ttfb_ms / 1000);
    const attempts = base.attempts;
    for (let i = 0; i < attempts.length; i++) {
      const attempt = attempts[i]!;
      const leaves = this.attemptSeries.at(attempt.provider, attempt.model, attempt.outcome, attempt.status);
      leaves.attempts.value += 1;
      leaves.duration.observe(attempt.duration_ms / 1000);
      if (leaves.errors !== undefined) leaves.errors.value += 1;
      const previous = i > 0 ? attempts[i - 1]! : undefined;
      if (
        previous !== undefined &&
        (previous.provider !== attempt.provider || previous.model !== attempt.model)
      ) {
        this.families.fallbacks.at(previous.provider, attempt.provider).value += 1;
      }
    }
    return meter;
  }

  /** The exposition: this process's, or under `serve --workers` the whole server's. */
  text(): Promise<string> {
    return cluster.isWorker ? clusterMetricsText() : this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
