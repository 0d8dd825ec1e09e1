// What every `ai-proxy logs` command shares: the configuration (LOG_DIR, LOGDB_*), the partition
// root (--db, else LOG_DIR/db), date flags and one way to fail with a clear message.
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { DateArgError, defaultDbRoot, parseDay } from '../logstore/partitions.js';
import { SchemaVersionError } from '../logstore/schema.js';
import { configFailure } from './config-check.js';
import { fail } from './parse.js';

export interface LogsOptions {
  config?: string;
  db?: string;
}

export interface RangeOptions extends LogsOptions {
  since?: string;
  to?: string;
}

export interface LogsContext {
  config: Config;
  dbRoot: string;
}

/** Adds the options every logs command takes. */
export function withStoreOptions(command: Command): Command {
  return command
    .option('--config <path>', 'config file (YAML or JSON)')
    .option('--db <dir>', 'partition folder (default: LOG_DIR/db)');
}

export function withRange(command: Command): Command {
  return command
    .option('--since <YYYY-MM-DD>', 'first day (inclusive, UTC)')
    .option('--to <YYYY-MM-DD>', 'last day (inclusive, UTC)');
}

export function logsContext(options: LogsOptions): LogsContext {
  let config: Config;
  try {
    config = loadConfig({ configPath: options.config });
  } catch (error) {
    configFailure(error);
  }
  return { config, dbRoot: options.db ?? defaultDbRoot(config.log.dir) };
}

export function dateRange(options: RangeOptions): { since?: Date; to?: Date } {
  const since = options.since === undefined ? undefined : parseDay(options.since, '--since');
  const to = options.to === undefined ? undefined : parseDay(options.to, '--to');
  if (since !== undefined && to !== undefined && since > to) {
    throw new DateArgError(`--since ${options.since} is after --to ${options.to}`);
  }
  return { since, to };
}

/**
 * Runs a command body, turning the log store's expected failures (bad dates, bad queries, a newer
 * schema, a missing folder, SQLite refusing a file) into one clear line and a non-zero exit.
 */
export async function runLogsCommand(body: () => Promise<void> | void): Promise<void> {
  try {
    await body();
  } catch (error) {
    if (error instanceof DateArgError || error instanceof SchemaVersionError) fail(error.message);
    if (
      error instanceof Error &&
      /Error$/.test(error.name) &&
      error.name !== 'Error' &&
      error.name !== 'TypeError'
    ) {
      fail(error.message);
    }
    if (
      error instanceof Error &&
      'code' in error &&
      typeof error.code === 'string' &&
      error.code.startsWith('SQLITE_')
    ) {
      fail(`log store: ${error.message}`);
    }
    throw error;
  }
}
