// The secrets of one configuration, as one Redactor: every provider key (by its non-secret id),
// every client and admin key, the catalog token, METRICS_KEY and the OTLP exporter's headers. Built once per Config (a reload makes a new
// Config, so new keys are picked up and dropped ones are no longer looked for).
import { hash } from 'node:crypto';
import type { Config } from '../config/types.js';
import { Redactor, type Secret } from './redactor.js';

const redactors = new WeakMap<Config, Redactor>();

export function configSecrets(config: Config): Secret[] {
  const secrets: Secret[] = [];
  for (const provider of config.providers.values()) {
    for (const key of provider.keys) {
      if (key.key !== '') secrets.push({ value: key.key, label: `[key ${key.id}]` });
    }
  }
  // Admin keys first: they are client keys too, and the first label given wins.
  for (const key of config.adminKeys) secrets.push({ value: key, label: '[admin key]' });
  for (const key of config.clientKeys) {
    // The short hash the request log carries for this key (client-auth.ts): names it, reveals nothing.
    secrets.push({ value: key, label: `[client key ${hash('sha256', key, 'hex').slice(0, 16)}]` });
  }
  const token = config.catalog?.authToken;
  if (token !== undefined && token !== '') secrets.push({ value: token, label: '[catalog token]' });
  // The bearer /metrics asks for, and whatever the OTLP exporter sends its collector (a token).
  const observability = config.observability;
  if (observability?.metricsKey !== undefined)
    secrets.push({ value: observability.metricsKey, label: '[metrics key]' });
  for (const value of Object.values(observability?.tracing?.headers ?? {})) {
    if (value.length >= 8) secrets.push({ value, label: '[otlp header]' });
  }
  return secrets;
}

export function redactorFor(config: Config): Redactor {
  let redactor = redactors.get(config);
  if (redactor === undefined) {
    redactor = new Redactor(configSecrets(config));
    redactors.set(config, redactor);
  }
  return redactor;
}
