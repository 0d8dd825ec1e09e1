// The log store's settings (seed 002's LOGDB_* flags), read from the environment.
import { ConfigError, type Env, envBool, envInt, envString } from './env-values.js';
import type { LogDbConfig } from './types.js';

export function readLogDbConfig(env: Env): LogDbConfig {
  const granularity = (envString(env, 'LOGDB_PARTITION_GRANULARITY') ?? 'daily').toLowerCase();
  if (granularity !== 'daily' && granularity !== 'weekly') {
    throw new ConfigError(
      `environment variable LOGDB_PARTITION_GRANULARITY: expected daily or weekly, got ${JSON.stringify(granularity)}`,
    );
  }
  return {
    enabled: envBool(env, 'LOGDB_ENABLED') ?? false,
    ftsEnabled: envBool(env, 'LOGDB_FTS_ENABLED') ?? false,
    groupingEnabled: envBool(env, 'LOGDB_GROUPING_ENABLED') ?? false,
    granularity,
    bundleIncludeRaw: envBool(env, 'LOGDB_BUNDLE_INCLUDE_RAW') ?? false,
    importParallelism: envInt(env, 'LOGDB_IMPORT_PARALLELISM', 1, 64) ?? 2,
    memoryCapMb: envInt(env, 'LOGDB_MEMORY_CAP_MB', 16, 65_536) ?? 256,
    ingestIntervalMs: envInt(env, 'LOGDB_INGEST_INTERVAL_MS', 50, 3_600_000) ?? 2000,
    dialogWindowMinutes: envInt(env, 'LOGDB_DIALOG_WINDOW_MINUTES', 1, 10_080) ?? 30,
  };
}
