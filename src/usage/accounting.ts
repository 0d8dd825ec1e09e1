// Turns a finished exchange's usage into limit corrections and totals: the provider key's
// reservation is settled with the tokens really used (the estimate stands when the answer carried
// no usage), the cost is worked out from the price, and the client's day totals grow.
import type { KeyPools } from '../keys/key-pool.js';
import { dayOf } from '../keys/limit-store.js';
import type { Accounting, PendingRecord } from '../logs/request-record.js';
import { costOf, readUsage } from './pricing.js';

export function accountingFor(keys: KeyPools): Accounting {
  return (pending: PendingRecord, usage: unknown): number | null => {
    const tokens = readUsage(usage);
    let cost: number | null = pending.cost ?? null;
    if (cost === null && pending.price !== undefined && tokens !== undefined)
      cost = costOf(pending.price, tokens);
    const lease = pending.lease;
    const settlement = {
      promptTokens: tokens?.promptTokens ?? 0,
      completionTokens: tokens?.completionTokens ?? 0,
      totalTokens: tokens?.totalTokens ?? lease?.estimate ?? 0,
      cost,
      clientHash: pending.base.client_key_hash,
    };
    if (lease !== undefined) keys.settle(lease, settlement);
    else if (pending.base.provider !== null && pending.base.status < 400) {
      // A keyless provider (Ollama, a catalog without a token): the client's totals still count.
      keys.store.countClient(dayOf(Date.parse(pending.base.time)), settlement);
    }
    return cost;
  };
}
