// Starts and stops a gateway: load config, refuse an open gateway off loopback, listen (HTTPS with
// native TLS), reload on demand (a renewed certificate included), and on stop finish in-flight
// requests and flush the request log.
import type { DestinationStream } from 'pino';
import { type LoadOptions, loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { createProcessLogger } from '../logs/process-logger.js';
import { redactorFor } from '../secrets/config-secrets.js';
import { buildApp } from './app.js';
import { checkExposure } from './exposure.js';
import { readTlsFiles, type TlsFiles } from './tls-files.js';
import { reloadCertificate } from './tls-server.js';

export { checkExposure, StartupError } from './exposure.js';

import type { FastifyInstance } from 'fastify';
import { Runtime } from './runtime.js';

const CATALOG_START_WAIT_MS = 5_000;
/** The providers' own model lists get less: /v1/models fills in when they answer. */
const PROVIDER_MODELS_START_WAIT_MS = 2_000;
/** After a stop's grace period: how long the requests it cut get to end (they end at once). */
const CUT_WAIT_MS = 2_000;

/** Whether `promise` resolved within `ms`. */
async function within(promise: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(resolve, ms, false);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

function logCertificate(logger: Runtime['logger'], files: TlsFiles, message: string): void {
  logger.info({ subject: files.subject, valid_to: files.validTo, sha256: files.fingerprint256 }, message);
}

export interface StartOptions extends LoadOptions {
  /** Where process logs go (stdout by default); tests capture them. */
  logDestination?: DestinationStream;
  /** Grace period for in-flight requests on stop. */
  shutdownTimeoutMs?: number;
}

export interface RunningGateway {
  app: FastifyInstance;
  runtime: Runtime;
  url: string;
  port: number;
  reload(): Config;
  stop(): Promise<void>;
}

export async function startGateway(options: StartOptions = {}): Promise<RunningGateway> {
  const config = loadConfig(options);
  checkExposure(config);
  // Read before anything is opened: a missing or wrong certificate stops the start with its reason.
  const tlsFiles = config.tls === undefined ? undefined : readTlsFiles(config.tls);
  // Every process-log line is searched for the secrets of the configuration in force.
  let current = config;
  const logger = createProcessLogger(config.log.level, options.logDestination, () => redactorFor(current));
  const runtime = new Runtime(config, logger);
  for (const warning of config.warnings) logger.warn(warning);
  if (config.clientKeys.length === 0) {
    logger.warn(
      '!!! NO CLIENT KEY CONFIGURED: the gateway is OPEN to anyone who can reach it (allowed on loopback only). Set API_KEYS or run `ai-proxy generate-key`. !!!',
    );
  }
  await runtime.limitState.ready;
  // Managed keys are known before the first request (with Redis, after its first load).
  await runtime.managedKeys.ready();
  await runtime.budgets.ready;
  await runtime.tracingReady;
  // The first catalog fetch gets a moment, so the first requests can already use it; a catalog that
  // is down or slow never holds start-up longer than this.
  await Promise.all([
    runtime.catalog.whenSettled(CATALOG_START_WAIT_MS),
    runtime.providerModels.whenSettled(PROVIDER_MODELS_START_WAIT_MS),
  ]);
  const app = await buildApp(runtime, tlsFiles);
  const scheme = tlsFiles === undefined ? 'http' : 'https';
  // Fastify names the scheme from its own https option, which a serverFactory bypasses.
  await app.listen({
    host: config.host,
    port: config.port,
    listenTextResolver: (address) => `Server listening at ${address.replace(/^https?:/, `${scheme}:`)}`,
  });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const configured = [...config.providers.values()].filter((p) => p.configured).map((p) => p.name);
  logger.info(
    { host: config.host, port, providers: configured, config_file: config.configFile ?? null },
    `ai-proxy listening on ${scheme}://${host}:${port}`,
  );
  if (tlsFiles !== undefined) logCertificate(logger, tlsFiles, 'serving TLS certificate');

  let stopping: Promise<void> | undefined;
  return {
    app,
    runtime,
    url: `${scheme}://${host}:${port}`,
    port,
    reload() {
      const next = loadConfig(options);
      checkExposure(next);
      // A renewed certificate is swapped in for new connections; a bad one throws and the previous
      // configuration (and certificate) stays.
      const renewed = reloadCertificate(app.server, next.tls);
      runtime.reload(next);
      if (renewed !== undefined) logCertificate(logger, renewed, 'TLS certificate reloaded');
      current = next;
      logger.info({ config_file: next.configFile ?? null }, 'configuration reloaded');
      return next;
    },
    stop() {
      stopping ??= (async () => {
        const grace = options.shutdownTimeoutMs ?? 30_000;
        runtime.closing = true;
        // close() stops accepting and waits for requests in flight; the timer bounds the wait.
        // Fastify's close resolves once every response has finished (onResponse hooks, which write
        // the request-log records, included), so the log flush below sees them all.
        // Keep-alive connections whose request finishes during the close would otherwise stay open
        // until their keep-alive timeout; close each as soon as it goes idle.
        const sweeper = setInterval(() => app.server.closeIdleConnections(), 50);
        const closed = app.close().then(() => true);
        if (!(await within(closed, grace))) {
          // Past the grace period, what is still in flight is cut: a stream ends with an error event
          // and its record says so. Their records are written before the log closes below.
          const cut = runtime.cutInFlight();
          logger.warn(
            { requests: cut, grace_ms: grace },
            'grace period over: cutting the requests in flight',
          );
          await within(closed, CUT_WAIT_MS);
        }
        clearInterval(sweeper);
        await runtime.close();
        logger.info('ai-proxy stopped; request log flushed');
      })();
      return stopping;
    },
  };
}
