// The shape of config.yml / config.json as users write it (snake_case, seed-compatible). Validated
// once at start; the loader turns it into the typed Config the rest of the code uses.
import { z } from 'zod';

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
/** A byte size: a number of bytes, or `10mb`, `512kb`… as parseSize reads it. */
const sizeSetting = z.union([positiveInt, z.string().regex(/^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i)]);

export const keyLimitsSchema = z.object({
  max_request_min: positiveInt.optional(),
  max_request_day: positiveInt.optional(),
  max_token_min: positiveInt.optional(),
  max_token_day: positiveInt.optional(),
});

const keyEntrySchema = z.union([
  z.string().min(1),
  keyLimitsSchema.extend({ key: z.string().min(1), id: z.string().min(1).optional() }),
]);

const protocolSchema = z.enum(['openai', 'anthropic', 'gemini', 'cohere', 'ideogram']);

export const providerFileSchema = keyLimitsSchema.extend({
  protocol: protocolSchema.optional(),
  base_url: z.url().optional(),
  api_key: z.string().min(1).optional(),
  keys: z.array(keyEntrySchema).optional(),
  /** The model used when the provider is reached through PROVIDERS_PRIORITY with no model. */
  model: z.string().min(1).optional(),
  /** Models listed in /v1/models for this provider. */
  models: z.array(z.string().min(1)).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  enabled: z.boolean().optional(),
  /** It serves the OpenAI Responses API (POST /responses) itself: /v1/responses passes through. */
  responses: z.boolean().optional(),
});

/** Seed 003's `provider_keys` entries, accepted exactly as written there. */
const seedProviderKeysSchema = keyLimitsSchema.extend({
  provider: z.string().min(1),
  key: z.union([z.string().min(1), z.array(z.string().min(1))]),
});

const mappingTargetSchema = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const durationMs = nonNegativeInt;

export const fileConfigSchema = z.object({
  host: z.string().min(1).optional(),
  port: z.number().int().min(0).max(65535).optional(),
  access_key: z.string().min(1).optional(),
  api_keys: z.array(z.string().min(1)).optional(),
  /** Client keys that also see every client's totals in /v1/usage (ADMIN_KEYS). */
  admin_keys: z.array(z.string().min(1)).optional(),
  default_provider: z.string().min(1).optional(),
  model_mappings: z.record(z.string(), mappingTargetSchema).optional(),
  providers_priority: z.union([z.array(z.string().min(1)), z.string()]).optional(),
  providers: z.record(z.string(), providerFileSchema).optional(),
  'auto-models': z.array(z.string().min(1)).optional(),
  auto_models: z.array(z.string().min(1)).optional(),
  model_usage_gap_percentage: z.number().min(0).max(100).optional(),
  provider_keys: z.array(seedProviderKeysSchema).optional(),
  prices: z
    .record(
      z.string(),
      z.object({
        prompt_1k: z.number().nonnegative(),
        completion_1k: z.number().nonnegative(),
        cache_read_1k: z.number().nonnegative().optional(),
        cache_write_1k: z.number().nonnegative().optional(),
        reasoning_1k: z.number().nonnegative().optional(),
      }),
    )
    .optional(),
  /** Prices from the bundled table (@pydantic/genai-prices) for models without one; default true. */
  price_table: z.boolean().optional(),
  model_list_url: z.url({ protocol: /^https?$/ }).optional(),
  model_list_auth_token: z.string().min(1).optional(),
  model_list_refresh_seconds: z.number().int().min(1).max(86_400).optional(),
  /** How often each provider's own model list is fetched for /v1/models; 0 turns it off. */
  models_refresh_seconds: z.number().int().min(0).max(86_400).optional(),
  logdb: z
    .object({
      enabled: z.boolean().optional(),
      fts_enabled: z.boolean().optional(),
      grouping_enabled: z.boolean().optional(),
      partition_granularity: z.enum(['daily', 'weekly']).optional(),
      bundle_include_raw: z.boolean().optional(),
      import_parallelism: z.number().int().min(1).max(64).optional(),
      memory_cap_mb: z.number().int().min(16).max(65_536).optional(),
      ingest_interval_ms: z.number().int().min(50).max(3_600_000).optional(),
      dialog_window_minutes: z.number().int().min(1).max(10_080).optional(),
      retention_days: z.number().int().min(0).max(36_500).optional(),
      retention_archive_dir: z.string().min(1).optional(),
    })
    .strict()
    .optional(),
  redis_url: z
    .string()
    .regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL')
    .optional(),
  redis_key_prefix: z.string().min(1).optional(),
  redis_fail_mode: z.enum(['open', 'closed']).optional(),
  redis_command_timeout_ms: z.number().int().min(10).max(60_000).optional(),
  usage_state_file: z.string().min(1).optional(),
  usage_snapshot_seconds: positiveInt.optional(),
  responses_ttl_days: z.number().int().min(1).max(3650).optional(),
  responses_db_path: z.string().min(1).optional(),
  /** KEYS_DB_PATH: the managed client keys' SQLite file (when no REDIS_URL is set). */
  keys_db_path: z.string().min(1).optional(),
  timeouts: z
    .object({
      connect_ms: durationMs.optional(),
      first_byte_ms: durationMs.optional(),
      total_ms: durationMs.optional(),
      idle_ms: durationMs.optional(),
    })
    .optional(),
  retry: z
    .object({
      max_attempts: positiveInt.optional(),
      retries_per_target: nonNegativeInt.optional(),
      backoff_ms: nonNegativeInt.optional(),
      max_backoff_ms: nonNegativeInt.optional(),
    })
    .optional(),
  body_limit: z.union([positiveInt, z.string().regex(/^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i)]).optional(),
  response_limit: sizeSetting.optional(),
  error_body_limit: sizeSetting.optional(),
  log_stream_limit: sizeSetting.optional(),
  log_level: z.string().optional(),
  log_dir: z.string().min(1).optional(),
  log_bodies: z.boolean().optional(),
  server_id: z.string().min(1).optional(),
  /** Native TLS (TLS_CERT_FILE, TLS_KEY_FILE, HSTS_MAX_AGE): see config/tls.ts. */
  tls_cert_file: z.string().min(1).optional(),
  tls_key_file: z.string().min(1).optional(),
  hsts_max_age: z.number().int().min(0).max(63_072_000).optional(),
});

export type FileConfig = z.infer<typeof fileConfigSchema>;
export type ProviderFileConfig = z.infer<typeof providerFileSchema>;
export type KeyLimits = z.infer<typeof keyLimitsSchema>;

export const KNOWN_TOP_LEVEL_KEYS: ReadonlySet<string> = new Set(Object.keys(fileConfigSchema.shape));
