// Chooses a provider key for each attempt: rotates among the provider's keys, skipping keys that
// are cooling down after a 429 or were refused (401/403). Per-key limits build on this (issue 4).
import type { ProviderConfig, ProviderKey } from '../config/types.js';

/** Stand-in for providers that need no key (Ollama, local servers). */
export const NO_KEY: ProviderKey = { id: 'none', key: '', limits: {} };

const DEFAULT_COOLDOWN_MS = 60_000;
const REFUSED_KEY_MS = 5 * 60_000;

export interface KeyOutcome {
  status: number | undefined;
  retryAfterMs?: number | undefined;
}

export class KeyPools {
  private readonly cursors = new Map<string, number>();
  /** key id → until when (ms since epoch) it is set aside, and why. */
  private readonly benched = new Map<string, { until: number; reason: 'rate-limited' | 'refused' }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The next usable key not in `tried`; NO_KEY for keyless providers; undefined when none. */
  pick(provider: ProviderConfig, tried: ReadonlySet<string>): ProviderKey | undefined {
    const keys = provider.keys;
    if (keys.length === 0) return provider.keyOptional && !tried.has(NO_KEY.id) ? NO_KEY : undefined;
    const start = this.cursors.get(provider.name) ?? 0;
    const now = this.now();
    let refused: ProviderKey | undefined;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[(start + i) % keys.length]!;
      if (tried.has(key.id)) continue;
      const bench = this.benched.get(key.id);
      if (bench !== undefined && bench.until > now) {
        if (bench.reason === 'refused') refused ??= key;
        continue;
      }
      this.cursors.set(provider.name, (start + i + 1) % keys.length);
      return key;
    }
    // Every key left was refused lately. Calling one anyway passes the provider's own 401/403 back,
    // which tells the operator the truth; a made-up "rate limited" would not.
    return refused;
  }

  /** When the first benched key of a provider frees, for Retry-After. */
  nextFreeInMs(provider: ProviderConfig): number | undefined {
    const now = this.now();
    let soonest: number | undefined;
    for (const key of provider.keys) {
      const bench = this.benched.get(key.id);
      if (bench !== undefined && bench.until > now) {
        soonest = Math.min(soonest ?? Number.POSITIVE_INFINITY, bench.until - now);
      }
    }
    return soonest;
  }

  report(key: ProviderKey, outcome: KeyOutcome): void {
    if (key === NO_KEY) return;
    if (outcome.status === 429) {
      this.benched.set(key.id, {
        until: this.now() + (outcome.retryAfterMs ?? DEFAULT_COOLDOWN_MS),
        reason: 'rate-limited',
      });
    } else if (outcome.status === 401 || outcome.status === 403) {
      this.benched.set(key.id, { until: this.now() + REFUSED_KEY_MS, reason: 'refused' });
    } else if (outcome.status !== undefined && outcome.status < 400) {
      // A success proves the key works again.
      this.benched.delete(key.id);
    }
  }
}
