// Where managed client keys live when no REDIS_URL is set: KEYS_DB_PATH / keys_db_path, default
// ./data/keys.sqlite3, relative to the working directory. The environment wins over the file.
import { resolve } from 'node:path';
import { type Env, envString } from '../config/env-values.js';
import type { FileConfig } from '../config/file-schema.js';
import type { ManagedKeysConfig } from '../config/types.js';

export const DEFAULT_KEYS_DB_PATH = 'data/keys.sqlite3';

export function readManagedKeysConfig(env: Env, file: FileConfig, cwd: string): ManagedKeysConfig {
  const path = envString(env, 'KEYS_DB_PATH') ?? file.keys_db_path ?? DEFAULT_KEYS_DB_PATH;
  return { dbPath: resolve(cwd, path) };
}
