// Limits kept in Redis, shared by every gateway instance that points at it. Selection plus
// reservation is one Lua script (one round trip, atomic); settlement is another. Commands fail
// fast while Redis is away (no offline queue), and every command has a deadline (a frozen Redis
// keeps its connection open and never answers), so the failover store can count locally meanwhile.
import { Redis } from 'ioredis';
import {
  type ClientUsage,
  type CooldownReason,
  dayLabel,
  dayOf,
  type KeyUsage,
  type Lease,
  type LimitStore,
  MINUTE_SECONDS,
  type SelectInput,
  type SelectResult,
  type Settlement,
  type UsageView,
} from './limit-store.js';
import { SELECT_SCRIPT, SETTLE_SCRIPT } from './redis-scripts.js';

interface ScriptedRedis extends Redis {
  aiProxySelect(...args: (string | number)[]): Promise<[number, number, number, number, number]>;
  aiProxySettle(...args: (string | number)[]): Promise<number>;
}

export interface RedisStoreOptions {
  url: string;
  prefix: string;
  /** A command not answered by then fails with "Command timed out". */
  commandTimeoutMs: number;
  onError: (error: Error) => void;
}

export class RedisLimitStore implements LimitStore {
  readonly kind = 'redis';
  readonly client: ScriptedRedis;
  private readonly prefix: string;

  constructor(options: RedisStoreOptions) {
    this.prefix = options.prefix;
    const client = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      commandTimeout: options.commandTimeoutMs,
      // Commands issued in the same tick (many requests at once) go out in one write.
      enableAutoPipelining: true,
      // Reconnect forever, at most every 2 s: Redis coming back is picked up on its own.
      retryStrategy: (times) => Math.min(times * 100, 2000),
      lazyConnect: true,
    });
    client.defineCommand('aiProxySelect', { numberOfKeys: 0, lua: SELECT_SCRIPT });
    client.defineCommand('aiProxySettle', { numberOfKeys: 0, lua: SETTLE_SCRIPT });
    client.on('error', options.onError);
    this.client = client as ScriptedRedis;
  }

  /** Connects, waiting at most `timeoutMs`; false when Redis did not answer in time. */
  async connect(timeoutMs: number): Promise<boolean> {
    const connecting = this.client.connect().then(
      () => true,
      () => false,
    );
    const timeout = new Promise<boolean>((resolve) => setTimeout(resolve, timeoutMs, false).unref());
    return Promise.race([connecting, timeout]);
  }

  get ready(): boolean {
    return this.client.status === 'ready';
  }

  /** Resolves when Redis answers a PING within the command deadline; rejects otherwise. */
  async ping(): Promise<void> {
    await this.client.ping();
  }

  async select(input: SelectInput): Promise<SelectResult> {
    const args: (string | number)[] = [
      this.prefix,
      input.provider,
      input.now,
      Math.round(input.estimate),
      input.gapPercent,
      input.keys.length,
    ];
    for (const spec of input.keys) {
      const l = spec.limits;
      args.push(
        spec.id,
        input.exclude.has(spec.id) ? 1 : 0,
        l.max_request_min ?? 0,
        l.max_request_day ?? 0,
        l.max_token_min ?? 0,
        l.max_token_day ?? 0,
      );
    }
    const [chosen, second, day, freeIn, refused] = await this.client.aiProxySelect(...args);
    if (chosen === 0) return { ok: false, freeInMs: freeIn < 0 ? undefined : freeIn };
    const spec = input.keys[chosen - 1]!;
    const lease: Lease = { keyId: spec.id, second, day, estimate: input.estimate };
    if (refused === 1) lease.refused = true;
    return { ok: true, index: chosen - 1, lease };
  }

  settle(lease: Lease, settlement: Settlement | undefined): void {
    const used = Math.round(settlement?.totalTokens ?? 0);
    this.client
      .aiProxySettle(
        this.prefix,
        lease.keyId,
        lease.second,
        lease.day,
        used - Math.round(lease.estimate),
        Math.round(settlement?.promptTokens ?? 0),
        Math.round(settlement?.completionTokens ?? 0),
        settlement?.cost ?? 0,
        settlement?.clientHash ?? '',
        settlement === undefined ? 0 : 1,
        used,
      )
      .catch(() => {
        // The reservation stays as estimated; the error listener has reported the outage.
      });
  }

  countClient(day: number, settlement: Settlement): void {
    if (settlement.clientHash === null) return;
    const key = `${this.prefix}c:${day}`;
    const hash = settlement.clientHash;
    this.client
      .multi()
      .hincrby(key, `${hash}:r`, 1)
      .hincrby(key, `${hash}:t`, Math.round(settlement.totalTokens))
      .hincrbyfloat(key, `${hash}:cost`, settlement.cost ?? 0)
      .expire(key, 259_200)
      .exec()
      .catch(() => {});
  }

  cool(keyId: string, untilMs: number, reason: CooldownReason): void {
    const ms = Math.max(1, Math.round(untilMs - Date.now()));
    this.client.set(`${this.prefix}k:${keyId}:cool`, reason, 'PX', ms).catch(() => {});
  }

  clearCooldown(keyId: string): void {
    this.client.del(`${this.prefix}k:${keyId}:cool`).catch(() => {});
  }

  async view(keyIds: readonly string[], now: number): Promise<UsageView> {
    const day = dayOf(now);
    const second = Math.floor(now / 1000);
    const pipeline = this.client.pipeline();
    for (const id of keyIds) {
      const kp = `${this.prefix}k:${id}`;
      pipeline.hgetall(`${kp}:m`);
      pipeline.hgetall(`${kp}:d:${day}`);
      pipeline.get(`${kp}:cool`);
      pipeline.pttl(`${kp}:cool`);
    }
    pipeline.hgetall(`${this.prefix}c:${day}`);
    const results = (await pipeline.exec()) ?? [];
    const value = (i: number): unknown => {
      const [error, result] = results[i] ?? [null, null];
      if (error) throw error;
      return result;
    };
    const keys = new Map<string, KeyUsage>();
    keyIds.forEach((id, n) => {
      const minute = value(n * 4) as Record<string, string>;
      const daily = value(n * 4 + 1) as Record<string, string>;
      const reason = value(n * 4 + 2) as string | null;
      const ttl = value(n * 4 + 3) as number;
      let requestsMinute = 0;
      let tokensMinute = 0;
      for (const [field, count] of Object.entries(minute)) {
        if (Number(field.slice(2)) <= second - MINUTE_SECONDS) continue;
        if (field.startsWith('r:')) requestsMinute += Number(count);
        else tokensMinute += Number(count);
      }
      keys.set(id, {
        requestsMinute,
        tokensMinute,
        requestsDay: Number(daily.r ?? 0),
        tokensDay: Number(daily.t ?? 0),
        promptTokensDay: Number(daily.p ?? 0),
        completionTokensDay: Number(daily.c ?? 0),
        costDay: Number(daily.cost ?? 0),
        cooldown: reason !== null && ttl > 0 ? { reason: reason as CooldownReason, remainingMs: ttl } : null,
      });
    });
    const clients = new Map<string, ClientUsage>();
    const flat = value(keyIds.length * 4) as Record<string, string>;
    for (const [field, count] of Object.entries(flat)) {
      const cut = field.lastIndexOf(':');
      const hash = field.slice(0, cut);
      const what = field.slice(cut + 1);
      let client = clients.get(hash);
      if (client === undefined) {
        client = { requests: 0, tokens: 0, cost: 0 };
        clients.set(hash, client);
      }
      if (what === 'r') client.requests = Number(count);
      else if (what === 't') client.tokens = Number(count);
      else client.cost = Number(count);
    }
    return { day: dayLabel(day), keys, clients };
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}
