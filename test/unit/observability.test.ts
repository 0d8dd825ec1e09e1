// The observability settings as the OTEL_* and METRICS_* variables give them, the series cap that
// keeps client-chosen label values from growing /metrics without bound, and the route label.
import { rmSync } from 'node:fs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { routeLabel } from '../../src/observability/labels.js';
import { CounterFamily, MAX_SERIES } from '../../src/observability/series.js';
import { readObservabilityConfig } from '../../src/observability/settings.js';
import { configSecrets } from '../../src/secrets/config-secrets.js';
import { makeTempDir } from '../support/gateway.js';
import { parsePrometheus, sampleValue } from '../support/prometheus-text.js';

describe('observability settings', () => {
  it('metrics on by default, traces off until an endpoint is set', () => {
    expect(readObservabilityConfig({})).toEqual({
      metricsEnabled: true,
      metricsKey: undefined,
      tracing: undefined,
    });
    expect(readObservabilityConfig({ METRICS_ENABLED: 'false', METRICS_KEY: ' k ' })).toMatchObject({
      metricsEnabled: false,
      metricsKey: 'k',
    });
  });

  it('the traces endpoint: the signal-specific one as is, else the base one with /v1/traces', () => {
    expect(
      readObservabilityConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracing?.url,
    ).toBe('http://collector:4318/v1/traces');
    const both = readObservabilityConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/otlp',
    });
    expect(both.tracing?.url).toBe('https://traces.example/otlp');
    expect(both.tracing).toMatchObject({
      serviceName: 'ai-proxy',
      captureContent: false,
      ratio: 1,
      parentBased: true,
    });
  });

  it('OTEL_TRACES_EXPORTER=none and OTEL_SDK_DISABLED turn traces off; headers, sampler, content capture', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' };
    expect(readObservabilityConfig({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }).tracing).toBeUndefined();
    expect(readObservabilityConfig({ ...endpoint, OTEL_SDK_DISABLED: 'true' }).tracing).toBeUndefined();
    const tracing = readObservabilityConfig({
      ...endpoint,
      OTEL_EXPORTER_OTLP_HEADERS: 'api-key=abc%20def,x-tenant=t1',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-tenant=t2',
      OTEL_TRACES_SAMPLER: 'traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_SERVICE_NAME: 'gw-eu',
      OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true',
    }).tracing;
    expect(tracing).toMatchObject({
      headers: { 'api-key': 'abc def', 'x-tenant': 't2' },
      ratio: 0.25,
      parentBased: false,
      serviceName: 'gw-eu',
      captureContent: true,
    });
  });

  it('refuses what it cannot honour, naming the variable', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' };
    expect(() => readObservabilityConfig({ ...endpoint, OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(
      /OTEL_TRACES_EXPORTER/,
    );
    expect(() => readObservabilityConfig({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(
      /OTEL_EXPORTER_OTLP_PROTOCOL/,
    );
    expect(() => readObservabilityConfig({ ...endpoint, OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(
      /OTEL_TRACES_SAMPLER_ARG/,
    );
    expect(() => readObservabilityConfig({ ...endpoint, OTEL_EXPORTER_OTLP_HEADERS: 'novalue' })).toThrow(
      /OTEL_EXPORTER_OTLP_HEADERS/,
    );
    expect(() => readObservabilityConfig({ METRICS_ENABLED: 'maybe' })).toThrow(/METRICS_ENABLED/);
  });

  it('METRICS_KEY and OTLP header values are secrets the redactor knows', () => {
    const cwd = makeTempDir();
    const config = loadConfig({
      cwd,
      env: {
        METRICS_KEY: 'metrics-key-0123456789',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20otlp-token-0123',
      },
    });
    rmSync(cwd, { recursive: true, force: true });
    const values = configSecrets(config).map((secret) => secret.value);
    expect(values).toContain('metrics-key-0123456789');
    expect(values).toContain('Bearer otlp-token-0123');
  });
});

describe('metric series', () => {
  it(`past ${MAX_SERIES} label sets, new ones count under "other" and the text stays valid`, async () => {
    const registry = new Registry();
    const family = new CounterFamily('t_total', 'test', ['model'], [], registry);
    for (let i = 0; i < MAX_SERIES + 10; i++) family.at(`model-${i}`).value += 1;
    family.at('model-0').value += 1;
    const samples = parsePrometheus(await registry.metrics());
    expect(samples).toHaveLength(MAX_SERIES + 1);
    expect(sampleValue(samples, 't_total', { model: 'model-0' })).toBe(2);
    expect(sampleValue(samples, 't_total', { model: 'other' })).toBe(10);
  });

  it('routes: static ones as they are, ids folded, anything else "other"', () => {
    expect(routeLabel('/v1/chat/completions')).toBe('/v1/chat/completions');
    expect(routeLabel('/v1/responses/resp_123')).toBe('/v1/responses/{id}');
    expect(routeLabel('/v1/responses/resp_123/input_items')).toBe('/v1/responses/{id}/input_items');
    expect(routeLabel('/v1/models/gpt-4o')).toBe('/v1/models/{model}');
    expect(routeLabel('/v1/nothing-here-123')).toBe('other');
  });
});
