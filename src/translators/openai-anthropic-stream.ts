// Anthropic's named-event stream → OpenAI chat.completion.chunk events (wire-formats.md §2.6).
// One object per request: the shared SSE parser cuts events, this keeps the little state needed
// (message id, tool-call ordinals, usage) and writes OpenAI frames.

import { isRecord } from '../json-guards.js';
import { type SseEvent, SseParser } from '../streaming/sse-parser.js';
import { SSE_DONE, sseFrame } from '../streaming/sse-writer.js';
import { finishReasonOf, usageOf } from './openai-anthropic-response.js';
import { nowSeconds, type OpenAIUsage } from './openai-shapes.js';
import type { BuildContext, StreamTranslator } from './types.js';

class AnthropicStreamTranslator implements StreamTranslator {
  private readonly parser = new SseParser();
  private readonly includeUsage: boolean;
  private readonly provider: string;
  private id = '';
  private model: string;
  private readonly created = nowSeconds();
  private usage: Record<string, unknown> = {};
  /** Anthropic block index → OpenAI tool-call index: text and thinking blocks use indices too. */
  private readonly toolIndex = new Map<number, number>();
  private done = false;

  constructor(ctx: BuildContext) {
    const options = ctx.body.stream_options;
    this.includeUsage = isRecord(options) && options.include_usage === true;
    this.provider = ctx.provider.name;
    this.model = ctx.model;
  }

  push(chunk: Buffer): Buffer | undefined {
    return this.render(this.parser.push(chunk));
  }

  end(): Buffer | undefined {
    const out = this.render(this.parser.end());
    if (this.done) return out;
    // The upstream closed cleanly but without message_stop: the answer is incomplete.
    this.done = true;
    const message = `${this.provider}: the stream ended before message_stop`;
    const tail = sseFrame({ error: { message, type: 'api_error', param: null, code: 'upstream_error' } });
    return Buffer.concat([out ?? Buffer.alloc(0), Buffer.from(tail)]);
  }

  private render(events: SseEvent[]): Buffer | undefined {
    let text = '';
    for (const event of events) {
      if (this.done) break;
      text += this.handle(event);
    }
    return text === '' ? undefined : Buffer.from(text);
  }

  private chunk(delta: Record<string, unknown>, finishReason: string | null = null): string {
    return sseFrame({
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      ...(this.includeUsage ? { usage: null } : {}),
    });
  }

  private handle(event: SseEvent): string {
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      return ''; // Not JSON: no Anthropic event looks like this, so it carries nothing to relay.
    }
    if (!isRecord(data)) return '';
    switch (data.type ?? event.event) {
      case 'message_start': {
        const message = isRecord(data.message) ? data.message : {};
        if (typeof message.id === 'string') this.id = message.id;
        if (typeof message.model === 'string') this.model = message.model;
        if (isRecord(message.usage)) this.usage = { ...message.usage };
        return this.chunk({ role: 'assistant', content: '' });
      }
      case 'content_block_start':
        return this.blockStart(data);
      case 'content_block_delta':
        return this.blockDelta(data);
      case 'message_delta': {
        // Usage counts here are cumulative: the latest value replaces the earlier one.
        if (isRecord(data.usage)) this.usage = { ...this.usage, ...data.usage };
        const delta = isRecord(data.delta) ? data.delta : {};
        if (delta.stop_reason === undefined || delta.stop_reason === null) return '';
        return this.chunk({}, finishReasonOf(delta.stop_reason));
      }
      case 'message_stop': {
        this.done = true;
        const usage: OpenAIUsage | undefined = this.includeUsage ? usageOf(this.usage) : undefined;
        const tail =
          usage === undefined
            ? ''
            : sseFrame({
                id: this.id,
                object: 'chat.completion.chunk',
                created: this.created,
                model: this.model,
                choices: [],
                usage,
              });
        return `${tail}${SSE_DONE}`;
      }
      case 'error': {
        this.done = true;
        const error = isRecord(data.error) ? data.error : {};
        const message = typeof error.message === 'string' ? error.message : 'stream error';
        const type = typeof error.type === 'string' ? error.type : 'api_error';
        return sseFrame({
          error: { message: `${this.provider}: ${message}`, type, param: null, code: null },
        });
      }
      default:
        return ''; // ping, content_block_stop, and event types added later
    }
  }

  private blockStart(data: Record<string, unknown>): string {
    const block = isRecord(data.content_block) ? data.content_block : {};
    if (block.type === 'text' && typeof block.text === 'string' && block.text !== '')
      return this.chunk({ content: block.text });
    if (block.type !== 'tool_use' || typeof data.index !== 'number') return '';
    const index = this.toolIndex.size;
    this.toolIndex.set(data.index, index);
    const head = { index, id: block.id, type: 'function', function: { name: block.name, arguments: '' } };
    return this.chunk({ tool_calls: [head] });
  }

  private blockDelta(data: Record<string, unknown>): string {
    const delta = isRecord(data.delta) ? data.delta : {};
    if (delta.type === 'text_delta' && typeof delta.text === 'string' && delta.text !== '')
      return this.chunk({ content: delta.text });
    if (delta.type !== 'input_json_delta' || typeof delta.partial_json !== 'string') return '';
    const index = typeof data.index === 'number' ? this.toolIndex.get(data.index) : undefined;
    if (index === undefined || delta.partial_json === '') return '';
    return this.chunk({ tool_calls: [{ index, function: { arguments: delta.partial_json } }] });
  }
}

export function createAnthropicStreamTranslator(ctx: BuildContext): StreamTranslator {
  return new AnthropicStreamTranslator(ctx);
}
