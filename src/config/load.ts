// Loads the configuration: defaults < config file < .env < environment < CLI flags, validated once.
// Every error names its source (file and key, or variable) and what was expected.
import { existsSync, readFileSync } from 'node:fs';
import { extname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { readManagedKeysConfig } from '../managed-keys/settings.js';
import { readObservabilityConfig } from '../observability/settings.js';
import { BUILTIN_PROVIDERS } from '../providers/registry.js';
import { readResponseStoreConfig } from '../responses/settings.js';
import { buildProviders, canonicalProviderName } from './build-providers.js';
import { collectClientKeys } from './client-keys.js';
import {
  ConfigError,
  type Env,
  envBool,
  envInt,
  envList,
  envString,
  parseLogLevel,
  parseSize,
} from './env-values.js';
import { type FileConfig, fileConfigSchema, KNOWN_TOP_LEVEL_KEYS } from './file-schema.js';
import { readLogDbConfig } from './logdb.js';
import { readTlsConfig } from './tls.js';
import type { CatalogSettings, Config, MappingRule, Price } from './types.js';

export { ConfigError } from './env-values.js';

export interface CliFlags {
  host?: string;
  port?: number;
  logLevel?: string;
}

export interface LoadOptions {
  cwd?: string;
  /** The process environment; `.env` in cwd fills what it lacks. */
  env?: Env;
  /** `--config`; else CONFIG_PATH; else ./config.yml, ./config.yaml, ./config.json. */
  configPath?: string;
  flags?: CliFlags;
}

export const DEFAULT_PORT = 8123;
export const DEFAULT_HOST = '127.0.0.1';

function readDotenv(cwd: string): Env {
  const path = join(cwd, '.env');
  if (!existsSync(path)) return {};
  return parseDotenv(readFileSync(path));
}

function findConfigFile(cwd: string, explicit: string | undefined): string | undefined {
  if (explicit !== undefined) {
    const path = isAbsolute(explicit) ? explicit : resolve(cwd, explicit);
    if (!existsSync(path)) throw new ConfigError(`config file ${explicit}: not found`);
    return path;
  }
  for (const name of ['config.yml', 'config.yaml', 'config.json']) {
    const path = join(cwd, name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

function formatIssue(file: string, issue: z.core.$ZodIssue): string {
  const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
  return `${file}: ${path}: ${issue.message}`;
}

function readConfigFile(path: string): { file: FileConfig; keys: string[] } {
  const text = readFileSync(path, 'utf8');
  let raw: unknown;
  try {
    raw = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ConfigError(`${path}: cannot be parsed: ${(error as Error).message}`);
  }
  if (raw === null || raw === undefined) return { file: {}, keys: [] };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${path}: expected a mapping of settings at the top level`);
  }
  const result = fileConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => formatIssue(path, issue)).join('\n'));
  }
  return { file: result.data, keys: Object.keys(raw) };
}

function splitMappings(mappings: Record<string, string | string[]> | undefined) {
  const exact = new Map<string, string[]>();
  const wildcards: MappingRule[] = [];
  // Object key order is file order for string keys, which is what "first match wins" needs.
  for (const [pattern, value] of Object.entries(mappings ?? {})) {
    const targets = Array.isArray(value) ? value : [value];
    if (pattern.includes('*')) wildcards.push({ pattern, targets });
    else exact.set(pattern, targets);
  }
  return { exact, wildcards };
}

function canonicalPriority(list: string[], where: string): string[] {
  return list.map((name) => {
    const lower = name.toLowerCase();
    const builtin = BUILTIN_PROVIDERS.find((p) => p.name === lower || p.aliases?.includes(lower));
    if (builtin === undefined && !/^[a-z0-9][a-z0-9_.-]*$/i.test(name)) {
      throw new ConfigError(`${where}: ${JSON.stringify(name)} is not a provider name`);
    }
    return builtin?.name ?? name;
  });
}

function readPrices(file: FileConfig): Map<string, Price> {
  const prices = new Map<string, Price>();
  for (const [model, price] of Object.entries(file.prices ?? {})) {
    const entry: Price = { prompt1k: price.prompt_1k, completion1k: price.completion_1k };
    // Only the cache rates given: an absent one is priced at prompt_1k (see costOf).
    if (price.cache_read_1k !== undefined) entry.cacheRead1k = price.cache_read_1k;
    if (price.cache_write_1k !== undefined) entry.cacheWrite1k = price.cache_write_1k;
    // Absent: reasoning tokens cost what the rest of the completion costs.
    if (price.reasoning_1k !== undefined) entry.reasoning1k = price.reasoning_1k;
    prices.set(model, entry);
  }
  return prices;
}

function readLimitState(env: Env, file: FileConfig, cwd: string, logDir: string) {
  const redisUrl = envString(env, 'REDIS_URL') ?? file.redis_url;
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    throw new ConfigError(`environment variable REDIS_URL: expected a redis:// or rediss:// URL`);
  }
  const failMode = envString(env, 'REDIS_FAIL_MODE')?.toLowerCase() ?? file.redis_fail_mode ?? 'open';
  if (failMode !== 'open' && failMode !== 'closed') {
    throw new ConfigError(
      `environment variable REDIS_FAIL_MODE: expected open or closed, got ${JSON.stringify(failMode)}`,
    );
  }
  const stateFile = envString(env, 'USAGE_STATE_FILE') ?? file.usage_state_file;
  const budgetStore = envString(env, 'BUDGET_STORE')?.toLowerCase();
  if (budgetStore !== undefined && budgetStore !== 'memory' && budgetStore !== 'sqlite') {
    throw new ConfigError(
      `environment variable BUDGET_STORE: expected memory or sqlite, got ${JSON.stringify(budgetStore)}`,
    );
  }
  return {
    redisUrl,
    redisPrefix: envString(env, 'REDIS_KEY_PREFIX') ?? file.redis_key_prefix ?? 'ai-proxy:',
    redisFailMode: failMode as 'open' | 'closed',
    redisCommandTimeoutMs:
      envInt(env, 'REDIS_COMMAND_TIMEOUT_MS', 10, 60_000) ?? file.redis_command_timeout_ms ?? 500,
    snapshotFile: stateFile === undefined ? join(logDir, 'state', 'key-usage.json') : resolve(cwd, stateFile),
    snapshotIntervalMs:
      (envInt(env, 'USAGE_SNAPSHOT_SECONDS', 1, 86_400) ?? file.usage_snapshot_seconds ?? 5) * 1000,
    budgetStore: budgetStore as 'memory' | 'sqlite' | undefined,
  };
}

/** A byte size from the environment (wins) or the file, e.g. RESPONSE_LIMIT / response_limit. */
function sizeOf(
  env: Env,
  variable: string,
  fileValue: string | number | undefined,
  where: string,
  fallback: number,
): number {
  const fromEnv = envString(env, variable);
  if (fromEnv !== undefined) return parseSize(fromEnv, `environment variable ${variable}`);
  return fileValue === undefined ? fallback : parseSize(fileValue, where);
}

/** MODEL_LIST_URL, MODEL_LIST_AUTH_TOKEN, MODEL_LIST_REFRESH_SECONDS (seed 001); no URL is built in. */
function readCatalogSettings(env: Env, file: FileConfig): CatalogSettings | undefined {
  const url = envString(env, 'MODEL_LIST_URL') ?? file.model_list_url;
  if (url === undefined) return undefined;
  let scheme: string | undefined;
  try {
    scheme = new URL(url).protocol;
  } catch {
    scheme = undefined;
  }
  if (scheme !== 'http:' && scheme !== 'https:') {
    throw new ConfigError(
      `environment variable MODEL_LIST_URL: expected an http(s) URL, got ${JSON.stringify(url)}`,
    );
  }
  return {
    url,
    authToken: envString(env, 'MODEL_LIST_AUTH_TOKEN') ?? file.model_list_auth_token,
    refreshSeconds:
      envInt(env, 'MODEL_LIST_REFRESH_SECONDS', 1, 86_400) ?? file.model_list_refresh_seconds ?? 300,
  };
}

export function loadConfig(options: LoadOptions = {}): Config {
  const cwd = options.cwd ?? process.cwd();
  const dotenv = readDotenv(cwd);
  const processEnv = options.env ?? process.env;
  try {
    return resolveConfig(options, cwd, { ...dotenv, ...processEnv });
  } catch (error) {
    throw error instanceof ConfigError ? blameDotenv(error, join(cwd, '.env'), dotenv, processEnv) : error;
  }
}

/**
 * The value readers say "environment variable NAME"; a value that came from `.env` (and not from
 * the real environment, which wins) is named as coming from that file, with its path.
 */
function blameDotenv(error: ConfigError, path: string, dotenv: Env, processEnv: Env): ConfigError {
  const message = error.message.replace(/environment variable ([A-Z0-9_]+)/g, (whole, name: string) =>
    dotenv[name] !== undefined && processEnv[name] === undefined ? `.env file ${path}: ${name}` : whole,
  );
  return message === error.message ? error : new ConfigError(message);
}

function resolveConfig(options: LoadOptions, cwd: string, env: Env): Config {
  const flags = options.flags ?? {};
  const configFile = findConfigFile(cwd, options.configPath ?? envString(env, 'CONFIG_PATH'));
  const { file, keys: fileKeys } =
    configFile === undefined ? { file: {}, keys: [] } : readConfigFile(configFile);
  const fileName = configFile ?? 'config';
  const warnings: string[] = [];
  for (const key of fileKeys) {
    if (!KNOWN_TOP_LEVEL_KEYS.has(key))
      warnings.push(`${fileName}: unknown key ${JSON.stringify(key)} ignored`);
  }

  const envPriority = envList(env, 'PROVIDERS_PRIORITY');
  const filePriority =
    typeof file.providers_priority === 'string'
      ? file.providers_priority
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')
      : file.providers_priority;
  const providersPriority = canonicalPriority(
    envPriority ?? filePriority ?? [],
    envPriority ? 'environment variable PROVIDERS_PRIORITY' : `${fileName}: providers_priority`,
  );

  const providers = buildProviders({ file, fileName, env, priority: new Set(providersPriority) });
  for (const name of providersPriority) {
    if (!providers.has(name)) {
      throw new ConfigError(
        `PROVIDERS_PRIORITY: unknown provider ${JSON.stringify(name)}; expected one of ${[...providers.keys()].join(', ')}`,
      );
    }
  }

  const rawDefault = envString(env, 'DEFAULT_PROVIDER') ?? file.default_provider;
  let defaultProvider: string | undefined;
  if (rawDefault !== undefined) {
    defaultProvider = canonicalProviderName(providers, rawDefault);
    if (defaultProvider === undefined) {
      throw new ConfigError(
        `${fileName}: default_provider: unknown provider ${JSON.stringify(rawDefault)}; expected one of ${[...providers.keys()].join(', ')}`,
      );
    }
  } else if (providers.get('openrouter')?.configured) {
    defaultProvider = 'openrouter';
  }

  const { exact, wildcards } = splitMappings(file.model_mappings);
  const levelSource = flags.logLevel ?? envString(env, 'LOG_LEVEL') ?? file.log_level;
  const logDir = envString(env, 'LOG_DIR') ?? file.log_dir ?? 'logs';
  const bodyLimitRaw = envString(env, 'BODY_LIMIT') ?? file.body_limit;

  return {
    host: flags.host ?? envString(env, 'HOST') ?? file.host ?? DEFAULT_HOST,
    port: flags.port ?? envInt(env, 'PORT', 0, 65535) ?? file.port ?? DEFAULT_PORT,
    sources: [configFile, existsSync(join(cwd, '.env')) ? join(cwd, '.env') : undefined].filter(
      (s): s is string => s !== undefined,
    ),
    configFile,
    clientKeys: collectClientKeys({
      envKeys: envList(env, 'API_KEYS'),
      accessKey: file.access_key,
      apiKeys: file.api_keys,
      adminKeys: envList(env, 'ADMIN_KEYS') ?? file.admin_keys,
      cwd,
    }),
    adminKeys: envList(env, 'ADMIN_KEYS') ?? file.admin_keys ?? [],
    defaultProvider,
    exactMappings: exact,
    wildcardMappings: wildcards,
    providersPriority,
    providers,
    autoModels: file['auto-models'] ?? file.auto_models ?? [],
    modelUsageGapPercentage: file.model_usage_gap_percentage ?? 5,
    prices: readPrices(file),
    priceTable: envBool(env, 'PRICE_TABLE') ?? file.price_table ?? true,
    limitState: readLimitState(env, file, cwd, resolve(cwd, logDir)),
    responseStore: readResponseStoreConfig(env, file, cwd),
    managedKeys: readManagedKeysConfig(env, file, cwd),
    catalog: readCatalogSettings(env, file),
    modelsRefreshSeconds:
      envInt(env, 'MODELS_REFRESH_SECONDS', 0, 86_400) ?? file.models_refresh_seconds ?? 600,
    timeouts: {
      connectMs: envInt(env, 'TIMEOUT_CONNECT_MS', 1, 3_600_000) ?? file.timeouts?.connect_ms ?? 10_000,
      firstByteMs:
        envInt(env, 'TIMEOUT_FIRST_BYTE_MS', 1, 3_600_000) ?? file.timeouts?.first_byte_ms ?? 120_000,
      totalMs: envInt(env, 'TIMEOUT_TOTAL_MS', 1, 86_400_000) ?? file.timeouts?.total_ms ?? 600_000,
      idleMs: envInt(env, 'TIMEOUT_IDLE_MS', 1, 3_600_000) ?? file.timeouts?.idle_ms ?? 60_000,
    },
    retry: {
      maxAttempts: envInt(env, 'RETRY_MAX_ATTEMPTS', 1, 100) ?? file.retry?.max_attempts ?? 5,
      retriesPerTarget: envInt(env, 'RETRY_PER_TARGET', 0, 10) ?? file.retry?.retries_per_target ?? 1,
      backoffMs: envInt(env, 'RETRY_BACKOFF_MS', 0, 60_000) ?? file.retry?.backoff_ms ?? 100,
      maxBackoffMs: envInt(env, 'RETRY_MAX_BACKOFF_MS', 0, 600_000) ?? file.retry?.max_backoff_ms ?? 2_000,
    },
    bodyLimitBytes:
      bodyLimitRaw === undefined
        ? 10 * 1024 * 1024
        : parseSize(
            bodyLimitRaw,
            envString(env, 'BODY_LIMIT') ? 'environment variable BODY_LIMIT' : `${fileName}: body_limit`,
          ),
    responseLimitBytes: sizeOf(
      env,
      'RESPONSE_LIMIT',
      file.response_limit,
      `${fileName}: response_limit`,
      32 * 1024 * 1024,
    ),
    errorBodyLimitBytes: sizeOf(
      env,
      'ERROR_BODY_LIMIT',
      file.error_body_limit,
      `${fileName}: error_body_limit`,
      64 * 1024,
    ),
    log: {
      level:
        levelSource === undefined
          ? 'info'
          : parseLogLevel(
              levelSource,
              flags.logLevel
                ? '--log-level'
                : envString(env, 'LOG_LEVEL')
                  ? 'environment variable LOG_LEVEL'
                  : `${fileName}: log_level`,
            ),
      dir: resolve(cwd, logDir),
      bodies: envBool(env, 'LOG_BODIES') ?? file.log_bodies ?? true,
      streamLimitBytes: sizeOf(
        env,
        'LOG_STREAM_LIMIT',
        file.log_stream_limit,
        `${fileName}: log_stream_limit`,
        8 * 1024 * 1024,
      ),
    },
    logdb: readLogDbConfig(env, file.logdb),
    serverId: envString(env, 'SERVER_ID') ?? file.server_id,
    tls: readTlsConfig(env, file, cwd, fileName),
    observability: readObservabilityConfig(env),
    warnings,
  };
}
