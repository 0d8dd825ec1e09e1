// The resolved, typed configuration: every source merged and validated. Plain data only.
import type { ObservabilityConfig } from '../observability/settings.js';
import type { AuthStyle, Protocol } from '../providers/registry.js';
import type { KeyLimits } from './file-schema.js';

export type LogLevelName = 'debug' | 'info' | 'warning' | 'error' | 'critical' | 'none';

export interface ProviderKey {
  /** Stable id that reveals nothing of the key; safe for headers, logs and /v1/usage. */
  id: string;
  key: string;
  limits: KeyLimits;
}

export interface ProviderConfig {
  name: string;
  protocol: Protocol;
  baseUrl: string;
  auth: AuthStyle;
  headers: Record<string, string>;
  families: string[];
  aliases: string[];
  keys: ProviderKey[];
  keyOptional: boolean;
  /** Has what it needs to be called (a key, or a key is optional and it was asked for). */
  configured: boolean;
  defaultModel: string | undefined;
  models: string[];
  builtin: boolean;
  /**
   * The exact upstream path (a catalog model's handle): replaces the base URL's path and the
   * translator's path; a custom method such as Gemini's `:streamGenerateContent` still follows
   * the request (see providers/fixed-path.ts).
   */
  fixedPath?: string;
  /** An image model (a catalog image family): it serves /v1/images/generations only. */
  imagesOnly?: boolean;
  /**
   * An OpenAI-protocol provider that serves the Responses API itself (`POST /responses`, stored
   * responses): /v1/responses passes through to it; without it the gateway bridges to chat.
   */
  responses?: boolean;
}

export interface MappingRule {
  pattern: string;
  /** Each entry is `provider:model` or a bare model for the default provider. */
  targets: string[];
}

export interface TimeoutConfig {
  connectMs: number;
  firstByteMs: number;
  totalMs: number;
  idleMs: number;
}

export interface RetryConfig {
  maxAttempts: number;
  retriesPerTarget: number;
  backoffMs: number;
  maxBackoffMs: number;
}

export interface LogConfig {
  level: LogLevelName;
  dir: string;
  bodies: boolean;
  /** The request log keeps at most this much of a stream (its start and its end), marked truncated. */
  streamLimitBytes: number;
}

/** The log store (SPEC §8, seed 002's LOGDB_* flags). */
export interface LogDbConfig {
  enabled: boolean;
  ftsEnabled: boolean;
  groupingEnabled: boolean;
  granularity: 'daily' | 'weekly';
  bundleIncludeRaw: boolean;
  importParallelism: number;
  memoryCapMb: number;
  /** How often the in-server ingest looks for new request-log lines. */
  ingestIntervalMs: number;
  dialogWindowMinutes: number;
  /** Partitions (and their request-log files) older than this many days are pruned daily. */
  retentionDays?: number;
  /** Where the daily prune bundles each partition before deleting it. */
  retentionArchiveDir?: string;
}

/**
 * Dollars per 1k tokens of each kind. The optional rates fall back: cache reads and writes to
 * prompt1k (no discount is assumed), reasoning to completion1k.
 */
export interface PriceRates {
  prompt1k: number;
  completion1k: number;
  /** Prompt tokens read from the provider's prompt cache. */
  cacheRead1k?: number;
  /** Prompt tokens written to the provider's prompt cache. */
  cacheWrite1k?: number;
  /** Completion tokens spent on reasoning (thinking), a part of the completion. */
  reasoning1k?: number;
}

/** Rates that replace a price's base rates when the prompt has more than `above` tokens. */
export interface PriceTier extends PriceRates {
  above: number;
}

/** A model's price: base rates, and long-prompt tiers (ascending by `above`) where a model has them. */
export interface Price extends PriceRates {
  tiers?: PriceTier[];
}

/** Where key limits and usage live (SPEC §6). */
export interface LimitStateConfig {
  /** Set: counters live in Redis, shared by every instance. Unset: in memory, snapshotted to disk. */
  redisUrl: string | undefined;
  redisPrefix: string;
  /** While Redis is unreachable: count locally (open) or refuse with 503 (closed). */
  redisFailMode: 'open' | 'closed';
  snapshotFile: string;
  snapshotIntervalMs: number;
  /** A Redis command that has not answered by then counts as Redis being away. */
  redisCommandTimeoutMs: number;
  /**
   * BUDGET_STORE, without Redis: where managed client keys' limits and budgets are counted. Unset:
   * SQLite under `serve --workers` (one file the workers share), memory in a single process.
   */
  budgetStore?: 'memory' | 'sqlite' | undefined;
}

/** Stored Responses API responses (src/responses/settings.ts reads them). */
export interface ResponseStoreConfig {
  /** RESPONSES_TTL_DAYS: a stored response is forgotten this many days after it was made. */
  ttlDays: number;
  /** RESPONSES_DB_PATH, absolute: the SQLite store's file (used when no REDIS_URL is set). */
  dbPath: string;
}

/** Managed client keys (src/managed-keys/settings.ts reads them). */
export interface ManagedKeysConfig {
  /** KEYS_DB_PATH, absolute: the SQLite key store's file (used when no REDIS_URL is set). */
  dbPath: string;
}

/** Native TLS (src/config/tls.ts reads it): HTTPS without a proxy in front. */
export interface TlsConfig {
  /** Absolute paths of the PEM certificate chain and its private key. */
  certFile: string;
  keyFile: string;
  /** Strict-Transport-Security max-age in seconds; 0 sends no header. */
  hstsMaxAgeSeconds: number;
}

/** The remote model catalog (seed 001): where it is, its OAuth token, how often to refresh it. */
export interface CatalogSettings {
  url: string;
  authToken: string | undefined;
  refreshSeconds: number;
}

export interface Config {
  host: string;
  port: number;
  /** Where the config came from, for messages and `config check`. */
  sources: string[];
  configFile: string | undefined;
  clientKeys: string[];
  /** ADMIN_KEYS / admin_keys: also in clientKeys; they see every client's totals in /v1/usage. */
  adminKeys: string[];
  defaultProvider: string | undefined;
  exactMappings: Map<string, string[]>;
  wildcardMappings: MappingRule[];
  providersPriority: string[];
  providers: Map<string, ProviderConfig>;
  autoModels: string[];
  modelUsageGapPercentage: number;
  prices: Map<string, Price>;
  /** PRICE_TABLE / price_table: models without a configured or catalog price priced from the bundled table. */
  priceTable: boolean;
  limitState: LimitStateConfig;
  responseStore: ResponseStoreConfig;
  managedKeys: ManagedKeysConfig;
  /** MODEL_LIST_URL and friends; undefined when no catalog is configured. */
  catalog: CatalogSettings | undefined;
  /** MODELS_REFRESH_SECONDS: how often each provider's own model list is fetched; 0 turns it off. */
  modelsRefreshSeconds: number;
  timeouts: TimeoutConfig;
  retry: RetryConfig;
  bodyLimitBytes: number;
  /** The largest non-stream upstream answer read into memory; past it the exchange is a 502. */
  responseLimitBytes: number;
  /** At most this much of an upstream error body is read; the rest is left unread. */
  errorBodyLimitBytes: number;
  log: LogConfig;
  logdb: LogDbConfig;
  serverId: string | undefined;
  /** Prometheus metrics and OpenTelemetry traces (observability/settings.ts). */
  observability: ObservabilityConfig;
  /** TLS_CERT_FILE + TLS_KEY_FILE: the gateway serves HTTPS itself; undefined: plain HTTP. */
  tls: TlsConfig | undefined;
  warnings: string[];
}
