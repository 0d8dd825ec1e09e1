// `ai-proxy config check`: validates every source and prints the resolved set-up, without a secret.
import type { Command } from 'commander';
import { describeUrl } from '../catalog/fetch-catalog.js';
import { ConfigError, loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { checkExposure } from '../server/exposure.js';
import { readTlsFiles, type TlsFiles } from '../server/tls-files.js';
import { fail } from './parse.js';

export function configFailure(error: unknown): never {
  if (error instanceof ConfigError || (error instanceof Error && error.name === 'StartupError')) {
    fail(`configuration error:\n${error.message}`);
  }
  throw error;
}

/** Native TLS as `config check` shows it: the files and the certificate they hold (never the key). */
function describeTls(config: Config, files: TlsFiles | undefined): Record<string, unknown> | null {
  if (config.tls === undefined) return null;
  return {
    cert_file: config.tls.certFile,
    key_file: config.tls.keyFile,
    hsts_max_age_seconds: config.tls.hstsMaxAgeSeconds,
    ...(files === undefined
      ? {}
      : { subject: files.subject, valid_to: files.validTo, fingerprint256: files.fingerprint256 }),
  };
}

export function describeConfig(config: Config, tlsFiles?: TlsFiles): Record<string, unknown> {
  return {
    sources: config.sources,
    listen: `${config.tls === undefined ? 'http' : 'https'}://${config.host}:${config.port}`,
    tls: describeTls(config, tlsFiles),
    client_keys: config.clientKeys.length,
    default_provider: config.defaultProvider ?? null,
    providers_priority: config.providersPriority,
    providers: Object.fromEntries(
      [...config.providers.values()]
        .filter((p) => p.configured)
        .map((p) => [
          p.name,
          {
            protocol: p.protocol,
            base_url: p.baseUrl,
            keys: p.keys.map((k) => ({ id: k.id, limits: k.limits })),
            default_model: p.defaultModel ?? null,
            models: p.models,
          },
        ]),
    ),
    model_mappings: Object.fromEntries([
      ...config.exactMappings,
      ...config.wildcardMappings.map((rule) => [rule.pattern, rule.targets] as const),
    ]),
    auto_models: config.autoModels,
    // The catalog's token is a secret: only whether one is set.
    model_catalog:
      config.catalog === undefined
        ? null
        : {
            url: describeUrl(config.catalog.url),
            auth_token: config.catalog.authToken === undefined ? 'not set' : 'set',
            refresh_seconds: config.catalog.refreshSeconds,
          },
    key_limits: {
      mode: config.limitState.redisUrl === undefined ? 'memory' : 'redis',
      redis: config.limitState.redisUrl === undefined ? null : withoutPassword(config.limitState.redisUrl),
      redis_key_prefix: config.limitState.redisPrefix,
      redis_fail_mode: config.limitState.redisFailMode,
      redis_command_timeout_ms: config.limitState.redisCommandTimeoutMs,
      snapshot_file: config.limitState.redisUrl === undefined ? config.limitState.snapshotFile : null,
      model_usage_gap_percentage: config.modelUsageGapPercentage,
    },
    prices: Object.fromEntries([...config.prices].map(([model, price]) => [model, snakeKeys(price)])),
    price_table: config.priceTable,
    timeouts: snakeKeys(config.timeouts),
    retry: snakeKeys(config.retry),
    body_limit_bytes: config.bodyLimitBytes,
    // The config file's own names: log_level, log_dir, log_bodies, …
    ...Object.fromEntries(Object.entries(config.log).map(([key, value]) => [`log_${snakeCase(key)}`, value])),
    warnings: config.warnings,
  };
}

/** `firstByteMs` → `first_byte_ms`, `prompt1k` → `prompt_1k`: the config file's spelling. */
function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`).replace(/(?<=[a-z])(?=\d)/g, '_');
}

/** The same record with its field names as the config file writes them (never data keys). */
function snakeKeys(record: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [snakeCase(key), value]));
}

/** A Redis URL may carry a password: it is never printed. */
function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

export function registerConfigCommand(program: Command): void {
  const configCommand = program.command('config').description('configuration tools');
  configCommand
    .command('check')
    .description('validate the configuration and print the resolved set-up (no secrets); non-zero on error')
    .option('--config <path>', 'config file (YAML or JSON)')
    .option('--json', 'print JSON')
    .action((options: { config?: string; json?: boolean }) => {
      let config: Config;
      let tlsFiles: TlsFiles | undefined;
      try {
        config = loadConfig({ configPath: options.config });
        checkExposure(config);
        // The certificate and key are read and matched as `serve` would, so a bad pair fails here.
        if (config.tls !== undefined) tlsFiles = readTlsFiles(config.tls);
      } catch (error) {
        configFailure(error);
      }
      const summary = describeConfig(config, tlsFiles);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        return;
      }
      process.stdout.write('Configuration OK\n');
      for (const [key, value] of Object.entries(summary)) {
        process.stdout.write(
          `${key}: ${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}\n`,
        );
      }
    });
}
