// The log store's settings (seed 002's LOGDB_* flags), from the environment over the config
// file's `logdb:` section.
import { ConfigError, type Env, envBool, envInt, envString } from './env-values.js';
import type { FileConfig } from './file-schema.js';
import type { LogDbConfig } from './types.js';

function positive(days: number | undefined): number | undefined {
  return days === undefined || days === 0 ? undefined : days;
}

export function readLogDbConfig(env: Env, file: FileConfig['logdb'] = {}): LogDbConfig {
  const granularity = (
    envString(env, 'LOGDB_PARTITION_GRANULARITY') ??
    file.partition_granularity ??
    'daily'
  ).toLowerCase();
  if (granularity !== 'daily' && granularity !== 'weekly') {
    throw new ConfigError(
      `environment variable LOGDB_PARTITION_GRANULARITY: expected daily or weekly, got ${JSON.stringify(granularity)}`,
    );
  }
  return {
    enabled: envBool(env, 'LOGDB_ENABLED') ?? file.enabled ?? false,
    ftsEnabled: envBool(env, 'LOGDB_FTS_ENABLED') ?? file.fts_enabled ?? false,
    groupingEnabled: envBool(env, 'LOGDB_GROUPING_ENABLED') ?? file.grouping_enabled ?? false,
    granularity,
    bundleIncludeRaw: envBool(env, 'LOGDB_BUNDLE_INCLUDE_RAW') ?? file.bundle_include_raw ?? false,
    importParallelism: envInt(env, 'LOGDB_IMPORT_PARALLELISM', 1, 64) ?? file.import_parallelism ?? 2,
    memoryCapMb: envInt(env, 'LOGDB_MEMORY_CAP_MB', 16, 65_536) ?? file.memory_cap_mb ?? 256,
    ingestIntervalMs:
      envInt(env, 'LOGDB_INGEST_INTERVAL_MS', 50, 3_600_000) ?? file.ingest_interval_ms ?? 2000,
    dialogWindowMinutes:
      envInt(env, 'LOGDB_DIALOG_WINDOW_MINUTES', 1, 10_080) ?? file.dialog_window_minutes ?? 30,
    // Unset or 0: keep every partition.
    retentionDays: positive(envInt(env, 'LOGDB_RETENTION_DAYS', 0, 36_500) ?? file.retention_days),
    retentionArchiveDir: envString(env, 'LOGDB_RETENTION_ARCHIVE_DIR') ?? file.retention_archive_dir,
  };
}
