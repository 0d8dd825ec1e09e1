// What a managed key has used, as the admin API and /v1/usage show it: requests and tokens against
// its rate limits, spend against its budgets, what requests in flight hold, and when periods reset.
// Read from the budget store (exact in memory; shared in Redis).
import type { BudgetStore, KeyUsageView } from './budget-store.js';
import type { KeyStore } from './key-store.js';
import type { KeyPolicy } from './types.js';

function money(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** A key's usage and what is left of each limit it has, in the wire's snake_case. */
export function usageWire(view: KeyUsageView, policy: KeyPolicy): Record<string, unknown> {
  const limits: Record<string, unknown> = {};
  const left = (limit: number | undefined, used: number) =>
    limit === undefined ? undefined : Math.max(0, limit - used);
  if (policy.rpm !== undefined)
    limits.rpm = {
      limit: policy.rpm,
      used: view.requestsMinute,
      remaining: left(policy.rpm, view.requestsMinute),
    };
  if (policy.rpd !== undefined)
    limits.rpd = { limit: policy.rpd, used: view.requestsDay, remaining: left(policy.rpd, view.requestsDay) };
  if (policy.tpm !== undefined)
    limits.tpm = {
      limit: policy.tpm,
      used: view.tokensMinute,
      remaining: left(policy.tpm, view.tokensMinute),
    };
  if (policy.tpd !== undefined)
    limits.tpd = { limit: policy.tpd, used: view.tokensDay, remaining: left(policy.tpd, view.tokensDay) };
  const budgets: Record<string, unknown> = {};
  const budget = (
    limit: number | undefined,
    spent: number,
    remaining: number | undefined,
    resetsAt: number | null,
  ) =>
    limit === undefined
      ? undefined
      : {
          limit,
          spent: money(spent),
          remaining: money(remaining ?? Math.max(0, limit - spent)),
          resets_at: resetsAt === null ? null : new Date(resetsAt).toISOString(),
        };
  const day = budget(policy.budgetDay, view.spentDay, view.remaining.day, view.dayResetAt);
  const month = budget(policy.budgetMonth, view.spentMonth, view.remaining.month, view.monthResetAt);
  const total = budget(policy.budgetTotal, view.spentTotal, view.remaining.total, null);
  if (day !== undefined) budgets.day = day;
  if (month !== undefined) budgets.month = month;
  if (total !== undefined) budgets.total = total;
  return {
    day: view.day,
    month: view.month,
    requests_day: view.requestsDay,
    tokens_day: view.tokensDay,
    spent_day: money(view.spentDay),
    spent_month: money(view.spentMonth),
    spent_total: money(view.spentTotal),
    in_flight: {
      requests: view.inFlight.requests,
      tokens: view.inFlight.tokens,
      cost: money(view.inFlight.cost),
    },
    limits,
    budgets,
  };
}

/** The usage of these keys, by id (unknown ids left out). */
export async function keysUsage(
  keys: KeyStore,
  budgets: BudgetStore,
  ids: readonly string[],
): Promise<Map<string, Record<string, unknown>>> {
  const now = Date.now();
  const out = new Map<string, Record<string, unknown>>();
  for (const id of ids) {
    const record = await keys.get(id);
    if (record === undefined) continue;
    out.set(id, usageWire(await budgets.view(id, record.policy, now), record.policy));
  }
  return out;
}
