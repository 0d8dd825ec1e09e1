// Starts a real gateway on a random loopback port in a fresh temporary directory, with only the
// environment a test gives it (never the developer's own), and an OpenAI SDK client for it.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import OpenAI from 'openai';
import { type RunningGateway, startGateway } from '../../src/server/start.js';

export const CLIENT_KEY = 'test-client-key-0123456789';

export interface TestGatewayOptions {
  env?: Record<string, string>;
  /** Files written into the gateway's working directory first: `config.yml`, `.env`, `keys/…`. */
  files?: Record<string, string>;
  /** Keep `API_KEYS` unset (open mode or keys from files). */
  noDefaultKey?: boolean;
  configPath?: string;
}

export interface TestGateway {
  gateway: RunningGateway;
  url: string;
  baseURL: string;
  dir: string;
  /** Process-log lines (pino JSON) the gateway wrote. */
  processLog: string[];
  client(apiKey?: string): OpenAI;
  /** Flushes and returns every request-log record written so far. */
  requestLog(): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
}

export function makeTempDir(prefix = 'ai-proxy-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function readRequestLog(logDir: string): Record<string, unknown>[] {
  const dir = join(logDir, 'requests');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .sort()
    .flatMap((name) =>
      readFileSync(join(dir, name), 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    );
}

export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const dir = makeTempDir();
  writeFiles(dir, options.files ?? {});
  const processLog: string[] = [];
  const env: Record<string, string> = {
    LOG_DIR: join(dir, 'logs'),
    LOG_LEVEL: 'debug',
    ...(options.noDefaultKey ? {} : { API_KEYS: CLIENT_KEY }),
    ...options.env,
  };
  const gateway = await startGateway({
    cwd: dir,
    env,
    configPath: options.configPath,
    flags: { host: '127.0.0.1', port: 0 },
    logDestination: { write: (line: string) => void processLog.push(line) },
    shutdownTimeoutMs: 2_000,
  });
  const baseURL = `${gateway.url}/v1`;
  let stopped = false;
  return {
    gateway,
    url: gateway.url,
    baseURL,
    dir,
    processLog,
    client: (apiKey = CLIENT_KEY) => new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 15_000 }),
    async requestLog() {
      await gateway.runtime.requestLog.flush();
      return readRequestLog(gateway.runtime.config.log.dir);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await gateway.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
