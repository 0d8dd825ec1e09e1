// The long-lived parts of a running gateway: the current state (swapped on reload), upstream
// pools, key pools, the request log, stored responses, the process logger and the server's identity.
import cluster from 'node:cluster';
import type { Logger } from 'pino';
import { Catalog } from '../catalog/catalog.js';
import type { Config } from '../config/types.js';
import type { ExchangeSignal } from '../gateway/exchange-signal.js';
import { UpstreamPools } from '../gateway/upstream-pools.js';
import { KeyPools } from '../keys/key-pool.js';
import { createLimitState, type LimitState } from '../keys/limit-store-factory.js';
import { MemoryLimitStore } from '../keys/memory-limit-store.js';
import { setLoggerLevel } from '../logs/process-logger.js';
import { RequestLog } from '../logs/request-log.js';
import { loadServerIdentity, type ServerIdentity } from '../logs/server-identity.js';
import { BackgroundIngest } from '../logstore/background-ingest.js';
import { type BudgetState, createBudgetState } from '../managed-keys/budget-store-factory.js';
import type { KeyStore } from '../managed-keys/key-store.js';
import { createKeyStore } from '../managed-keys/key-store-factory.js';
import { IngestMetrics } from '../observability/ingest-metrics.js';
import { GatewayMetrics } from '../observability/metrics.js';
import type { Tracing } from '../observability/tracing.js';
import type { ResponseStore } from '../responses/response-store.js';
import { createResponseStore } from '../responses/response-store-factory.js';
import { responseTtlMs } from '../responses/settings.js';
import { ProviderModels } from '../routing/provider-models.js';
import type { RoutingExtensions } from '../routing/router.js';
import { accountingFor } from '../usage/accounting.js';
import { Pricing } from '../usage/pricing.js';
import { VERSION } from '../version.js';
import { ConsoleQueryRunner } from './console-query-runner.js';
import { buildState, type GatewayState } from './gateway-state.js';

/** A list page is bounded like a model call's first byte, and never longer than 10 s. */
function modelListSettings(config: Config) {
  return {
    refreshSeconds: config.modelsRefreshSeconds,
    timeoutMs: Math.min(10_000, config.timeouts.firstByteMs),
  };
}

export class Runtime {
  state: GatewayState;
  readonly pools: UpstreamPools;
  readonly keys: KeyPools;
  readonly limitState: LimitState;
  readonly pricing: Pricing;
  readonly requestLog: RequestLog;
  readonly identity: ServerIdentity;
  /** The log store's background ingest, when LOGDB_ENABLED=true. */
  readonly logStore: BackgroundIngest | undefined;
  readonly startedAt = Date.now();
  /** The remote model catalog; kept across reloads, refreshed on its own timer. */
  readonly catalog: Catalog;
  /** Each configured provider's own model list, for /v1/models; refreshed on its own timer. */
  readonly providerModels: ProviderModels;
  /** Stored Responses API responses (SQLite, or Redis with REDIS_URL); opened on first use. */
  readonly responses: ResponseStore;
  /** Managed client keys (SQLite, or Redis with REDIS_URL); other processes' changes seen within a second. */
  readonly managedKeys: KeyStore;
  /** Managed keys' limits and budgets (memory with a snapshot, or Redis). */
  readonly budgets: BudgetState;
  /** The web console's log-store reads, in their own thread (started by the first). */
  readonly consoleQueries: ConsoleQueryRunner;
  /** The exchanges in flight, each by its signal: a stop past its grace period cuts them. */
  private readonly inFlight = new Set<ExchangeSignal>();
  /** Set when a graceful stop begins: new requests get 503 shutting_down. */
  closing = false;
  /** Prometheus metrics (METRICS_ENABLED, default on). */
  readonly metrics: GatewayMetrics | undefined;
  /** OpenTelemetry traces, when an OTLP endpoint is set; loaded only then (`tracingReady`). */
  tracing: Tracing | undefined;
  readonly tracingReady: Promise<void>;

  constructor(
    config: Config,
    readonly logger: Logger,
  ) {
    this.limitState = createLimitState(config.limitState, logger);
    this.keys = new KeyPools(this.limitState.store, logger);
    this.pricing = new Pricing(config);
    this.catalog = new Catalog(logger);
    this.catalog.configure(config.catalog);
    this.pricing.addSource(this.catalog);
    this.state = buildState(config, this.routingExtensions());
    this.pools = new UpstreamPools({ connectTimeoutMs: config.timeouts.connectMs });
    this.providerModels = new ProviderModels({ pools: this.pools, logger });
    this.providerModels.configure(config.providers.values(), modelListSettings(config));
    this.identity = loadServerIdentity(config.log.dir, config.serverId);
    this.responses = createResponseStore(config, logger);
    this.managedKeys = createKeyStore(config, logger);
    this.budgets = createBudgetState(config.limitState, logger);
    this.consoleQueries = new ConsoleQueryRunner({
      onError: (error) => this.logger.error({ err: error }, 'console query thread'),
    });

    this.requestLog = new RequestLog({
      dir: config.log.dir,
      bodies: config.log.bodies,
      onError: (error) => this.logger.error({ err: error }, 'request log write failed'),
      account: accountingFor(this.keys, this.budgets.store),
    });
    const { observability } = config;
    this.metrics = observability.metricsEnabled
      ? new GatewayMetrics({
          config: () => this.state.config,
          store: () => this.keys.store,
          activeRequests: () => this.inFlight.size,
          queuedRecords: () => this.requestLog.queued,
        })
      : undefined;
    const tracing = observability.tracing;
    this.tracingReady =
      tracing === undefined
        ? Promise.resolve()
        : import('../observability/tracing.js').then(({ Tracing }) => {
            this.tracing = new Tracing(tracing, VERSION);
          });
    // Under `serve --workers`, the cluster's primary runs the ingest (src/cli/serve.ts).
    const ingestMetrics =
      this.metrics !== undefined && config.logdb.enabled && !cluster.isWorker
        ? new IngestMetrics(this.metrics.registry)
        : undefined;
    if (config.logdb.enabled && !cluster.isWorker) {
      this.logStore = new BackgroundIngest({
        logDir: config.log.dir,
        config: config.logdb,
        onError: (error) => this.logger.error({ err: error }, 'log store ingest failed'),
        onRun: (run) => {
          ingestMetrics?.onRun(run);
          if (run.inserted > 0) this.logger.debug(run, 'log store ingest');
        },
      });
      this.logStore.start();
    }
  }

  /**
   * Rule 4 asks the catalog; auto-model puts models whose provider has headroom first (the memory
   * store knows exactly; in Redis mode a provider without headroom is simply skipped in turn).
   */
  private routingExtensions(): RoutingExtensions {
    const extensions: RoutingExtensions = { catalog: (model) => this.catalog.targetsFor(model) };
    const store = this.limitState.store;
    if (store instanceof MemoryLimitStore) {
      extensions.hasHeadroom = (provider) =>
        provider.keys.length === 0 || store.hasHeadroom(provider.keys, Date.now());
    }
    return extensions;
  }

  /** How many managed keys exist (revoked included): one is enough for the gateway to need keys. */
  get managedKeyCount(): number {
    return this.managedKeys.size;
  }

  get config(): Config {
    return this.state.config;
  }

  /** How long a stored response is kept (RESPONSES_TTL_DAYS). */
  get responsesTtlMs(): number {
    return responseTtlMs(this.state.config.responseStore);
  }

  /** Swaps in a new configuration; requests in flight finish with the one they started with. */
  reload(config: Config): void {
    const previous = this.state.config;
    if (config.host !== previous.host || config.port !== previous.port) {
      this.logger.warn('host and port changes take effect on restart, not on reload');
    }
    if (config.log.dir !== previous.log.dir) {
      this.logger.warn('LOG_DIR changes take effect on restart, not on reload');
    }
    if (config.limitState.redisUrl !== previous.limitState.redisUrl) {
      this.logger.warn('REDIS_URL changes take effect on restart, not on reload');
    }
    this.catalog.configure(config.catalog);
    this.state = buildState(config, this.routingExtensions());
    this.pricing.update(config);
    this.pools.update({ connectTimeoutMs: config.timeouts.connectMs });
    this.providerModels.configure(config.providers.values(), modelListSettings(config));
    setLoggerLevel(this.logger, config.log.level);
    for (const warning of config.warnings) this.logger.warn(warning);
  }

  enter(signal: ExchangeSignal): void {
    this.inFlight.add(signal);
  }

  leave(signal: ExchangeSignal): void {
    this.inFlight.delete(signal);
  }

  get activeRequests(): number {
    return this.inFlight.size;
  }

  /** Ends every exchange in flight (a stream gets its error event and end); returns how many. */
  cutInFlight(): number {
    const count = this.inFlight.size;
    for (const signal of this.inFlight) signal.shutdown();
    return count;
  }

  async close(): Promise<void> {
    // The server is closed: no console page waits for a query any more.
    await this.consoleQueries.close();
    this.catalog.close();
    this.providerModels.close();
    await this.requestLog.close();
    // After the flush: the last records' spans ended when their usage was accounted.
    await this.tracing?.shutdown();
    // After the flush, so the last pass stores every record the log has.
    await this.logStore?.stop();
    // After the log's flush: the last records settled their reservations.
    this.limitState.snapshots?.close();
    await this.keys.close();
    // After the log's flush: the last records settled their client-key reservations.
    this.budgets.snapshots?.close();
    await this.budgets.store.close();
    await this.managedKeys.close();
    await this.responses.close();
    await this.pools.close();
  }
}
