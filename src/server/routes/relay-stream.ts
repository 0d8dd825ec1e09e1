// Relays a committed upstream stream to the client as it arrives: each chunk is written as soon as
// undici hands it over (translated first when the provider does not speak the client's dialect),
// and the upstream pauses while the client is not draining. An upstream that fails mid-stream ends
// the client's stream with the dialect's error event, never a hang.
import type { ServerResponse } from 'node:http';
import type { CommittedResponse } from '../../gateway/attempt-loop.js';
import type { ExchangeSignal } from '../../gateway/exchange-signal.js';
import { failureFromError } from '../../gateway/failure.js';
import { streamEndProblem } from '../../gateway/stream-end.js';
import { StreamLogCopy } from '../../logs/stream-log-copy.js';
import { StreamGuard } from '../../secrets/stream-guard.js';
import { WholeEvents } from '../../streaming/whole-events.js';
import type { ExchangeInfo } from '../exchange-context.js';

/** 499: the client closed the connection (nginx's convention), for the log only. */
export const CLIENT_CLOSED = 499;

export interface RelayOptions {
  /** The log's copy of the stream is bounded (LOG_STREAM_LIMIT). */
  logLimitBytes: number;
  /** The event that ends a stream which failed after its first byte, in the client's dialect. */
  errorEvent: (error: { message: string; type: string; code: string }) => Buffer;
}

export function relayStream(
  res: ServerResponse,
  committed: CommittedResponse,
  headers: Record<string, string>,
  signal: ExchangeSignal,
  exchange: ExchangeInfo,
  { logLimitBytes, errorEvent }: RelayOptions,
): Promise<number> {
  // The client gets every byte; the log's copy is bounded (LOG_STREAM_LIMIT).
  const copy = new StreamLogCopy(logLimitBytes);
  exchange.streamChunks = copy.chunks;
  const translator = committed.translator.createStreamTranslator?.(committed.buildContext);
  const call = committed.call;
  // Chunks that arrive in the same tick (one socket read often holds several SSE events) leave
  // as one buffer in one write: a corked socket would still hand the kernel one piece per event
  // plus chunked-encoding framing for each, which measured as a large share of a stream's cost.
  let pending: Buffer[] = [];
  let full = false;
  /** This tick's chunks as one buffer, kept for the log (one per write, not one per event). */
  const take = (): Buffer | undefined => {
    if (pending.length === 0) return undefined;
    const out = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
    pending = [];
    copy.add(out);
    return out;
  };
  const flush = () => {
    const out = take();
    if (out === undefined || res.destroyed) return;
    if (!res.write(out)) {
      // Back-pressure: hold the upstream until the client drains.
      full = true;
      call?.pause();
    }
  };
  // Error events are searched for secrets (an upstream may echo its key in one); see stream-guard.ts.
  const guard = committed.redactor.empty ? undefined : new StreamGuard(committed.redactor);
  /** The last chunks and the end of the body in one write (not a write, then the end's own). */
  const endWith = () => {
    const held = guard?.end();
    if (held !== undefined && held.length > 0 && !res.destroyed) pending.push(held);
    const out = take();
    if (out === undefined || res.destroyed) res.end();
    else res.end(out);
  };
  /** Queues a chunk for this tick's write; false while the client's buffer is full. */
  const emit = (upstream: Buffer | undefined): boolean => {
    if (upstream === undefined || upstream.length === 0 || res.destroyed) return !full;
    const chunk = guard === undefined ? upstream : guard.push(upstream);
    if (chunk.length === 0) return !full;
    if (pending.length === 0) process.nextTick(flush);
    pending.push(chunk);
    return !full;
  };

  // The gateway's headers are this response's own object: completed in place, not copied.
  headers['content-type'] = 'text/event-stream; charset=utf-8';
  headers['cache-control'] = 'no-cache';
  headers.connection = 'keep-alive';
  headers['x-accel-buffering'] = 'no';
  res.writeHead(committed.status, headers);
  const first = committed.firstChunk ?? Buffer.alloc(0);
  // A pass-through passes whole events only (translators write whole events of their own).
  const whole = translator === undefined ? new WholeEvents() : undefined;
  emit(whole === undefined ? translator?.push(first) : whole.push(first));

  return new Promise<number>((resolve) => {
    const onDrain = () => {
      full = false;
      call?.resume();
    };
    const finish = (status: number) => {
      exchange.streamTruncated = copy.finish();
      if (translator?.result !== undefined && exchange.error === null)
        exchange.streamResult = translator.result();
      res.off('drain', onDrain);
      committed.release();
      resolve(status);
    };
    if (call === undefined) {
      emit(translator === undefined ? whole?.rest() : translator.end());
      endWith();
      finish(committed.status);
      return;
    }
    res.on('drain', onDrain);
    call.attach({
      data: (chunk) => emit(whole === undefined ? translator?.push(chunk) : whole.push(chunk)),
      end: () => {
        if (signal.clientGone || res.destroyed) {
          finish(CLIENT_CLOSED);
          return;
        }
        // A stream that closed cleanly but without its protocol's end is not a success: the
        // client gets an error event instead (the translator's own end would make one up).
        const problem = streamEndProblem(committed.target.provider.protocol, call);
        if (problem !== undefined) {
          const message = `${committed.target.provider.name}: ${problem}`;
          const error = { message, type: 'api_error', code: 'upstream_error' };
          exchange.error = error;
          emit(errorEvent(error));
        } else emit(translator === undefined ? whole?.rest() : translator.end());
        endWith();
        finish(committed.status);
      },
      error: (error) => {
        if (signal.clientGone || res.destroyed) {
          res.destroy();
          finish(CLIENT_CLOSED);
          return;
        }
        const failure = signal.failure() ?? failureFromError(error, false);
        const provider = committed.target.provider.name;
        const type = failure.kind === 'timeout' ? 'timeout_error' : 'api_error';
        // A graceful stop cut it: the client and the record both say so (code shutting_down).
        const code = signal.shutDown
          ? 'shutting_down'
          : failure.kind === 'timeout'
            ? 'upstream_timeout'
            : 'upstream_error';
        const message = signal.shutDown
          ? `the stream was cut before its end: ${failure.message}`
          : `${provider}: the stream broke off: ${failure.message}`;
        exchange.error = { message, type, code };
        emit(errorEvent({ message, type, code }));
        endWith();
        finish(committed.status);
      },
    });
  });
}
