// Very large OpenAI-shaped bodies, written piece by piece as the client reads them: the emulator
// never holds more than one piece, so a test can send hundreds of megabytes through a gateway
// without the emulator itself being what uses the memory.
import type { ServerResponse } from 'node:http';
import { sseData } from './sse.js';
import type { LargeBehaviour } from './types.js';

/** One piece of filler; written again and again. */
const PIECE = Buffer.alloc(64 * 1024, 'x');
const CREATED = 1_700_000_000;

/** Resolves once `res` can take more, or at once when the exchange is over. */
function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.on('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Writes `prefix`, `count` times `piece`, then `suffix`, waiting for the reader between pieces. */
async function writeRepeated(
  res: ServerResponse,
  prefix: string,
  piece: Buffer,
  count: number,
  suffix: string,
  signal: AbortSignal,
): Promise<void> {
  res.write(prefix);
  for (let i = 0; i < count && !signal.aborted; i++) {
    if (!res.write(piece)) await drained(res, signal);
  }
  if (!signal.aborted) res.end(suffix);
}

export async function writeLarge(
  res: ServerResponse,
  behaviour: LargeBehaviour,
  model: string,
  signal: AbortSignal,
): Promise<void> {
  const pieces = Math.max(1, Math.ceil(behaviour.bytes / PIECE.length));
  if (behaviour.shape === 'stream') {
    const event = (choices: unknown[]): string =>
      sseData({ id: 'chatcmpl-large', object: 'chat.completion.chunk', created: CREATED, model, choices });
    const content = (text: string): string =>
      event([{ index: 0, delta: { content: text }, logprobs: null, finish_reason: null }]);
    const filler = Buffer.from(content(PIECE.toString('latin1')));
    const eventCount = Math.max(1, Math.ceil(behaviour.bytes / filler.length));
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const head = event([
      { index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null },
    ]);
    const tail =
      event([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]) +
      sseData({
        id: 'chatcmpl-large',
        object: 'chat.completion.chunk',
        created: CREATED,
        model,
        choices: [],
        usage: { prompt_tokens: 5, completion_tokens: eventCount, total_tokens: 5 + eventCount },
      }) +
      sseData('[DONE]');
    await writeRepeated(res, head, filler, eventCount, tail, signal);
    return;
  }
  let prefix: string;
  let suffix: string;
  const status = behaviour.status ?? (behaviour.shape === 'error' ? 500 : 200);
  if (behaviour.shape === 'error') {
    prefix = '{"error":{"message":"';
    suffix = '","type":"server_error","param":null,"code":null}}';
  } else {
    prefix = `{"id":"chatcmpl-large","object":"chat.completion","created":${CREATED},"model":${JSON.stringify(model)},"choices":[{"index":0,"message":{"role":"assistant","content":"`;
    suffix =
      '"},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":5,"total_tokens":10}}';
  }
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(prefix.length + pieces * PIECE.length + suffix.length),
  });
  await writeRepeated(res, prefix, PIECE, pieces, suffix, signal);
}
