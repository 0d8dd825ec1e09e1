// A dialog as a conversation: its exchanges in order, each adding the turns it sent that the one
// before had not (clients resend the whole history) and its answer.
import { useEffect, useState } from 'preact/hooks';
import { getJson } from './api.js';
import { answerTurn, requestTurns, type Turn } from './conversation.js';
import { TurnView } from './exchange-page.js';
import { money, when } from './format.js';
import { ErrorLine } from './tables.js';
import type { Exchange } from './types.js';

interface Step {
  exchange: Exchange;
  turns: Turn[];
  answer: Turn | undefined;
}

function same(a: Turn, b: Turn): boolean {
  return a.role === b.role && a.text === b.text && a.toolCalls.length === b.toolCalls.length;
}

/** Each exchange's new turns: what it sent past the longest prefix shared with the history so far. */
export function dialogSteps(exchanges: Exchange[]): Step[] {
  const history: Turn[] = [];
  return exchanges.map((exchange) => {
    const sent = requestTurns(exchange.request);
    let shared = 0;
    while (shared < sent.length && shared < history.length && same(sent[shared]!, history[shared]!)) shared++;
    const turns = sent.slice(shared);
    const answer = answerTurn(exchange.response);
    history.splice(shared, history.length - shared, ...turns);
    if (answer !== undefined) history.push(answer);
    return { exchange, turns, answer };
  });
}

export function DialogPage(props: { id: string }) {
  const [exchanges, setExchanges] = useState<Exchange[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    getJson<{ exchanges: Exchange[] }>(`logs/dialog/${encodeURIComponent(props.id)}`)
      .then((answer) => setExchanges(answer.exchanges))
      .catch((failure: Error) => setError(failure.message));
  }, [props.id]);
  const steps = exchanges === null ? [] : dialogSteps(exchanges);
  const cost = steps.reduce((sum, s) => sum + (s.exchange.cost ?? 0), 0);
  return (
    <main data-testid="dialog">
      <div class="toolbar">
        <h2>Dialog</h2>
        <code>{props.id}</code>
        <button type="button" onClick={() => history.back()}>
          Back
        </button>
      </div>
      <ErrorLine error={error} />
      {exchanges !== null && (
        <p class="muted">
          {exchanges.length} exchanges, {money(cost)}; model{' '}
          {exchanges[0]?.model_mapped ?? exchanges[0]?.model_original ?? '–'}
        </p>
      )}
      <section class="card conversation">
        {steps.map((step) => (
          <div class="step" key={step.exchange.request_id}>
            <div class="step-head">
              <a href={`#/logs/${encodeURIComponent(step.exchange.request_id)}`}>
                {when(step.exchange.time)}
              </a>
              <span class="muted">
                {step.exchange.status_code} · {money(step.exchange.cost)}
              </span>
            </div>
            {step.turns.map((turn, i) => (
              <TurnView turn={turn} key={i} />
            ))}
            {step.answer !== undefined && <TurnView turn={step.answer} testId="dialog-answer" />}
          </div>
        ))}
      </section>
    </main>
  );
}
