// Where stored responses live and for how long: RESPONSES_TTL_DAYS / responses_ttl_days (default
// 30) and RESPONSES_DB_PATH / responses_db_path (the SQLite file when no REDIS_URL is set; default
// ./data/responses.sqlite3, relative to the working directory). The environment wins over the file.
import { resolve } from 'node:path';
import { type Env, envInt, envString } from '../config/env-values.js';
import type { FileConfig } from '../config/file-schema.js';
import type { ResponseStoreConfig } from '../config/types.js';

export const DEFAULT_RESPONSES_TTL_DAYS = 30;
export const DEFAULT_RESPONSES_DB_PATH = 'data/responses.sqlite3';
const DAY_MS = 86_400_000;

export function readResponseStoreConfig(env: Env, file: FileConfig, cwd: string): ResponseStoreConfig {
  const path = envString(env, 'RESPONSES_DB_PATH') ?? file.responses_db_path ?? DEFAULT_RESPONSES_DB_PATH;
  return {
    ttlDays:
      envInt(env, 'RESPONSES_TTL_DAYS', 1, 3650) ?? file.responses_ttl_days ?? DEFAULT_RESPONSES_TTL_DAYS,
    dbPath: resolve(cwd, path),
  };
}

/** How long a stored response is kept, in milliseconds. */
export function responseTtlMs(config: ResponseStoreConfig): number {
  return config.ttlDays * DAY_MS;
}
