// The long-lived parts of a running gateway: the current state (swapped on reload), upstream
// pools, key pools, the request log, the process logger and the server's identity.
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { UpstreamPools } from '../gateway/upstream-pools.js';
import { KeyPools } from '../keys/key-pool.js';
import { setLoggerLevel } from '../logs/process-logger.js';
import { RequestLog } from '../logs/request-log.js';
import { loadServerIdentity, type ServerIdentity } from '../logs/server-identity.js';
import { BackgroundIngest } from '../logstore/background-ingest.js';
import { buildState, type GatewayState } from './gateway-state.js';

export class Runtime {
  state: GatewayState;
  readonly pools: UpstreamPools;
  readonly keys = new KeyPools();
  readonly requestLog: RequestLog;
  readonly identity: ServerIdentity;
  /** The log store's background ingest, when LOGDB_ENABLED=true. */
  readonly logStore: BackgroundIngest | undefined;
  readonly startedAt = Date.now();
  private inFlight = 0;
  /** Set when a graceful stop begins: new requests get 503 shutting_down. */
  closing = false;

  constructor(
    config: Config,
    readonly logger: Logger,
  ) {
    this.state = buildState(config);
    this.pools = new UpstreamPools({ connectTimeoutMs: config.timeouts.connectMs });
    this.identity = loadServerIdentity(config.log.dir, config.serverId);
    this.requestLog = new RequestLog({
      dir: config.log.dir,
      bodies: config.log.bodies,
      onError: (error) => this.logger.error({ err: error }, 'request log write failed'),
    });
    if (config.logdb.enabled) {
      this.logStore = new BackgroundIngest({
        logDir: config.log.dir,
        config: config.logdb,
        onError: (error) => this.logger.error({ err: error }, 'log store ingest failed'),
        onRun: (run) => {
          if (run.inserted > 0) this.logger.debug(run, 'log store ingest');
        },
      });
      this.logStore.start();
    }
  }

  get config(): Config {
    return this.state.config;
  }

  /** Swaps in a new configuration; requests in flight finish with the one they started with. */
  reload(config: Config): void {
    const previous = this.state.config;
    if (config.host !== previous.host || config.port !== previous.port) {
      this.logger.warn('host and port changes take effect on restart, not on reload');
    }
    if (config.log.dir !== previous.log.dir) {
      this.logger.warn('LOG_DIR changes take effect on restart, not on reload');
    }
    this.state = buildState(config);
    this.pools.update({ connectTimeoutMs: config.timeouts.connectMs });
    setLoggerLevel(this.logger, config.log.level);
    for (const warning of config.warnings) this.logger.warn(warning);
  }

  enter(): void {
    this.inFlight += 1;
  }

  leave(): void {
    this.inFlight -= 1;
  }

  get activeRequests(): number {
    return this.inFlight;
  }

  async close(): Promise<void> {
    await this.requestLog.close();
    // After the flush, so the last pass stores every record the log has.
    await this.logStore?.stop();
    await this.pools.close();
  }
}
