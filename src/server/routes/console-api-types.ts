// The shapes the console's usage and log APIs answer with: one definition for the server routes that build
// them and the console (src/console) that reads them. No imports, so both builds can include it.

export interface LogHit {
  request_id: string;
  time: string;
  endpoint: string;
  model: string | null;
  model_mapped: string | null;
  provider: string | null;
  status: number;
  latency_ms: number | null;
  stream: boolean;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  cost: number | null;
  client: string | null;
  dialog_id: string | null;
  /** The matched words in context (a text query), or the start of the last user message. */
  snippet: string | null;
}

export interface LogPage {
  hits: LogHit[];
  /** Pass back as `cursor` for the next page; null on the last. */
  next_cursor: string | null;
  partitions_searched: number;
  partitions_without_index: number;
  ms: number;
}

export type Bucket = 'hour' | 'day';

export interface Totals {
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost: number;
}

export interface SeriesPoint extends Totals {
  /** The bucket's start, epoch seconds (UTC). */
  t: number;
}

export interface GroupTotals extends Totals {
  name: string | null;
}

export interface UsageHistory {
  since: string;
  until: string;
  bucket: Bucket;
  partitions: number;
  totals: Totals;
  series: SeriesPoint[];
  by_provider: GroupTotals[];
  by_model: GroupTotals[];
  by_client: GroupTotals[];
}
