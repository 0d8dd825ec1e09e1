// Process logs: pino JSON lines on stdout, with the seeds' level names (warning, critical, none).
import { type DestinationStream, type Logger, pino } from 'pino';
import type { LogLevelName } from '../config/types.js';

const PINO_LEVEL: Record<LogLevelName, string> = {
  debug: 'debug',
  info: 'info',
  warning: 'warn',
  error: 'error',
  critical: 'fatal',
  none: 'silent',
};

const LABEL: Record<string, string> = { warn: 'warning', fatal: 'critical' };

export function createProcessLogger(level: LogLevelName, destination?: DestinationStream): Logger {
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
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}

export function setLoggerLevel(logger: Logger, level: LogLevelName): void {
  logger.level = PINO_LEVEL[level];
}
