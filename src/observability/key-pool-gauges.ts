// Key-pool state for /metrics, read from the limit store when scraped (never on the request path):
// each limited provider key's headroom on each of its limits, and how many keys are cooling down.
import type { Registry } from 'prom-client';
import type { Config } from '../config/types.js';
import type { LimitStore } from '../keys/limit-store.js';
import { ScrapedGauge } from './series.js';

interface GaugeValue {
  value: number;
  labels: Record<string, string>;
}

export interface KeyPoolSource {
  config(): Config;
  store(): LimitStore;
}

/** Both gauges read one view of the store per scrape. */
export function registerKeyPoolGauges(registry: Registry, source: KeyPoolSource): void {
  let pending: Promise<{ headroom: GaugeValue[]; cooling: GaugeValue[] }> | undefined;
  const read = () => {
    pending ??= readPools(source).finally(() => {
      // Both gauges of one scrape share the read; the next scrape reads afresh.
      setImmediate(() => {
        pending = undefined;
      });
    });
    return pending;
  };
  new ScrapedGauge(
    'ai_proxy_key_headroom_ratio',
    'Share of a provider key limit still free (1 = unused, 0 = at the limit), per limit the key has.',
    async () => (await read()).headroom,
    'min',
    registry,
  );
  new ScrapedGauge(
    'ai_proxy_keys_cooling',
    'Provider keys cooling down (rate-limited after a 429, or refused with 401/403), per provider and reason.',
    async () => (await read()).cooling,
    'max',
    registry,
  );
}

const LIMITS = [
  ['max_request_min', 'requests_per_minute', 'requestsMinute'],
  ['max_request_day', 'requests_per_day', 'requestsDay'],
  ['max_token_min', 'tokens_per_minute', 'tokensMinute'],
  ['max_token_day', 'tokens_per_day', 'tokensDay'],
] as const;

async function readPools(source: KeyPoolSource): Promise<{ headroom: GaugeValue[]; cooling: GaugeValue[] }> {
  const config = source.config();
  const providers = [...config.providers.values()].filter((provider) => provider.keys.length > 0);
  const ids = providers.flatMap((provider) => provider.keys.map((key) => key.id));
  const headroom: GaugeValue[] = [];
  const cooling: GaugeValue[] = [];
  if (ids.length === 0) return { headroom, cooling };
  let view: Awaited<ReturnType<LimitStore['view']>>;
  try {
    view = await source.store().view(ids, Date.now());
  } catch {
    // A shared store that is away answers nothing; the scrape still shows everything else.
    return { headroom, cooling };
  }
  for (const provider of providers) {
    const counts = { 'rate-limited': 0, refused: 0 };
    for (const key of provider.keys) {
      const usage = view.keys.get(key.id);
      if (usage === undefined) continue;
      if (usage.cooldown !== null) counts[usage.cooldown.reason] += 1;
      for (const [limitName, label, field] of LIMITS) {
        const limit = key.limits[limitName];
        if (limit === undefined || limit <= 0) continue;
        headroom.push({
          value: Math.max(0, limit - usage[field]) / limit,
          labels: { provider: provider.name, key_id: key.id, limit: label },
        });
      }
    }
    for (const [reason, value] of Object.entries(counts)) {
      cooling.push({ value, labels: { provider: provider.name, reason } });
    }
  }
  return { headroom, cooling };
}
