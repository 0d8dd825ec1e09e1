// Typed reads of environment values, each failing with a message that names the variable and
// what was expected.
import type { LogLevelName } from './types.js';

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function envString(env: Env, name: string): string | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

export function envList(env: Env, name: string): string[] | undefined {
  const value = envString(env, name);
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

export function envInt(env: Env, name: string, min: number, max: number): number | undefined {
  const value = envString(env, name);
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!/^-?\d+$/.test(value) || parsed < min || parsed > max) {
    throw new ConfigError(
      `environment variable ${name}: expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return parsed;
}

export function envBool(env: Env, name: string): boolean | undefined {
  const value = envString(env, name)?.toLowerCase();
  if (value === undefined) return undefined;
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw new ConfigError(`environment variable ${name}: expected true or false, got ${JSON.stringify(value)}`);
}

const LEVEL_ALIASES: Record<string, LogLevelName> = {
  debug: 'debug',
  trace: 'debug',
  info: 'info',
  warning: 'warning',
  warn: 'warning',
  error: 'error',
  critical: 'critical',
  fatal: 'critical',
  none: 'none',
  silent: 'none',
  off: 'none',
};

/** Accepts the seeds' level names in any case. `where` names the source for the message. */
export function parseLogLevel(value: string, where: string): LogLevelName {
  const level = LEVEL_ALIASES[value.trim().toLowerCase()];
  if (level === undefined) {
    throw new ConfigError(
      `${where}: expected one of debug, info, warning, error, critical, none (any case), got ${JSON.stringify(value)}`,
    );
  }
  return level;
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** `10mb`, `512kb`, `1048576` → bytes. */
export function parseSize(value: string | number, where: string): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(value.trim());
  if (!match) throw new ConfigError(`${where}: expected a size such as 10mb, got ${JSON.stringify(value)}`);
  const unit = SIZE_UNITS[(match[2] ?? 'b').toLowerCase()] ?? 1;
  return Math.floor(Number(match[1]) * unit);
}
