// The shapes the console's API (src/server/routes/console-api*.ts) answers with, as the page reads them.

import type { UsageHistory } from '../server/routes/console-api-types.js';

export type { GroupTotals, SeriesPoint, Totals } from '../server/routes/console-api-types.js';

export interface PoolKey {
  requests: number;
  usage_percentage: number;
  rate_limit_windows: { req_min: number; req_day: number };
  token_windows: { tok_min: number; tok_day: number };
  tokens: { prompt: number; completion: number; total: number };
  cost: number;
  rate_limits: Record<string, number | undefined>;
  cooldown: { reason: string; seconds_left: number } | null;
}

export interface UsageAnswer {
  logstore: { enabled: boolean; fts: boolean; grouping: boolean };
  history: UsageHistory;
  pools: {
    day: string;
    mode: string;
    details: Record<string, { keys: Record<string, PoolKey> }>;
  };
  client_names: Record<string, string>;
}

export type { LogHit, LogPage } from '../server/routes/console-api-types.js';

export interface Attempt {
  [field: string]: unknown;
}

export interface Exchange {
  request_id: string;
  time: string;
  endpoint: string;
  method: string | null;
  status_code: number;
  latency_ms: number | null;
  ttfb_ms: number | null;
  overhead_ms: number | null;
  stream: boolean;
  client: string | null;
  user_agent: string | null;
  model_original: string | null;
  model_mapped: string | null;
  provider: string | null;
  key_id: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  cost: number | null;
  dialog_id: string | null;
  dialog_source: string | null;
  request: unknown;
  response: unknown;
  error: unknown;
  attempts: Attempt[] | null;
  usage: unknown;
}

export interface Budget {
  limit: number;
  spent: number;
  remaining: number;
  resets_at: string | null;
}

export interface ManagedKeyRow {
  id: string;
  name: string;
  owner: string | null;
  status: string;
  key_hash: string;
  expires_at: string | null;
  policy: Record<string, unknown>;
  usage?: {
    requests_day: number;
    tokens_day: number;
    spent_day: number;
    spent_month: number;
    spent_total: number;
    limits: Record<string, { limit: number; used: number; remaining: number }>;
    budgets: Partial<Record<'day' | 'month' | 'total', Budget>>;
  };
}
