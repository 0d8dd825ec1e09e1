// Anthropic's named-event stream → OpenAI chat.completion.chunk events (wire-formats.md §2.6).
// One object per request: the shared SSE parser cuts events, this keeps the little state needed
// (message id, tool-call ordinals, usage) and writes OpenAI frames.

import { isRecord } from '../json-guards.js';
import { SSE_DONE } from '../streaming/sse-writer.js';
import { finishReasonOf, usageOf } from './openai-anthropic-response.js';
import { NamedEventStreamTranslator, streamErrorFrame } from './openai-chunks.js';
import type { BuildContext, StreamTranslator } from './types.js';

class AnthropicStreamTranslator extends NamedEventStreamTranslator {
  private usage: Record<string, unknown> = {};

  constructor(ctx: BuildContext) {
    super(ctx, 'message_stop');
  }

  protected handle(type: unknown, data: Record<string, unknown>): string {
    switch (type) {
      case 'message_start': {
        const message = isRecord(data.message) ? data.message : {};
        if (typeof message.id === 'string') this.id = message.id;
        if (typeof message.model === 'string') this.model = message.model;
        if (isRecord(message.usage)) this.usage = { ...message.usage };
        return this.roleChunk();
      }
      case 'content_block_start':
        return this.blockStart(data);
      case 'content_block_delta':
        return this.blockDelta(data);
      case 'content_block_stop':
        return this.toolCallEnd(data.index);
      case 'message_delta': {
        // Usage counts here are cumulative: the latest value replaces the earlier one.
        if (isRecord(data.usage)) this.usage = { ...this.usage, ...data.usage };
        const delta = isRecord(data.delta) ? data.delta : {};
        if (delta.stop_reason === undefined || delta.stop_reason === null) return '';
        return `${this.endToolCalls()}${this.chunk({}, finishReasonOf(delta.stop_reason))}`;
      }
      case 'message_stop': {
        this.done = true;
        const tail = this.includeUsage ? this.frame([], usageOf(this.usage)) : '';
        return `${tail}${SSE_DONE}`;
      }
      case 'error': {
        this.done = true;
        const error = isRecord(data.error) ? data.error : {};
        const message = typeof error.message === 'string' ? error.message : 'stream error';
        const type = typeof error.type === 'string' ? error.type : 'api_error';
        return streamErrorFrame(`${this.provider}: ${message}`, type, null);
      }
      default:
        return ''; // ping, and event types added later
    }
  }

  private blockStart(data: Record<string, unknown>): string {
    const block = isRecord(data.content_block) ? data.content_block : {};
    if (block.type === 'text' && typeof block.text === 'string' && block.text !== '')
      return this.chunk({ content: block.text });
    if (block.type !== 'tool_use' || typeof data.index !== 'number') return '';
    // `input` is always {} here; the arguments follow as input_json_delta fragments.
    return this.toolCallStart(data.index, block.id, block.name, '');
  }

  private blockDelta(data: Record<string, unknown>): string {
    const delta = isRecord(data.delta) ? data.delta : {};
    if (delta.type === 'text_delta' && typeof delta.text === 'string' && delta.text !== '')
      return this.chunk({ content: delta.text });
    if (delta.type !== 'input_json_delta') return '';
    return this.toolCallArguments(data.index, delta.partial_json);
  }
}

export function createAnthropicStreamTranslator(ctx: BuildContext): StreamTranslator {
  return new AnthropicStreamTranslator(ctx);
}
