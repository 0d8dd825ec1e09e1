// Relays a committed upstream stream to the client as it arrives: each chunk is written as soon as
// it is read (translated first when the provider is not OpenAI-protocol). An upstream that fails
// mid-stream ends the client's stream with an OpenAI-style error event, never a hang.
import type { ServerResponse } from 'node:http';
import type { CommittedResponse } from '../../gateway/attempt-loop.js';
import type { ExchangeSignal } from '../../gateway/exchange-signal.js';
import { failureFromError } from '../../gateway/failure.js';
import type { ExchangeInfo } from '../exchange-context.js';

/** 499: the client closed the connection (nginx's convention), for the log only. */
export const CLIENT_CLOSED = 499;

function write(res: ServerResponse, chunk: Buffer): Promise<void> | undefined {
  if (chunk.length === 0 || res.write(chunk)) return undefined;
  // Back-pressure: wait for the client to drain before reading more from upstream.
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function errorEvent(message: string, type: string, code: string): Buffer {
  return Buffer.from(`data: ${JSON.stringify({ error: { message, type, param: null, code } })}\n\n`);
}

export async function relayStream(
  res: ServerResponse,
  committed: CommittedResponse,
  headers: Record<string, string>,
  signal: ExchangeSignal,
  exchange: ExchangeInfo,
): Promise<number> {
  const chunks: Buffer[] = [];
  exchange.streamChunks = chunks;
  const translator = committed.translator.createStreamTranslator?.(committed.buildContext);
  const emit = (chunk: Buffer | undefined): Promise<void> | undefined => {
    if (chunk === undefined || chunk.length === 0) return undefined;
    chunks.push(chunk);
    return write(res, chunk);
  };

  res.writeHead(committed.status, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  const first = committed.firstChunk ?? Buffer.alloc(0);
  await emit(translator === undefined ? first : translator.push(first));

  const rest = committed.rest;
  try {
    while (rest !== undefined) {
      const next = await rest.next();
      if (next.done) break;
      if (res.destroyed) break;
      const pending = emit(translator === undefined ? next.value : translator.push(next.value));
      if (pending !== undefined) await pending;
    }
    if (translator !== undefined) await emit(translator.end());
  } catch (error) {
    if (signal.clientGone || res.destroyed) {
      committed.abortBody();
      res.destroy();
      return CLIENT_CLOSED;
    }
    committed.abortBody();
    const failure = signal.failure() ?? failureFromError(error, false);
    const provider = committed.target.provider.name;
    const type = failure.kind === 'timeout' ? 'timeout_error' : 'api_error';
    const code = failure.kind === 'timeout' ? 'upstream_timeout' : 'upstream_error';
    const message = `${provider}: the stream broke off: ${failure.message}`;
    exchange.error = { message, type, code };
    await emit(errorEvent(message, type, code));
    res.end();
    return committed.status;
  }
  if (signal.clientGone || res.destroyed) {
    committed.abortBody();
    return CLIENT_CLOSED;
  }
  res.end();
  return committed.status;
}
