// Limits kept in Redis, shared by every gateway instance that points at it. Selection plus
// reservation is one Lua script (one round trip, atomic); settlement is another. The connection
// (redis-connection.ts) fails fast while Redis is away and gives every command a deadline, so the
// failover store can count locally meanwhile.
import type { Redis } from 'ioredis';
import {
  type ClientUsage,
  type CooldownReason,
  dayLabel,
  dayOf,
  type KeyUsage,
  type Lease,
  type LimitStore,
  type SelectInput,
  type SelectResult,
  type Settlement,
  type UsageView,
} from './limit-store.js';
import { minuteFromRedisHash } from './minute-window.js';
import { pipelineReader, RedisConnection, type RedisConnectionOptions } from './redis-connection.js';
import { SELECT_SCRIPT, SETTLE_SCRIPT } from './redis-scripts.js';

interface ScriptedRedis extends Redis {
  aiProxySelect(...args: (string | number)[]): Promise<[number, number, number, number, number]>;
  aiProxySettle(...args: (string | number)[]): Promise<number>;
}

export interface RedisStoreOptions extends RedisConnectionOptions {
  prefix: string;
}

export class RedisLimitStore extends RedisConnection<ScriptedRedis> implements LimitStore {
  readonly kind = 'redis';
  private readonly prefix: string;

  constructor(options: RedisStoreOptions) {
    super(options, { aiProxySelect: SELECT_SCRIPT, aiProxySettle: SETTLE_SCRIPT });
    this.prefix = options.prefix;
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
    const value = pipelineReader(await pipeline.exec());
    const keys = new Map<string, KeyUsage>();
    keyIds.forEach((id, n) => {
      const minute = value(n * 4) as Record<string, string>;
      const daily = value(n * 4 + 1) as Record<string, string>;
      const reason = value(n * 4 + 2) as string | null;
      const ttl = value(n * 4 + 3) as number;
      const inMinute = minuteFromRedisHash(minute, second);
      keys.set(id, {
        requestsMinute: inMinute.requests,
        tokensMinute: inMinute.tokens,
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
}
