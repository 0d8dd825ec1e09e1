// Usage: requests, tokens and cost over time (by hour or day) from the log store, totals by
// provider, model and client key, and each provider key's state in its pool (use of its limits,
// cool-downs) from the limit store. Refreshes every 10 seconds.
import { useEffect, useState } from 'preact/hooks';
import { getJson } from './api.js';
import { Chart } from './chart.js';
import { clientLabel, count, money } from './format.js';
import { ErrorLine, Meter, TotalsTable } from './tables.js';
import type { UsageAnswer } from './types.js';

const RANGES = [
  { label: 'Last 24 hours (hourly)', hours: 24, bucket: 'hour' },
  { label: 'Last 7 days (hourly)', hours: 168, bucket: 'hour' },
  { label: 'Last 30 days (daily)', hours: 720, bucket: 'day' },
  { label: 'Last 90 days (daily)', hours: 2160, bucket: 'day' },
] as const;

function PoolTable(props: { pools: UsageAnswer['pools'] }) {
  const rows = Object.entries(props.pools.details).flatMap(([provider, detail]) =>
    Object.entries(detail.keys).map(([id, key]) => ({ provider, id, key })),
  );
  return (
    <section class="card">
      <h3>Provider key pools (today, {props.pools.day} UTC)</h3>
      <table data-testid="pool-table">
        <thead>
          <tr>
            <th>Provider</th>
            <th>Key id</th>
            <th>Requests / min</th>
            <th>Requests / day</th>
            <th>Tokens / min</th>
            <th>Tokens / day</th>
            <th class="num">Cost today</th>
            <th>State</th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && (
            <tr>
              <td colSpan={8} class="muted">
                No provider has keys in a pool.
              </td>
            </tr>
          )}
          {rows.map(({ provider, id, key }) => (
            <tr key={`${provider}/${id}`}>
              <td>{provider}</td>
              <td>
                <code>{id}</code>
              </td>
              <td>
                <Meter used={key.rate_limit_windows.req_min} limit={key.rate_limits.max_request_min} />
              </td>
              <td>
                <Meter used={key.rate_limit_windows.req_day} limit={key.rate_limits.max_request_day} />
              </td>
              <td>
                <Meter used={key.token_windows.tok_min} limit={key.rate_limits.max_token_min} />
              </td>
              <td>
                <Meter used={key.token_windows.tok_day} limit={key.rate_limits.max_token_day} />
              </td>
              <td class="num">{money(key.cost)}</td>
              <td>
                {key.cooldown === null ? (
                  <span class="ok">ready</span>
                ) : (
                  <span class="warn">
                    cooling ({key.cooldown.reason}, {key.cooldown.seconds_left} s)
                  </span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function UsagePage() {
  const [range, setRange] = useState(0);
  const [data, setData] = useState<UsageAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const chosen = RANGES[range]!;

  useEffect(() => {
    let live = true;
    const load = () =>
      getJson<UsageAnswer>('usage', { hours: String(chosen.hours), bucket: chosen.bucket })
        .then((answer) => {
          if (!live) return;
          setData(answer);
          setError(null);
        })
        .catch((failure: Error) => live && setError(failure.message));
    void load();
    const timer = setInterval(load, 10_000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [range]);

  const history = data?.history;
  const times = history?.series.map((p) => p.t) ?? [];
  const names = data?.client_names ?? {};
  return (
    <main>
      <div class="toolbar">
        <h2>Usage</h2>
        <select
          aria-label="Range"
          value={String(range)}
          onChange={(e) => setRange(Number((e.target as HTMLSelectElement).value))}
        >
          {RANGES.map((r, i) => (
            <option key={r.label} value={String(i)}>
              {r.label}
            </option>
          ))}
        </select>
      </div>
      <ErrorLine error={error} />
      {data !== null && !data.logstore.enabled && history?.partitions === 0 && (
        <p class="note">
          The history comes from the log store: set <code>LOGDB_ENABLED=true</code> (and{' '}
          <code>LOGDB_FTS_ENABLED=true</code> for search) so the gateway ingests its request log.
        </p>
      )}
      {history !== undefined && (
        <>
          <div class="stats" data-testid="usage-totals">
            <div>
              <span class="big">{count(history.totals.requests)}</span> requests
            </div>
            <div>
              <span class="big">{count(history.totals.errors)}</span> errors
            </div>
            <div>
              <span class="big">{count(history.totals.total_tokens)}</span> tokens
            </div>
            <div>
              <span class="big">{money(history.totals.cost)}</span> cost
            </div>
          </div>
          <div class="charts">
            <Chart
              title="Requests"
              testId="chart-requests"
              times={times}
              series={[
                {
                  label: 'requests',
                  color: '#2563eb',
                  bars: true,
                  values: history.series.map((p) => p.requests),
                  format: count,
                },
                {
                  label: 'errors',
                  color: '#dc2626',
                  bars: true,
                  values: history.series.map((p) => p.errors),
                  format: count,
                },
              ]}
            />
            <Chart
              title="Tokens"
              testId="chart-tokens"
              times={times}
              series={[
                {
                  label: 'prompt',
                  color: '#7c3aed',
                  values: history.series.map((p) => p.prompt_tokens),
                  format: count,
                },
                {
                  label: 'completion',
                  color: '#059669',
                  values: history.series.map((p) => p.completion_tokens),
                  format: count,
                },
              ]}
            />
            <Chart
              title="Cost"
              testId="chart-cost"
              times={times}
              series={[
                { label: 'cost', color: '#d97706', values: history.series.map((p) => p.cost), format: money },
              ]}
            />
          </div>
          <TotalsTable title="By provider" rows={history.by_provider} testId="by-provider" />
          <TotalsTable title="By model" rows={history.by_model} testId="by-model" />
          <TotalsTable
            title="By client key"
            rows={history.by_client}
            label={(name) => clientLabel(name, names)}
            testId="by-client"
          />
        </>
      )}
      {data !== null && <PoolTable pools={data.pools} />}
    </main>
  );
}
