// The sliding minute at one-second resolution that both memory stores (provider-key limits and
// client-key budgets) keep per key: 60 one-second buckets of requests and tokens, each stamped with
// the second it holds, so a bucket left over from an earlier minute is known stale without a sweep.
// Also the same window as the Redis scripts keep it (a hash of "r:<second>" / "t:<second>" fields).
import { MINUTE_SECONDS } from './limit-store.js';

/** One bucket as written to a snapshot. */
export type MinuteBucket = [second: number, requests: number, tokens: number];

export interface MinuteTotals {
  requests: number;
  tokens: number;
  /** The oldest second in the window holding requests / tokens, or -1. */
  oldestRequest: number;
  oldestToken: number;
}

export class MinuteWindow {
  private readonly stamps = new Float64Array(MINUTE_SECONDS).fill(-1);
  private readonly requests = new Float64Array(MINUTE_SECONDS);
  private readonly tokens = new Float64Array(MINUTE_SECONDS);

  /** The counts of the minute ending with `second` (the 60 seconds after second - 60). */
  totals(second: number): MinuteTotals {
    const w: MinuteTotals = { requests: 0, tokens: 0, oldestRequest: -1, oldestToken: -1 };
    const from = second - MINUTE_SECONDS;
    for (let i = 0; i < MINUTE_SECONDS; i++) {
      const stamp = this.stamps[i]!;
      if (stamp <= from) continue;
      const requests = this.requests[i]!;
      const tokens = this.tokens[i]!;
      w.requests += requests;
      w.tokens += tokens;
      if (requests > 0 && (w.oldestRequest === -1 || stamp < w.oldestRequest)) w.oldestRequest = stamp;
      if (tokens > 0 && (w.oldestToken === -1 || stamp < w.oldestToken)) w.oldestToken = stamp;
    }
    return w;
  }

  /** Counts requests and tokens in `second`'s bucket, emptying it first if it held an older second. */
  add(second: number, requests: number, tokens: number): void {
    const slot = second % MINUTE_SECONDS;
    if (this.stamps[slot] !== second) {
      this.stamps[slot] = second;
      this.requests[slot] = 0;
      this.tokens[slot] = 0;
    }
    this.requests[slot]! += requests;
    this.tokens[slot]! += tokens;
  }

  /** Corrects `second`'s tokens by `delta` (never below 0), unless its bucket has moved on. */
  adjustTokens(second: number, delta: number): void {
    const slot = second % MINUTE_SECONDS;
    if (this.stamps[slot] === second) this.tokens[slot] = Math.max(0, this.tokens[slot]! + delta);
  }

  /** The buckets still inside the minute ending with `second`, for a snapshot. */
  buckets(second: number): MinuteBucket[] {
    const from = second - MINUTE_SECONDS;
    const buckets: MinuteBucket[] = [];
    for (let i = 0; i < MINUTE_SECONDS; i++) {
      if (this.stamps[i]! > from) buckets.push([this.stamps[i]!, this.requests[i]!, this.tokens[i]!]);
    }
    return buckets;
  }

  /** Puts snapshot buckets back as they were (the caller has checked them). */
  load(buckets: readonly MinuteBucket[]): void {
    for (const [second, requests, tokens] of buckets) {
      const slot = second % MINUTE_SECONDS;
      this.stamps[slot] = second;
      this.requests[slot] = requests;
      this.tokens[slot] = tokens;
    }
  }
}

/**
 * The requests and tokens of the minute ending with `second`, from the hash the Redis scripts keep
 * per key ("r:<second>" and "t:<second>" fields; fields older than the minute are not yet pruned).
 */
export function minuteFromRedisHash(
  fields: Readonly<Record<string, string>>,
  second: number,
): { requests: number; tokens: number } {
  let requests = 0;
  let tokens = 0;
  for (const [field, count] of Object.entries(fields)) {
    if (Number(field.slice(2)) <= second - MINUTE_SECONDS) continue;
    if (field.startsWith('r:')) requests += Number(count);
    else tokens += Number(count);
  }
  return { requests, tokens };
}
