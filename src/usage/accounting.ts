// Turns a finished exchange's usage into limit corrections and totals: the provider key's
// reservation is settled with the tokens really used (the estimate stands when the answer carried
// no usage) and the client's day totals grow. The log writer found the usage and the cost.
import type { KeyPools } from '../keys/key-pool.js';
import { dayOf } from '../keys/limit-store.js';
import type { Accounting } from '../logs/request-record.js';

export function accountingFor(keys: KeyPools): Accounting {
  return (meta, tokens, cost) => {
    const lease = meta.lease;
    const settlement = {
      promptTokens: tokens?.promptTokens ?? 0,
      completionTokens: tokens?.completionTokens ?? 0,
      totalTokens: tokens?.totalTokens ?? lease?.estimate ?? 0,
      cost,
      clientHash: meta.clientKeyHash,
    };
    if (lease !== undefined) keys.settle(lease, settlement);
    else if (meta.provider !== null && meta.status < 400) {
      // A keyless provider (Ollama, a catalog without a token): the client's totals still count.
      keys.store.countClient(dayOf(Date.parse(meta.time)), settlement);
    }
  };
}
