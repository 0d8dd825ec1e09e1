// What the gateway reports about itself: Prometheus metrics (METRICS_ENABLED, default on;
// METRICS_KEY, an optional bearer for GET /metrics) and OpenTelemetry traces, which follow the
// standard OTEL_* variables: on only when an OTLP/HTTP endpoint is set
// (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces), off with
// OTEL_TRACES_EXPORTER=none or OTEL_SDK_DISABLED=true. Read from the same environment as the rest
// of the configuration (.env included); a change takes effect on restart.
import { ConfigError, type Env, envBool, envInt, envString } from '../config/env-values.js';

export interface TracingConfig {
  /** Where spans are POSTed (OTLP/HTTP, JSON). */
  url: string;
  headers: Record<string, string>;
  serviceName: string;
  /** OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: prompts and answers on the spans. */
  captureContent: boolean;
  /** OTEL_BSP_SCHEDULE_DELAY: the batch processor's delay between exports. */
  scheduleDelayMs: number;
  /** OTEL_TRACES_SAMPLER=traceidratio / parentbased_traceidratio with OTEL_TRACES_SAMPLER_ARG; 1: all. */
  ratio: number;
  /** parentbased_*: a client's sampled traceparent decides. */
  parentBased: boolean;
}

export interface ObservabilityConfig {
  metricsEnabled: boolean;
  /** Bearer token GET /metrics requires; undefined: open. */
  metricsKey: string | undefined;
  tracing: TracingConfig | undefined;
}

/** `k1=v1,k2=v2` (values percent-decoded), the OTLP headers variables' format. */
export function parseOtlpHeaders(text: string | undefined, name: string): Record<string, string> {
  const headers: Record<string, string> = {};
  if (text === undefined) return headers;
  for (const pair of text.split(',')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new ConfigError(
        `environment variable ${name}: expected key=value pairs, got ${JSON.stringify(pair)}`,
      );
    try {
      headers[decodeURIComponent(pair.slice(0, eq).trim()).toLowerCase()] = decodeURIComponent(
        pair.slice(eq + 1).trim(),
      );
    } catch {
      throw new ConfigError(`environment variable ${name}: a header is not valid percent-encoding`);
    }
  }
  return headers;
}

function tracesUrl(env: Env): string | undefined {
  const specific = envString(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const base = envString(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const url = specific ?? (base === undefined ? undefined : `${base.replace(/\/+$/, '')}/v1/traces`);
  if (url === undefined) return undefined;
  if (!/^https?:\/\//i.test(url)) {
    throw new ConfigError(
      `environment variable ${specific === undefined ? 'OTEL_EXPORTER_OTLP_ENDPOINT' : 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'}: expected an http:// or https:// URL (OTLP/HTTP), got ${JSON.stringify(url)}`,
    );
  }
  return url;
}

function readSampler(env: Env): { ratio: number; parentBased: boolean } {
  const sampler = (envString(env, 'OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on').toLowerCase();
  const arg = envString(env, 'OTEL_TRACES_SAMPLER_ARG');
  const ratio = arg === undefined ? 1 : Number(arg);
  if (!(ratio >= 0 && ratio <= 1)) {
    throw new ConfigError(
      `environment variable OTEL_TRACES_SAMPLER_ARG: expected a number from 0 to 1, got ${JSON.stringify(arg)}`,
    );
  }
  switch (sampler) {
    case 'always_on':
      return { ratio: 1, parentBased: false };
    case 'always_off':
      return { ratio: 0, parentBased: false };
    case 'traceidratio':
      return { ratio, parentBased: false };
    case 'parentbased_always_on':
      return { ratio: 1, parentBased: true };
    case 'parentbased_always_off':
      return { ratio: 0, parentBased: true };
    case 'parentbased_traceidratio':
      return { ratio, parentBased: true };
    default:
      throw new ConfigError(
        `environment variable OTEL_TRACES_SAMPLER: expected always_on, always_off, traceidratio or their parentbased_ forms, got ${JSON.stringify(sampler)}`,
      );
  }
}

function readTracing(env: Env): TracingConfig | undefined {
  if (envBool(env, 'OTEL_SDK_DISABLED') === true) return undefined;
  const exporter = (envString(env, 'OTEL_TRACES_EXPORTER') ?? 'otlp').toLowerCase();
  if (exporter === 'none') return undefined;
  if (exporter !== 'otlp') {
    throw new ConfigError(
      `environment variable OTEL_TRACES_EXPORTER: expected otlp or none, got ${JSON.stringify(exporter)}`,
    );
  }
  const url = tracesUrl(env);
  if (url === undefined) return undefined;
  const protocol =
    envString(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? envString(env, 'OTEL_EXPORTER_OTLP_PROTOCOL');
  if (protocol !== undefined && protocol !== 'http/json') {
    throw new ConfigError(
      `environment variable OTEL_EXPORTER_OTLP_PROTOCOL: the gateway sends http/json, got ${JSON.stringify(protocol)}`,
    );
  }
  return {
    url,
    headers: {
      ...parseOtlpHeaders(envString(env, 'OTEL_EXPORTER_OTLP_HEADERS'), 'OTEL_EXPORTER_OTLP_HEADERS'),
      ...parseOtlpHeaders(
        envString(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'),
        'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
      ),
    },
    serviceName: envString(env, 'OTEL_SERVICE_NAME') ?? 'ai-proxy',
    captureContent: envBool(env, 'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT') ?? false,
    scheduleDelayMs: envInt(env, 'OTEL_BSP_SCHEDULE_DELAY', 0, 3_600_000) ?? 5000,
    ...readSampler(env),
  };
}

export function readObservabilityConfig(env: Env): ObservabilityConfig {
  return {
    metricsEnabled: envBool(env, 'METRICS_ENABLED') ?? true,
    metricsKey: envString(env, 'METRICS_KEY'),
    tracing: readTracing(env),
  };
}
