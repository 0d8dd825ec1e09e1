// Limits kept in this process: per key, 60 one-second buckets of requests and tokens (a sliding
// minute at one-second resolution, minute-window.ts) and the UTC day's counts. Every step is synchronous, so a
// selection and its reservation cannot interleave with another request's: 200 concurrent requests
// against a 50-a-minute key let exactly 50 through. The Redis store runs the same algorithm in Lua.
import {
  type ClientUsage,
  type CooldownReason,
  DAY_MS,
  dayLabel,
  dayOf,
  type KeySpec,
  type KeyUsage,
  type Lease,
  type LimitStore,
  MINUTE_SECONDS,
  type SelectInput,
  type SelectResult,
  type Settlement,
  type UsageView,
} from './limit-store.js';
import { type MinuteBucket, MinuteWindow } from './minute-window.js';

/** What a key keeps besides its minute buckets: the day's counts and its cooldown. */
interface DayState {
  day: number;
  requestsDay: number;
  tokensDay: number;
  promptTokensDay: number;
  completionTokensDay: number;
  costDay: number;
  cooldownUntil: number;
  cooldownReason: CooldownReason;
}

interface KeyCounters extends DayState {
  minute: MinuteWindow;
}

/** The snapshot written to disk: plain JSON, restored at start. */
export interface MemorySnapshot {
  version: 1;
  savedAt: number;
  keys: Record<string, DayState & { buckets: MinuteBucket[] }>;
  clients: { day: number; totals: Record<string, ClientUsage> };
  cursors: Record<string, number>;
}

function newCounters(): KeyCounters {
  return {
    minute: new MinuteWindow(),
    day: -1,
    requestsDay: 0,
    tokensDay: 0,
    promptTokensDay: 0,
    completionTokensDay: 0,
    costDay: 0,
    cooldownUntil: 0,
    cooldownReason: 'rate-limited',
  };
}

export class MemoryLimitStore implements LimitStore {
  readonly kind = 'memory';
  private readonly counters = new Map<string, KeyCounters>();
  private readonly cursors = new Map<string, number>();
  private clientDay = -1;
  private clients = new Map<string, ClientUsage>();
  /** Set on every change; the snapshot writer clears it. */
  dirty = false;

  private entry(keyId: string): KeyCounters {
    let counters = this.counters.get(keyId);
    if (counters === undefined) {
      counters = newCounters();
      this.counters.set(keyId, counters);
    }
    return counters;
  }

  /** The key's counters with the day's counts reset when `day` is a new one. */
  private countersOf(keyId: string, day: number): KeyCounters {
    const counters = this.entry(keyId);
    if (counters.day !== day) {
      counters.day = day;
      counters.requestsDay = 0;
      counters.tokensDay = 0;
      counters.promptTokensDay = 0;
      counters.completionTokensDay = 0;
      counters.costDay = 0;
    }
    return counters;
  }

  select(input: SelectInput): SelectResult {
    const { keys, now } = input;
    const second = Math.floor(now / 1000);
    const day = dayOf(now);
    let freeInMs: number | undefined;
    let refused = -1;
    let leastPercent = Number.POSITIVE_INFINITY;
    const percents: number[] = new Array(keys.length).fill(-1);
    for (let i = 0; i < keys.length; i++) {
      const spec = keys[i]!;
      if (input.exclude.has(spec.id)) continue;
      const counters = this.countersOf(spec.id, day);
      if (counters.cooldownUntil > now) {
        if (counters.cooldownReason === 'refused' && refused === -1) refused = i;
        freeInMs = Math.min(freeInMs ?? Number.POSITIVE_INFINITY, counters.cooldownUntil - now);
        continue;
      }
      const wait = this.blockedFor(spec, counters, second, day, input.estimate, now);
      if (wait > 0) {
        freeInMs = Math.min(freeInMs ?? Number.POSITIVE_INFINITY, wait);
        continue;
      }
      const percent = dayPercent(spec, counters);
      percents[i] = percent;
      if (percent < leastPercent) leastPercent = percent;
    }
    let chosen = -1;
    if (leastPercent !== Number.POSITIVE_INFINITY) {
      const start = this.cursors.get(input.provider) ?? 0;
      for (let n = 0; n < keys.length; n++) {
        const i = (start + n) % keys.length;
        const percent = percents[i]!;
        if (percent >= 0 && percent <= leastPercent + input.gapPercent) {
          chosen = i;
          break;
        }
      }
      this.cursors.set(input.provider, (chosen + 1) % keys.length);
    } else if (refused !== -1) {
      // Only keys the provider refused are left: calling one passes its real 401/403 back.
      chosen = refused;
    }
    if (chosen === -1) return { ok: false, freeInMs };
    const spec = keys[chosen]!;
    const counters = this.countersOf(spec.id, day);
    counters.minute.add(second, 1, input.estimate);
    counters.requestsDay += 1;
    counters.tokensDay += input.estimate;
    this.dirty = true;
    const lease: Lease = { keyId: spec.id, second, day, estimate: input.estimate };
    if (leastPercent === Number.POSITIVE_INFINITY) lease.refused = true;
    return { ok: true, index: chosen, lease };
  }

  /** 0 when the key can take one more request of `estimate` tokens now, else ms until it can. */
  private blockedFor(
    spec: KeySpec,
    counters: KeyCounters,
    second: number,
    day: number,
    estimate: number,
    now: number,
  ): number {
    const { limits } = spec;
    let wait = 0;
    const toMidnight = (day + 1) * DAY_MS - now;
    if (limits.max_request_day !== undefined && counters.requestsDay + 1 > limits.max_request_day) {
      wait = Math.max(wait, toMidnight);
    }
    if (limits.max_token_day !== undefined && counters.tokensDay > 0) {
      if (counters.tokensDay + estimate > limits.max_token_day) wait = Math.max(wait, toMidnight);
    }
    if (limits.max_request_min !== undefined || limits.max_token_min !== undefined) {
      const w = counters.minute.totals(second);
      if (limits.max_request_min !== undefined && w.requests + 1 > limits.max_request_min) {
        wait = Math.max(wait, (w.oldestRequest + MINUTE_SECONDS) * 1000 - now);
      }
      // A request larger than the whole minute's allowance still goes through an empty window.
      if (limits.max_token_min !== undefined && w.tokens > 0 && w.tokens + estimate > limits.max_token_min) {
        wait = Math.max(wait, (w.oldestToken + MINUTE_SECONDS) * 1000 - now);
      }
    }
    return wait > 0 ? Math.max(1, wait) : 0;
  }

  settle(lease: Lease, settlement: Settlement | undefined): void {
    const counters = this.counters.get(lease.keyId);
    if (counters === undefined) return;
    const used = settlement?.totalTokens ?? 0;
    const delta = used - lease.estimate;
    counters.minute.adjustTokens(lease.second, delta);
    if (counters.day === lease.day) {
      counters.tokensDay = Math.max(0, counters.tokensDay + delta);
      if (settlement !== undefined) {
        counters.promptTokensDay += settlement.promptTokens;
        counters.completionTokensDay += settlement.completionTokens;
        counters.costDay += settlement.cost ?? 0;
      }
    }
    if (settlement !== undefined) this.addClient(lease.day, settlement, used);
    this.dirty = true;
  }

  countClient(day: number, settlement: Settlement): void {
    this.addClient(day, settlement, settlement.totalTokens);
    this.dirty = true;
  }

  private addClient(day: number, settlement: Settlement, tokens: number): void {
    if (settlement.clientHash === null) return;
    if (this.clientDay !== day) {
      this.clientDay = day;
      this.clients = new Map();
    }
    let client = this.clients.get(settlement.clientHash);
    if (client === undefined) {
      client = { requests: 0, tokens: 0, cost: 0 };
      this.clients.set(settlement.clientHash, client);
    }
    client.requests += 1;
    client.tokens += tokens;
    client.cost += settlement.cost ?? 0;
  }

  cool(keyId: string, untilMs: number, reason: CooldownReason): void {
    const counters = this.entry(keyId);
    counters.cooldownUntil = untilMs;
    counters.cooldownReason = reason;
    this.dirty = true;
  }

  clearCooldown(keyId: string): void {
    const counters = this.counters.get(keyId);
    if (counters !== undefined && counters.cooldownUntil !== 0) {
      counters.cooldownUntil = 0;
      this.dirty = true;
    }
  }

  async view(keyIds: readonly string[], now: number): Promise<UsageView> {
    return this.viewNow(keyIds, now);
  }

  viewNow(keyIds: readonly string[], now: number): UsageView {
    const day = dayOf(now);
    const second = Math.floor(now / 1000);
    const keys = new Map<string, KeyUsage>();
    for (const id of keyIds) {
      const counters = this.countersOf(id, day);
      const w = counters.minute.totals(second);
      keys.set(id, {
        requestsMinute: w.requests,
        tokensMinute: w.tokens,
        requestsDay: counters.requestsDay,
        tokensDay: counters.tokensDay,
        promptTokensDay: counters.promptTokensDay,
        completionTokensDay: counters.completionTokensDay,
        costDay: counters.costDay,
        cooldown:
          counters.cooldownUntil > now
            ? { reason: counters.cooldownReason, remainingMs: counters.cooldownUntil - now }
            : null,
      });
    }
    const clients = this.clientDay === day ? new Map(this.clients) : new Map<string, ClientUsage>();
    return { day: dayLabel(day), keys, clients };
  }

  /** Whether any of these keys could take a request now (auto-model ordering). */
  hasHeadroom(keys: readonly KeySpec[], now: number): boolean {
    const second = Math.floor(now / 1000);
    const day = dayOf(now);
    return keys.some((spec) => {
      const counters = this.countersOf(spec.id, day);
      return counters.cooldownUntil <= now && this.blockedFor(spec, counters, second, day, 0, now) === 0;
    });
  }

  snapshot(now: number): MemorySnapshot {
    const keys: MemorySnapshot['keys'] = {};
    const second = Math.floor(now / 1000);
    for (const [id, c] of this.counters) {
      const { minute, ...day } = c;
      keys[id] = { ...day, buckets: minute.buckets(second) };
    }
    return {
      version: 1,
      savedAt: now,
      keys,
      clients: { day: this.clientDay, totals: Object.fromEntries(this.clients) },
      cursors: Object.fromEntries(this.cursors),
    };
  }

  restore(snapshot: MemorySnapshot): void {
    for (const [id, saved] of Object.entries(snapshot.keys)) {
      const c = newCounters();
      c.minute.load(saved.buckets);
      const { buckets: _buckets, ...day } = saved;
      this.counters.set(id, Object.assign(c, day));
    }
    this.clientDay = snapshot.clients.day;
    this.clients = new Map(Object.entries(snapshot.clients.totals));
    for (const [provider, cursor] of Object.entries(snapshot.cursors)) this.cursors.set(provider, cursor);
  }

  async close(): Promise<void> {}
}

function dayPercent(spec: KeySpec, counters: KeyCounters): number {
  const { limits } = spec;
  if (limits.max_request_day !== undefined) return (counters.requestsDay / limits.max_request_day) * 100;
  if (limits.max_token_day !== undefined) return (counters.tokensDay / limits.max_token_day) * 100;
  return 0;
}
