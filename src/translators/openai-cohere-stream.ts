// Cohere v2's named-event stream → OpenAI chat.completion.chunk events (wire-formats.md §4.1).
// One object per request: the shared SSE parser cuts events, this keeps the little state needed
// (message id, tool-call ordinals) and writes OpenAI frames. A `data: [DONE]` after message-end,
// which the spec declares but the docs never show, is tolerated.

import { isRecord } from '../json-guards.js';
import { SSE_DONE } from '../streaming/sse-writer.js';
import { NamedEventStreamTranslator, streamErrorFrame } from './openai-chunks.js';
import { cohereFinishReason, cohereUsage } from './openai-cohere-response.js';
import type { BuildContext, StreamTranslator } from './types.js';

/** `delta.message` of a Cohere event, where every payload lives. */
function messageDelta(data: Record<string, unknown>): Record<string, unknown> {
  const delta = isRecord(data.delta) ? data.delta : {};
  return isRecord(delta.message) ? delta.message : {};
}

class CohereStreamTranslator extends NamedEventStreamTranslator {
  constructor(ctx: BuildContext) {
    super(ctx, 'message-end');
  }

  protected handle(type: unknown, data: Record<string, unknown>): string {
    switch (type) {
      case 'message-start':
        if (typeof data.id === 'string') this.id = data.id;
        return this.roleChunk();
      case 'content-start':
      case 'content-delta': {
        const content = messageDelta(data).content;
        const text = isRecord(content) ? content.text : undefined;
        // Thinking parts carry `thinking`, not `text`, and have no OpenAI field.
        return typeof text === 'string' && text !== '' ? this.chunk({ content: text }) : '';
      }
      case 'tool-plan-delta': {
        // The text beside tool calls: content, as in the non-streamed answer.
        const plan = messageDelta(data).tool_plan;
        return typeof plan === 'string' && plan !== '' ? this.chunk({ content: plan }) : '';
      }
      case 'tool-call-start':
        return this.cohereToolCallStart(data);
      case 'tool-call-delta': {
        const call = messageDelta(data).tool_calls;
        const fn = isRecord(call) && isRecord(call.function) ? call.function : {};
        return this.toolCallArguments(data.index, fn.arguments);
      }
      case 'tool-call-end':
        return this.toolCallEnd(data.index);
      case 'message-end':
        return this.messageEnd(data);
      default:
        return ''; // content-end, citations, debug, and event types added later
    }
  }

  private cohereToolCallStart(data: Record<string, unknown>): string {
    const call = messageDelta(data).tool_calls;
    if (!isRecord(call) || typeof data.index !== 'number') return '';
    const fn = isRecord(call.function) ? call.function : {};
    const args = typeof fn.arguments === 'string' ? fn.arguments : '';
    return this.toolCallStart(data.index, call.id, fn.name, args);
  }

  private messageEnd(data: Record<string, unknown>): string {
    this.done = true;
    const delta = isRecord(data.delta) ? data.delta : {};
    if (typeof delta.error === 'string' && delta.error !== '') {
      return streamErrorFrame(`${this.provider}: ${delta.error}`, 'api_error', null);
    }
    const finish = this.endToolCalls() + this.chunk({}, cohereFinishReason(delta.finish_reason));
    const usage = this.includeUsage ? this.frame([], cohereUsage(delta.usage)) : '';
    return `${finish}${usage}${SSE_DONE}`;
  }
}

export function createCohereStreamTranslator(ctx: BuildContext): StreamTranslator {
  return new CohereStreamTranslator(ctx);
}
