// `ai-proxy serve` (alias run-server): start the gateway; SIGHUP reloads the configuration,
// SIGTERM/SIGINT stop gracefully (finish in-flight requests, flush the request log).
import cluster from 'node:cluster';
import { existsSync, type FSWatcher, type Stats, unwatchFile, watch, watchFile } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Registry } from 'prom-client';
import { FORWARDER_KEYS_FILE } from '../config/client-keys.js';
import { loadConfig } from '../config/load.js';
import { loadServerIdentity } from '../logs/server-identity.js';
import type { BackgroundIngest } from '../logstore/background-ingest.js';
import { IngestMetrics } from '../observability/ingest-metrics.js';
import { checkExposure } from '../server/exposure.js';
import type { RunningGateway } from '../server/start.js';
import { runPrimary } from './cluster-primary.js';
import { configFailure } from './config-check.js';
import { parseInteger } from './parse.js';

interface ServeOptions {
  host?: string;
  port?: number;
  config?: string;
  reload?: boolean;
  logLevel?: string;
  workers?: number;
}

/** How often the keys file is looked at: a key from `generate-key` works within about a second. */
const KEYS_FILE_POLL_MS = 1000;

/**
 * Always on, --reload or not: when keys/forwarder_api_keys.txt changes (or first appears), reload,
 * so a key `ai-proxy generate-key` appends is accepted without a restart. A stat poll rather than
 * fs.watch: it sees a file (and folder) created after start and works on every file system.
 */
function watchKeysFile(gateway: RunningGateway): () => void {
  const path = resolve(process.cwd(), FORWARDER_KEYS_FILE);
  const onChange = (current: Stats, previous: Stats) => {
    if (current.mtimeMs === previous.mtimeMs && current.size === previous.size) return;
    gateway.runtime.logger.info({ file: FORWARDER_KEYS_FILE }, 'client keys file changed; reloading');
    reloadSafely(gateway);
  };
  watchFile(path, { interval: KEYS_FILE_POLL_MS, persistent: false }, onChange);
  return () => unwatchFile(path, onChange);
}

/** --reload: watch the config and .env (the keys file is always watched), reload when one changes. */
function watchForReload(gateway: RunningGateway): FSWatcher[] {
  const cwd = process.cwd();
  const files = [gateway.runtime.config.configFile, join(cwd, '.env')];
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  for (const file of files) {
    if (file === undefined || !existsSync(file)) continue;
    watchers.push(
      watch(file, () => {
        clearTimeout(timer);
        // Editors write in several steps; reload once they settle.
        timer = setTimeout(() => reloadSafely(gateway), 200);
      }),
    );
  }
  return watchers;
}

function reloadSafely(gateway: RunningGateway): void {
  try {
    gateway.reload();
  } catch (error) {
    gateway.runtime.logger.error(
      { err: (error as Error).message },
      'reload failed; keeping the previous configuration',
    );
  }
}

export async function runServe(options: ServeOptions): Promise<void> {
  if ((options.workers ?? 1) > 1 && cluster.isPrimary) {
    // The server id is made once here, so the workers do not race to create different ones.
    let logStore: BackgroundIngest | undefined;
    let metrics: Registry | undefined;
    try {
      const config = loadConfig({
        configPath: options.config,
        flags: { host: options.host, port: options.port, logLevel: options.logLevel },
      });
      // Refused here, with the single process's message, rather than by every worker in turn.
      checkExposure(config);
      loadServerIdentity(config.log.dir, config.serverId);
      if (config.limitState.redisUrl === undefined) {
        process.stderr.write(
          config.limitState.budgetStore === 'memory'
            ? 'ai-proxy: --workers without REDIS_URL: each worker enforces provider-key limits and client-key budgets on its own; set REDIS_URL to share them\n'
            : 'ai-proxy: --workers without REDIS_URL: each worker enforces provider-key limits on its own (client-key budgets are shared through client-budgets.sqlite3); set REDIS_URL to share them\n',
        );
      }
      if (config.observability.metricsEnabled) {
        const { Registry } = await import('prom-client');
        metrics = new Registry();
      }
      // With workers, the primary alone runs the log store's ingest (each worker would repeat it).
      if (config.logdb.enabled) {
        const ingestMetrics = metrics === undefined ? undefined : new IngestMetrics(metrics);
        const { BackgroundIngest } = await import('../logstore/background-ingest.js');
        logStore = new BackgroundIngest({
          logDir: config.log.dir,
          config: config.logdb,
          onError: (error) => process.stderr.write(`ai-proxy: log store ingest failed: ${String(error)}\n`),
          onRun: ingestMetrics?.onRun,
        });
        logStore.start();
      }
    } catch (error) {
      configFailure(error);
    }
    runPrimary(options.workers ?? 1, logStore, metrics);
    return;
  }
  // Loaded here so that light commands (call, generate-key) start fast.
  const { startGateway } = await import('../server/start.js');
  let gateway: RunningGateway;
  try {
    gateway = await startGateway({
      configPath: options.config,
      flags: { host: options.host, port: options.port, logLevel: options.logLevel },
    });
  } catch (error) {
    configFailure(error);
  }
  const watchers = options.reload ? watchForReload(gateway) : [];
  const unwatchKeys = watchKeysFile(gateway);
  process.on('SIGHUP', () => reloadSafely(gateway));
  const stop = async () => {
    for (const watcher of watchers) watcher.close();
    unwatchKeys();
    await gateway.stop();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .alias('run-server')
    .description('start the gateway')
    .option('--host <host>', 'address to listen on (default 127.0.0.1, or HOST)')
    .option('--port <port>', 'port to listen on (default 8123, or PORT)', parseInteger(0, 65535))
    .option(
      '--config <path>',
      'config file, YAML or JSON (default: CONFIG_PATH, else the first of ./config.yml, ./config.yaml, ./config.json in the working directory)',
    )
    .option(
      '--reload',
      `reload the configuration when the config file or .env changes (${FORWARDER_KEYS_FILE} is always watched)`,
    )
    .option('--log-level <level>', 'debug, info, warning, error, critical or none')
    .option('--workers <n>', 'worker processes sharing the port (node:cluster)', parseInteger(1, 256), 1)
    .action(runServe);
}
