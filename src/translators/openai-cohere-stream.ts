// Cohere v2's named-event stream → OpenAI chat.completion.chunk events (wire-formats.md §4.1).
// One object per request: the shared SSE parser cuts events, this keeps the little state needed
// (message id, tool-call ordinals) and writes OpenAI frames. A `data: [DONE]` after message-end,
// which the spec declares but the docs never show, is tolerated.

import { isRecord } from '../json-guards.js';
import { type SseEvent, SseParser } from '../streaming/sse-parser.js';
import { SSE_DONE, sseFrame } from '../streaming/sse-writer.js';
import { cohereFinishReason, cohereUsage } from './openai-cohere-response.js';
import { nowSeconds } from './openai-shapes.js';
import type { BuildContext, StreamTranslator } from './types.js';

/** `delta.message` of a Cohere event, where every payload lives. */
function messageDelta(data: Record<string, unknown>): Record<string, unknown> {
  const delta = isRecord(data.delta) ? data.delta : {};
  return isRecord(delta.message) ? delta.message : {};
}

class CohereStreamTranslator implements StreamTranslator {
  private readonly parser = new SseParser();
  private readonly includeUsage: boolean;
  private readonly provider: string;
  private readonly model: string;
  private id = '';
  private readonly created = nowSeconds();
  /** Cohere tool-call index → OpenAI tool-call index (both count calls, but only ours is trusted). */
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
    // The upstream closed cleanly but without message-end: the answer is incomplete.
    this.done = true;
    const message = `${this.provider}: the stream ended before message-end`;
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

  private frame(choices: unknown[], usage?: unknown): string {
    return sseFrame({
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices,
      ...(usage !== undefined ? { usage } : this.includeUsage ? { usage: null } : {}),
    });
  }

  private chunk(delta: Record<string, unknown>, finishReason: string | null = null): string {
    return this.frame([{ index: 0, delta, logprobs: null, finish_reason: finishReason }]);
  }

  private handle(event: SseEvent): string {
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      return ''; // `[DONE]` or anything else that is not JSON carries nothing to relay.
    }
    if (!isRecord(data)) return '';
    switch (data.type ?? event.event) {
      case 'message-start':
        if (typeof data.id === 'string') this.id = data.id;
        return this.chunk({ role: 'assistant', content: '' });
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
        return this.toolCallStart(data);
      case 'tool-call-delta':
        return this.toolCallDelta(data);
      case 'message-end':
        return this.messageEnd(data);
      default:
        return ''; // content-end, tool-call-end, citations, debug, and event types added later
    }
  }

  private toolCallStart(data: Record<string, unknown>): string {
    const call = messageDelta(data).tool_calls;
    if (!isRecord(call) || typeof data.index !== 'number') return '';
    const index = this.toolIndex.size;
    this.toolIndex.set(data.index, index);
    const fn = isRecord(call.function) ? call.function : {};
    const args = typeof fn.arguments === 'string' ? fn.arguments : '';
    const head = { index, id: call.id, type: 'function', function: { name: fn.name, arguments: args } };
    return this.chunk({ tool_calls: [head] });
  }

  private toolCallDelta(data: Record<string, unknown>): string {
    const call = messageDelta(data).tool_calls;
    const fn = isRecord(call) && isRecord(call.function) ? call.function : {};
    const index = typeof data.index === 'number' ? this.toolIndex.get(data.index) : undefined;
    if (index === undefined || typeof fn.arguments !== 'string' || fn.arguments === '') return '';
    return this.chunk({ tool_calls: [{ index, function: { arguments: fn.arguments } }] });
  }

  private messageEnd(data: Record<string, unknown>): string {
    this.done = true;
    const delta = isRecord(data.delta) ? data.delta : {};
    if (typeof delta.error === 'string' && delta.error !== '') {
      return sseFrame({
        error: { message: `${this.provider}: ${delta.error}`, type: 'api_error', param: null, code: null },
      });
    }
    const finish = this.chunk({}, cohereFinishReason(delta.finish_reason));
    const usage = this.includeUsage ? this.frame([], cohereUsage(delta.usage)) : '';
    return `${finish}${usage}${SSE_DONE}`;
  }
}

export function createCohereStreamTranslator(ctx: BuildContext): StreamTranslator {
  return new CohereStreamTranslator(ctx);
}
