// The Redis connection both Redis stores (provider-key limits, client-key budgets) are built on.
// Commands fail fast while Redis is away (no offline queue), and every command has a deadline (a
// frozen Redis keeps its connection open and never answers), so a failover store can count
// locally meanwhile. Lua scripts are defined as commands: ioredis sends a script whole (EVAL) the
// first time on a connection and by its hash (EVALSHA) after, and whole again if Redis answers
// NOSCRIPT (after a restart or SCRIPT FLUSH).
import { Redis } from 'ioredis';

export interface RedisConnectionOptions {
  url: string;
  /** A command not answered by then fails with "Command timed out". */
  commandTimeoutMs: number;
  onError: (error: Error) => void;
}

/** Command name to Lua source; every script takes its arguments in ARGV (no KEYS). */
export type RedisScripts = Readonly<Record<string, string>>;

/**
 * `C` is the client type with the script commands declared (ioredis adds them at run time); it is
 * the caller's word that `scripts` defines exactly those.
 */
export class RedisConnection<C extends Redis = Redis> {
  readonly client: C;

  constructor(options: RedisConnectionOptions, scripts: RedisScripts) {
    const client = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      commandTimeout: options.commandTimeoutMs,
      // Commands issued in the same tick (many requests at once) go out in one write.
      enableAutoPipelining: true,
      // Reconnect forever, at most every 2 s: Redis coming back is picked up on its own.
      retryStrategy: (times) => Math.min(times * 100, 2000),
      lazyConnect: true,
    });
    for (const [name, lua] of Object.entries(scripts)) client.defineCommand(name, { numberOfKeys: 0, lua });
    client.on('error', options.onError);
    this.client = client as C;
  }

  /** Connects, waiting at most `timeoutMs`; false when Redis did not answer in time. */
  async connect(timeoutMs: number): Promise<boolean> {
    const connecting = this.client.connect().then(
      () => true,
      () => false,
    );
    const timeout = new Promise<boolean>((resolve) => setTimeout(resolve, timeoutMs, false).unref());
    return Promise.race([connecting, timeout]);
  }

  get ready(): boolean {
    return this.client.status === 'ready';
  }

  /** Resolves when Redis answers a PING within the command deadline; rejects otherwise. */
  async ping(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}

type PipelineResults = [error: Error | null, result: unknown][] | null;

/** Reads a pipeline's answers by position; a command that failed throws its error when read. */
export function pipelineReader(results: PipelineResults): (index: number) => unknown {
  const answers = results ?? [];
  return (index) => {
    const [error, result] = answers[index] ?? [null, null];
    if (error) throw error;
    return result;
  };
}
