// One exchange in full: who, when, which provider and key, status, timing, tokens and cost; the
// conversation as sent and the answer (tool calls included); every attempt; the raw JSON.
import { useEffect, useState } from 'preact/hooks';
import { getJson } from './api.js';
import { answerTurn, requestTurns, type Turn } from './conversation.js';
import { count, money, ms, when } from './format.js';
import { ErrorLine } from './tables.js';
import type { Exchange } from './types.js';

export function TurnView(props: { turn: Turn; testId?: string }) {
  const { turn } = props;
  return (
    <div class={`turn ${turn.role}`} data-testid={props.testId}>
      <div class="role">{turn.role}</div>
      {turn.text !== '' && <div class="text">{turn.text}</div>}
      {turn.toolCalls.map((call, i) => (
        <div class="tool-call" key={i}>
          <span class="tool-name">{call.name}</span>
          <code>{call.arguments}</code>
        </div>
      ))}
    </div>
  );
}

function Field(props: { label: string; children: preact.ComponentChildren }) {
  return (
    <>
      <dt>{props.label}</dt>
      <dd>{props.children}</dd>
    </>
  );
}

function AttemptsTable(props: { attempts: Exchange['attempts'] }) {
  const attempts = props.attempts ?? [];
  if (attempts.length === 0) return <p class="muted">No upstream attempt.</p>;
  const columns = [...new Set(attempts.flatMap((a) => Object.keys(a)))];
  return (
    <table data-testid="attempts">
      <thead>
        <tr>
          <th>#</th>
          {columns.map((c) => (
            <th key={c}>{c}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {attempts.map((attempt, i) => (
          <tr key={i}>
            <td>{i + 1}</td>
            {columns.map((c) => {
              const value = attempt[c];
              return (
                <td key={c}>
                  {typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value ?? '–')}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ExchangePage(props: { id: string }) {
  const [exchange, setExchange] = useState<Exchange | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setExchange(null);
    getJson<Exchange>(`logs/exchange/${encodeURIComponent(props.id)}`)
      .then(setExchange)
      .catch((failure: Error) => setError(failure.message));
  }, [props.id]);
  if (exchange === null) {
    return (
      <main>
        <h2>Exchange {props.id}</h2>
        <ErrorLine error={error} />
      </main>
    );
  }
  const turns = requestTurns(exchange.request);
  const answer = answerTurn(exchange.response);
  return (
    <main data-testid="exchange">
      <div class="toolbar">
        <h2>Exchange</h2>
        <code>{exchange.request_id}</code>
        <button type="button" onClick={() => history.back()}>
          Back
        </button>
      </div>
      <section class="card">
        <dl class="fields">
          <Field label="Time">{when(exchange.time)}</Field>
          <Field label="Endpoint">
            {exchange.method ?? ''} {exchange.endpoint}
          </Field>
          <Field label="Status">
            <span class={exchange.status_code >= 400 ? 'warn' : 'ok'}>{exchange.status_code}</span>
          </Field>
          <Field label="Model">
            {exchange.model_original ?? '–'}
            {exchange.model_mapped !== null &&
              exchange.model_mapped !== exchange.model_original &&
              ` → ${exchange.model_mapped}`}
          </Field>
          <Field label="Provider / key">
            {exchange.provider ?? '–'} {exchange.key_id !== null && <code>{exchange.key_id}</code>}
          </Field>
          <Field label="Stream">{exchange.stream ? 'yes' : 'no'}</Field>
          <Field label="Latency">
            {ms(exchange.latency_ms)} (first byte {ms(exchange.ttfb_ms)}, gateway {ms(exchange.overhead_ms)})
          </Field>
          <Field label="Tokens">
            {count(exchange.prompt_tokens)} prompt, {count(exchange.completion_tokens)} completion
          </Field>
          <Field label="Cost">{money(exchange.cost)}</Field>
          <Field label="Client key">{exchange.client ?? '–'}</Field>
          <Field label="Dialog">
            {exchange.dialog_id === null ? (
              '–'
            ) : (
              <a href={`#/dialog/${encodeURIComponent(exchange.dialog_id)}`} data-testid="dialog-link">
                {exchange.dialog_id}
              </a>
            )}
          </Field>
        </dl>
      </section>
      <section class="card">
        <h3>Messages</h3>
        <div class="conversation">
          {turns.map((turn, i) => (
            <TurnView turn={turn} key={i} />
          ))}
          {answer !== undefined && <TurnView turn={{ ...answer, role: 'answer' }} testId="answer" />}
        </div>
        {exchange.error !== null && (
          <>
            <h3>Error</h3>
            <pre class="json">{JSON.stringify(exchange.error, null, 2)}</pre>
          </>
        )}
      </section>
      <section class="card">
        <h3>Attempts</h3>
        <AttemptsTable attempts={exchange.attempts} />
      </section>
      <section class="card">
        <details>
          <summary>Request JSON</summary>
          <pre class="json">{JSON.stringify(exchange.request, null, 2)}</pre>
        </details>
        <details>
          <summary>Response JSON</summary>
          <pre class="json">{JSON.stringify(exchange.response, null, 2)}</pre>
        </details>
        <details>
          <summary>Usage JSON</summary>
          <pre class="json">{JSON.stringify(exchange.usage, null, 2)}</pre>
        </details>
      </section>
    </main>
  );
}
