// GET /v1/usage in seed 003's shape (overview and details per provider, keys by their stable
// non-secret id, rate_limit_windows, rate_limits), extended with tokens, cost and per-client
// totals (a client sees its own; an admin key sees every client's). Every count is for the current
// UTC day; minute windows are the sliding last minute.
import type { KeyLimits } from '../config/file-schema.js';
import type { Config } from '../config/types.js';
import type { UsageView } from '../keys/limit-store.js';

export interface KeyReport {
  requests: number;
  usage_percentage: number;
  rate_limit_windows: { req_min: number; req_day: number };
  token_windows: { tok_min: number; tok_day: number };
  tokens: { prompt: number; completion: number; total: number };
  cost: number;
  rate_limits: KeyLimits;
  cooldown: { reason: string; seconds_left: number } | null;
}

export interface UsageReport {
  day: string;
  mode: 'memory' | 'redis';
  overview: Record<
    string,
    {
      total_requests: number;
      total_capacity: number;
      usage_percentage: number;
      total_tokens: number;
      total_cost: number;
    }
  >;
  details: Record<string, { keys: Record<string, KeyReport>; rate_limits: KeyLimits }>;
  clients: Record<string, { requests: number; tokens: number; cost: number }>;
}

function percent(part: number, whole: number): number {
  return whole > 0 ? Math.round((part / whole) * 10_000) / 100 : 0;
}

function money(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** The key ids of every provider that has keys, for one store lookup. */
export function pooledKeyIds(config: Config): string[] {
  const ids: string[] = [];
  for (const provider of config.providers.values()) for (const key of provider.keys) ids.push(key.id);
  return ids;
}

/**
 * `client`: the asking client's key hash, whose totals alone are shown in `clients`; undefined
 * shows every client's (an admin key, or an open gateway where nobody has a key).
 */
export function buildUsageReport(
  config: Config,
  view: UsageView,
  mode: 'memory' | 'redis',
  client?: string,
): UsageReport {
  const report: UsageReport = { day: view.day, mode, overview: {}, details: {}, clients: {} };
  for (const provider of config.providers.values()) {
    if (provider.keys.length === 0) continue;
    let requests = 0;
    let capacity = 0;
    let tokens = 0;
    let cost = 0;
    const keys: Record<string, KeyReport> = {};
    for (const key of provider.keys) {
      const usage = view.keys.get(key.id);
      if (usage === undefined) continue;
      const dayCapacity = key.limits.max_request_day ?? 0;
      requests += usage.requestsDay;
      capacity += dayCapacity;
      tokens += usage.tokensDay;
      cost += usage.costDay;
      keys[key.id] = {
        requests: usage.requestsDay,
        usage_percentage: percent(usage.requestsDay, dayCapacity),
        rate_limit_windows: { req_min: usage.requestsMinute, req_day: usage.requestsDay },
        token_windows: { tok_min: Math.round(usage.tokensMinute), tok_day: Math.round(usage.tokensDay) },
        tokens: {
          prompt: usage.promptTokensDay,
          completion: usage.completionTokensDay,
          total: usage.promptTokensDay + usage.completionTokensDay,
        },
        cost: money(usage.costDay),
        rate_limits: { ...key.limits },
        cooldown:
          usage.cooldown === null
            ? null
            : { reason: usage.cooldown.reason, seconds_left: Math.ceil(usage.cooldown.remainingMs / 1000) },
      };
    }
    report.overview[provider.name] = {
      total_requests: requests,
      total_capacity: capacity,
      usage_percentage: percent(requests, capacity),
      total_tokens: Math.round(tokens),
      total_cost: money(cost),
    };
    report.details[provider.name] = { keys, rate_limits: { ...provider.keys[0]!.limits } };
  }
  for (const [hash, totals] of view.clients) {
    if (client !== undefined && hash !== client) continue;
    report.clients[hash] = {
      requests: totals.requests,
      tokens: Math.round(totals.tokens),
      cost: money(totals.cost),
    };
  }
  return report;
}
