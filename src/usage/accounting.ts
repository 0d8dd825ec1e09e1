// Turns a finished exchange's usage into limit corrections and totals: the provider key's
// reservation is settled with the tokens really used (the estimate stands when the answer carried
// no usage) and the client's day totals grow; a managed client key's reservation is settled with
// the real tokens and cost (its estimate when the answer carried no usage), or released when the
// call failed. The log
// writer found the usage and the cost.
import type { KeyPools } from '../keys/key-pool.js';
import { dayOf } from '../keys/limit-store.js';
import type { Accounting } from '../logs/request-record.js';
import type { BudgetStore } from '../managed-keys/budget-store.js';

export function accountingFor(keys: KeyPools, budgets?: BudgetStore): Accounting {
  return (meta, tokens, cost) => {
    meta.observer?.usage(meta, tokens, cost);
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
    const reservation = meta.clientReservation;
    if (reservation === undefined || budgets === undefined) return;
    // An answer without usage (an upstream that reports none) keeps its estimate: only a failed call
    // gives its reservation back, so nothing answered is ever free.
    const settled =
      meta.status < 400
        ? budgets.settle(reservation, {
            tokens: tokens?.totalTokens ?? reservation.tokens,
            cost: cost ?? reservation.cost,
          })
        : budgets.release(reservation);
    // A shared store that fails here keeps the reservation (counted at its estimate), never more.
    if (settled instanceof Promise) settled.catch(() => {});
  };
}
