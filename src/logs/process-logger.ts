// Process logs: pino JSON lines on stdout, with the seeds' level names (warning, critical, none).
import { type DestinationStream, type Logger, pino } from 'pino';
import type { LogLevelName } from '../config/types.js';
import type { Redactor } from '../secrets/redactor.js';

const PINO_LEVEL: Record<LogLevelName, string> = {
  debug: 'debug',
  info: 'info',
  warning: 'warn',
  error: 'error',
  critical: 'fatal',
  none: 'silent',
};

const LABEL: Record<string, string> = { warn: 'warning', fatal: 'critical' };

/**
 * `redactor` gives the current configuration's secrets (it changes on reload): every line is
 * searched for them as written, whoever logged what, since upstream text reaches log calls.
 */
export function createProcessLogger(
  level: LogLevelName,
  destination?: DestinationStream,
  redactor?: () => Redactor,
): Logger {
  const options = {
    level: PINO_LEVEL[level],
    base: { service: 'ai-proxy', pid: process.pid },
    formatters: { level: (label: string) => ({ level: LABEL[label] ?? label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Belt and braces: even a careless log call cannot print credentials.
    redact: {
      paths: ['req.headers.authorization', 'req.headers["x-api-key"]', '*.apiKey', '*.key', 'key'],
      censor: '[redacted]',
    },
    hooks: redactor === undefined ? {} : { streamWrite: (line: string) => redactor().text(line) },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}

export function setLoggerLevel(logger: Logger, level: LogLevelName): void {
  logger.level = PINO_LEVEL[level];
}
