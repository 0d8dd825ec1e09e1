// Keys: the managed client keys (issue 15) with their spend against each budget and today's use
// of their rate limits. The keys themselves are never shown (nobody has them but their holders).
import { useEffect, useState } from 'preact/hooks';
import { getJson } from './api.js';
import { count, money, when } from './format.js';
import { ErrorLine, Meter } from './tables.js';
import type { ManagedKeyRow } from './types.js';

function BudgetCell(props: { row: ManagedKeyRow; period: 'day' | 'month' | 'total' }) {
  const usage = props.row.usage;
  if (usage === undefined) return <td>–</td>;
  const budget = usage.budgets[props.period];
  const spent =
    props.period === 'day'
      ? usage.spent_day
      : props.period === 'month'
        ? usage.spent_month
        : usage.spent_total;
  return (
    <td>
      <Meter used={budget?.spent ?? spent} limit={budget?.limit} format={money} />
    </td>
  );
}

export function KeysPage() {
  const [rows, setRows] = useState<ManagedKeyRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    getJson<{ data: ManagedKeyRow[] }>('keys')
      .then((answer) => setRows(answer.data))
      .catch((failure: Error) => setError(failure.message));
  }, []);
  return (
    <main>
      <h2>Managed keys</h2>
      <ErrorLine error={error} />
      {rows !== null && rows.length === 0 && (
        <p class="note">
          No managed keys. Create one with <code>ai-proxy keys create --name NAME --budget-day 5</code> or{' '}
          <code>POST /admin/keys</code>.
        </p>
      )}
      {rows !== null && rows.length > 0 && (
        <section class="card">
          <table data-testid="keys-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Id</th>
                <th>Owner</th>
                <th>Status</th>
                <th>Requests today</th>
                <th>Tokens today</th>
                <th>Spent today</th>
                <th>Spent this month</th>
                <th>Spent in total</th>
                <th>Expires</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.id}>
                  <td class="nowrap">{row.name}</td>
                  <td>
                    <code>{row.id}</code>
                  </td>
                  <td>{row.owner ?? '–'}</td>
                  <td class={row.status === 'active' ? 'ok' : 'warn'}>{row.status}</td>
                  <td>
                    <Meter used={row.usage?.requests_day ?? 0} limit={row.usage?.limits.rpd?.limit} />
                  </td>
                  <td>
                    <Meter
                      used={row.usage?.tokens_day ?? 0}
                      limit={row.usage?.limits.tpd?.limit}
                      format={count}
                    />
                  </td>
                  <BudgetCell row={row} period="day" />
                  <BudgetCell row={row} period="month" />
                  <BudgetCell row={row} period="total" />
                  <td>{row.expires_at === null ? 'never' : when(row.expires_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </main>
  );
}
