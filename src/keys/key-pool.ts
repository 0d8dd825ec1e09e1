// Chooses a provider key for each attempt through the limit store: among keys with headroom on
// every limit, the least used by day (within model_usage_gap_percentage) in turn. A 429 cools a
// key down (Retry-After, else 60 s); a 401/403 sets it aside for 5 minutes, though it is still
// used when nothing else is left, so the provider's real refusal reaches the client.
import type { Logger } from 'pino';
import type { ProviderConfig, ProviderKey } from '../config/types.js';
import type { Lease, LimitStore, Settlement } from './limit-store.js';
import { MemoryLimitStore } from './memory-limit-store.js';

/** Stand-in for providers that need no key (Ollama, local servers). */
export const NO_KEY: ProviderKey = { id: 'none', key: '', limits: {} };

const DEFAULT_COOLDOWN_MS = 60_000;
const REFUSED_KEY_MS = 5 * 60_000;

export interface KeyOutcome {
  status: number | undefined;
  retryAfterMs?: number | undefined;
}

export type Acquired =
  | { key: ProviderKey; lease: Lease | undefined }
  | { key: undefined; freeInMs: number | undefined; unavailable: boolean };

export interface AcquireOptions {
  /** Already tried by this request. */
  tried: ReadonlySet<string>;
  estimate: number;
  gapPercent: number;
  /** Retry exactly this key (a bounded retry after every key was tried). */
  only?: ProviderKey;
}

export class KeyPools {
  constructor(
    readonly store: LimitStore = new MemoryLimitStore(),
    private readonly logger?: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** A key with headroom and its reservation; synchronous in memory mode. */
  acquire(provider: ProviderConfig, options: AcquireOptions): Acquired | Promise<Acquired> {
    const keys = options.only === undefined ? provider.keys : [options.only];
    if (keys.length === 0) {
      return provider.keyOptional && !options.tried.has(NO_KEY.id)
        ? { key: NO_KEY, lease: undefined }
        : { key: undefined, freeInMs: undefined, unavailable: false };
    }
    const selected = this.store.select({
      provider: provider.name,
      keys,
      exclude: options.only === undefined ? options.tried : EMPTY,
      estimate: options.estimate,
      gapPercent: options.gapPercent,
      now: this.now(),
    });
    if (selected instanceof Promise) return selected.then((result) => toAcquired(keys, result));
    return toAcquired(keys, selected);
  }

  /** After an attempt: cool a key on 429, set it aside on 401/403, give back unused tokens. */
  report(key: ProviderKey, lease: Lease | undefined, outcome: KeyOutcome, provider?: string): void {
    if (key === NO_KEY) return;
    const status = outcome.status;
    if (status === 429) {
      this.store.cool(key.id, this.now() + (outcome.retryAfterMs ?? DEFAULT_COOLDOWN_MS), 'rate-limited');
    } else if (status === 401 || status === 403) {
      this.store.cool(key.id, this.now() + REFUSED_KEY_MS, 'refused');
      this.logger?.warn(
        { provider, key_id: key.id, status },
        'provider refused a key; it is set aside for 5 minutes',
      );
    } else if (status !== undefined && status < 400 && lease?.refused === true) {
      // A success proves a refused key works again.
      this.store.clearCooldown(key.id);
    }
    if (lease !== undefined && (status === undefined || status >= 400)) this.store.settle(lease, undefined);
  }

  /** The answer's real usage corrects the reservation and adds to the day's totals. */
  settle(lease: Lease, settlement: Settlement): void {
    this.store.settle(lease, settlement);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

const EMPTY: ReadonlySet<string> = new Set();

function toAcquired(
  keys: readonly ProviderKey[],
  result: Awaited<ReturnType<LimitStore['select']>>,
): Acquired {
  if (result.ok) return { key: keys[result.index]!, lease: result.lease };
  return { key: undefined, freeInMs: result.freeInMs, unavailable: result.unavailable === true };
}
