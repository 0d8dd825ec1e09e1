// Logs: a live tail of the newest exchanges (the request log itself, polled every 2 s) and search
// over the log store: the FTS5 language of `ai-proxy logs search` plus filters, newest first, paged.
// The search lives in the address (#/logs?q=…), so going back from an exchange finds it again.
import { useEffect, useState } from 'preact/hooks';
import { getJson } from './api.js';
import { clientLabel, count, money, ms, when } from './format.js';
import { ErrorLine } from './tables.js';
import type { LogHit, LogPage } from './types.js';

const FILTERS = ['q', 'since', 'to', 'model', 'provider', 'status', 'client', 'dialog'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

const OPEN = '\u0002';
const CLOSE = '\u0003';

/** A snippet with its matched words marked. */
function Snippet(props: { text: string | null }) {
  if (props.text === null) return <span class="muted">–</span>;
  const parts: preact.ComponentChild[] = [];
  let rest = props.text;
  for (let i = 0; rest !== ''; i++) {
    const open = rest.indexOf(OPEN);
    if (open === -1) {
      parts.push(rest);
      break;
    }
    const close = rest.indexOf(CLOSE, open);
    parts.push(rest.slice(0, open));
    parts.push(<mark key={i}>{rest.slice(open + 1, close === -1 ? undefined : close)}</mark>);
    rest = close === -1 ? '' : rest.slice(close + 1);
  }
  return <span class="snippet">{parts}</span>;
}

export function HitsTable(props: { hits: LogHit[]; names?: Record<string, string>; testId: string }) {
  return (
    <table class="hits" data-testid={props.testId}>
      <thead>
        <tr>
          <th>Time</th>
          <th>Status</th>
          <th>Endpoint</th>
          <th>Model</th>
          <th>Provider</th>
          <th class="num">Tokens</th>
          <th class="num">Cost</th>
          <th class="num">Latency</th>
          <th>Client</th>
          <th>Text</th>
        </tr>
      </thead>
      <tbody>
        {props.hits.map((hit) => (
          <tr key={hit.request_id} class={hit.status >= 400 ? 'failed' : ''}>
            <td class="nowrap">
              <a href={`#/logs/${encodeURIComponent(hit.request_id)}`}>{when(hit.time)}</a>
            </td>
            <td>{hit.status}</td>
            <td>{hit.endpoint.replace(/^\/v1\//, '')}</td>
            <td>{hit.model_mapped ?? hit.model ?? '–'}</td>
            <td>{hit.provider ?? '–'}</td>
            <td class="num">
              {hit.prompt_tokens === null
                ? '–'
                : `${count(hit.prompt_tokens)} / ${count(hit.completion_tokens)}`}
            </td>
            <td class="num">{money(hit.cost)}</td>
            <td class="num">{ms(hit.latency_ms)}</td>
            <td>{clientLabel(hit.client, props.names ?? {})}</td>
            <td>
              <Snippet text={hit.snippet} />
              {hit.dialog_id !== null && (
                <a class="tag" href={`#/dialog/${encodeURIComponent(hit.dialog_id)}`}>
                  dialog
                </a>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function LiveTail() {
  const [hits, setHits] = useState<LogHit[]>([]);
  const [paused, setPaused] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (paused) return;
    let live = true;
    const load = () =>
      getJson<{ data: LogHit[] }>('logs/recent', { limit: '50' })
        .then((answer) => {
          if (!live) return;
          setHits(answer.data);
          setError(null);
        })
        .catch((failure: Error) => live && setError(failure.message));
    void load();
    const timer = setInterval(load, 2000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [paused]);
  return (
    <section class="card">
      <div class="toolbar">
        <h3>Live tail</h3>
        <button type="button" onClick={() => setPaused(!paused)}>
          {paused ? 'Resume' : 'Pause'}
        </button>
        <span class="muted">newest 50 exchanges, every 2 s</span>
      </div>
      <ErrorLine error={error} />
      <HitsTable hits={hits} testId="tail" />
    </section>
  );
}

function SearchResults(props: { filters: Filters }) {
  const [cursors, setCursors] = useState<string[]>([]);
  const [page, setPage] = useState<LogPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const key = JSON.stringify(props.filters);
  const cursor = cursors[cursors.length - 1];

  useEffect(() => setCursors([]), [key]);
  useEffect(() => {
    let live = true;
    setError(null);
    getJson<LogPage>('logs/search', { ...props.filters, cursor, limit: '50' })
      .then((answer) => live && setPage(answer))
      .catch((failure: Error) => {
        if (!live) return;
        setPage(null);
        setError(failure.message);
      });
    return () => {
      live = false;
    };
  }, [key, cursor]);

  return (
    <section class="card">
      <ErrorLine error={error} />
      {page !== null && (
        <>
          <div class="toolbar">
            <h3>Results</h3>
            <span class="muted" data-testid="search-summary">
              {page.hits.length} on this page (page {cursors.length + 1}), {page.partitions_searched}{' '}
              partitions in {page.ms} ms
              {page.partitions_without_index > 0 &&
                `; ${page.partitions_without_index} without a full-text index (LOGDB_FTS_ENABLED)`}
            </span>
          </div>
          <HitsTable hits={page.hits} testId="results" />
          <div class="pager">
            <button
              type="button"
              disabled={cursors.length === 0}
              onClick={() => setCursors(cursors.slice(0, -1))}
            >
              Newer
            </button>
            <button
              type="button"
              disabled={page.next_cursor === null}
              onClick={() => page.next_cursor !== null && setCursors([...cursors, page.next_cursor])}
            >
              Older
            </button>
          </div>
        </>
      )}
    </section>
  );
}

function SearchForm(props: { filters: Filters }) {
  const submit = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const query = new URLSearchParams();
    for (const name of FILTERS) {
      const value = String(form.get(name) ?? '').trim();
      if (value !== '') query.set(name, value);
    }
    location.hash = `#/logs?${query.toString()}`;
  };
  const field = (name: (typeof FILTERS)[number], label: string, placeholder = '') => (
    <label>
      {label}
      <input name={name} type="text" value={props.filters[name] ?? ''} placeholder={placeholder} />
    </label>
  );
  const dateField = (name: 'since' | 'to', label: string) => (
    <label>
      {label}
      <input name={name} type="date" value={props.filters[name] ?? ''} />
    </label>
  );
  return (
    <form class="search card" onSubmit={submit} key={JSON.stringify(props.filters)}>
      <div class="query">
        <input
          name="q"
          aria-label="Search text"
          value={props.filters.q ?? ''}
          placeholder='Full text (FTS5): words, "a phrase", prefix*, NEAR(a b, 5), AND / OR / NOT, user_text: word'
        />
        <button type="submit">Search</button>
        <a href="#/logs">Clear</a>
      </div>
      <div class="filters">
        {dateField('since', 'From')}
        {dateField('to', 'To')}
        {field('model', 'Model')}
        {field('provider', 'Provider')}
        {field('status', 'Status', '200')}
        {field('client', 'Client key hash')}
        {field('dialog', 'Dialog id')}
      </div>
    </form>
  );
}

export function LogsPage(props: { params: URLSearchParams }) {
  const filters: Filters = {};
  for (const name of FILTERS) {
    const value = props.params.get(name);
    if (value !== null && value !== '') filters[name] = value;
  }
  const searching = Object.keys(filters).length > 0;
  return (
    <main>
      <h2>Logs</h2>
      <SearchForm filters={filters} />
      {searching ? <SearchResults filters={filters} /> : <LiveTail />}
    </main>
  );
}
