// What every limit store (memory, Redis) offers the key pools: pick a key with headroom on every
// limit and reserve one request plus an estimate of its tokens, in one atomic step; correct the
// tokens when the answer's usage is known; cool a key down; report usage for /v1/usage.
import type { KeyLimits } from '../config/file-schema.js';

export interface KeySpec {
  id: string;
  limits: KeyLimits;
}

export interface SelectInput {
  /** Names the rotation cursor. */
  provider: string;
  keys: readonly KeySpec[];
  /** Key ids this request has already tried. */
  exclude: ReadonlySet<string>;
  /** Tokens reserved now (prompt estimate plus the requested output cap). */
  estimate: number;
  /** Keys whose day usage is within this many percentage points of the least used one take turns. */
  gapPercent: number;
  now: number;
}

/** One reserved request: enough to correct its tokens later in the right window and day. */
export interface Lease {
  keyId: string;
  /** The second (epoch seconds) whose bucket holds the reservation. */
  second: number;
  /** The UTC day (days since epoch) it counts against. */
  day: number;
  estimate: number;
  /** Chosen although the provider refused it lately, because every other key was out. */
  refused?: boolean;
}

export type SelectResult =
  | { ok: true; index: number; lease: Lease }
  /** No key has headroom; freeInMs says when the first one frees, when known. */
  | { ok: false; freeInMs: number | undefined; unavailable?: boolean };

/** What an answered request really used. */
export interface Settlement {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  cost: number | null;
  clientHash: string | null;
}

export type CooldownReason = 'rate-limited' | 'refused';

export interface KeyUsage {
  requestsMinute: number;
  tokensMinute: number;
  requestsDay: number;
  tokensDay: number;
  promptTokensDay: number;
  completionTokensDay: number;
  costDay: number;
  cooldown: { reason: CooldownReason; remainingMs: number } | null;
}

export interface ClientUsage {
  requests: number;
  tokens: number;
  cost: number;
}

export interface UsageView {
  /** The UTC date the day counts belong to, YYYY-MM-DD. */
  day: string;
  keys: Map<string, KeyUsage>;
  clients: Map<string, ClientUsage>;
}

export interface LimitStore {
  readonly kind: 'memory' | 'redis';
  select(input: SelectInput): SelectResult | Promise<SelectResult>;
  /** Corrects a lease's tokens: a settlement from the answer's usage, or undefined (no tokens used). */
  settle(lease: Lease, settlement: Settlement | undefined): void;
  /** A client's answered request that used no pooled key (a keyless provider): its day totals only. */
  countClient(day: number, settlement: Settlement): void;
  cool(keyId: string, untilMs: number, reason: CooldownReason): void;
  /** A success clears a key's cooldown. */
  clearCooldown(keyId: string): void;
  view(keyIds: readonly string[], now: number): Promise<UsageView>;
  close(): Promise<void>;
}

export const MINUTE_SECONDS = 60;
export const DAY_MS = 86_400_000;

export function dayOf(now: number): number {
  return Math.floor(now / DAY_MS);
}

export function dayLabel(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}
