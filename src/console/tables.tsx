// Small shared pieces of the pages: a totals table by one dimension, a usage bar, an error line.
import { count, money, percent } from './format.js';
import type { GroupTotals } from './types.js';

export function TotalsTable(props: {
  title: string;
  rows: GroupTotals[];
  label?: (name: string | null) => string;
  testId?: string;
}) {
  const label = props.label ?? ((name: string | null) => name ?? '–');
  return (
    <section class="card">
      <h3>{props.title}</h3>
      <table data-testid={props.testId}>
        <thead>
          <tr>
            <th>{props.title.replace(/^By /, '')}</th>
            <th class="num">Requests</th>
            <th class="num">Errors</th>
            <th class="num">Prompt tokens</th>
            <th class="num">Completion tokens</th>
            <th class="num">Cost</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.length === 0 && (
            <tr>
              <td colSpan={6} class="muted">
                No requests in this range.
              </td>
            </tr>
          )}
          {props.rows.map((row) => (
            <tr key={row.name ?? ''}>
              <td>{label(row.name)}</td>
              <td class="num">{count(row.requests)}</td>
              <td class="num">{count(row.errors)}</td>
              <td class="num">{count(row.prompt_tokens)}</td>
              <td class="num">{count(row.completion_tokens)}</td>
              <td class="num">{money(row.cost)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** `used` of `limit` as a bar with the numbers beside it; just the number when there is no limit. */
export function Meter(props: { used: number; limit: number | undefined; format?: (n: number) => string }) {
  const format = props.format ?? count;
  const share = percent(props.used, props.limit);
  if (share === undefined) return <span>{format(props.used)}</span>;
  const level = share >= 90 ? 'high' : share >= 70 ? 'mid' : 'low';
  return (
    <span class="meter" title={`${share.toFixed(1)}%`}>
      <span class="bar">
        <span class={`fill ${level}`} style={{ width: `${share}%` }} />
      </span>
      {format(props.used)} / {format(props.limit!)}
    </span>
  );
}

export function ErrorLine(props: { error: string | null }) {
  if (props.error === null) return null;
  return (
    <p class="error" role="alert">
      {props.error}
    </p>
  );
}
