// Gemini `streamGenerateContent?alt=sse` → OpenAI chat.completion.chunk events (wire-formats.md
// §3.4). Gemini sends whole response objects: text slices, function calls whole (never argument
// fragments), finishReason on the last one, usage as running totals, and no [DONE] of its own.
import { randomUUID } from 'node:crypto';
import { isRecord } from '../json-guards.js';
import { type SseEvent, SseParser } from '../streaming/sse-parser.js';
import { SSE_DONE } from '../streaming/sse-writer.js';
import { chunkFrame, deltaChoice, includeUsageOf, roleDelta, streamErrorFrame } from './openai-chunks.js';
import {
  candidateIndex,
  candidatesOf,
  finishReasonOf,
  readParts,
  responseKeyOf,
  toolCallOf,
  usageOf,
} from './openai-gemini-response.js';
import { nowSeconds, type OpenAIUsage } from './openai-shapes.js';
import type { BuildContext, StreamTranslator } from './types.js';

type Json = Record<string, unknown>;

interface ChoiceState {
  calls: number;
  finished: boolean;
}

export class GeminiStreamTranslator implements StreamTranslator {
  private readonly parser = new SseParser();
  readonly includeUsage: boolean;
  readonly created = nowSeconds();
  id: string | undefined;
  /** The stream's responseId (or a random key): tool-call ids are built from it. */
  private responseKey: string | undefined;
  model: string;
  private readonly choices = new Map<number, ChoiceState>();
  private usage: OpenAIUsage | undefined;
  /** Set after an error event: nothing more is sent, not even [DONE]. */
  private failed = false;

  constructor(ctx: BuildContext) {
    this.includeUsage = includeUsageOf(ctx);
    this.model = ctx.model;
  }

  push(chunk: Buffer): Buffer | undefined {
    return this.render(this.parser.push(chunk), false);
  }

  end(): Buffer | undefined {
    return this.render(this.parser.end(), true);
  }

  private render(events: SseEvent[], last: boolean): Buffer | undefined {
    let out = '';
    for (const event of events) out += this.handle(event);
    if (last) out += this.finish();
    return out === '' ? undefined : Buffer.from(out);
  }

  private chunk(choices: unknown[], usage?: OpenAIUsage): string {
    return chunkFrame(this, choices, usage);
  }

  private choice(index: number, delta: Json, finishReason: string | null = null): Json {
    return deltaChoice(index, delta, finishReason);
  }

  private handle(event: SseEvent): string {
    if (this.failed) return '';
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      return this.fail('Gemini sent a stream event that is not JSON.', 'upstream_error');
    }
    if (!isRecord(data)) return '';
    if (isRecord(data.error)) {
      const message = typeof data.error.message === 'string' ? data.error.message : 'Gemini stream error';
      const code = typeof data.error.status === 'string' ? data.error.status : 'upstream_error';
      return this.fail(`gemini: ${message}`, code);
    }
    this.responseKey ??= responseKeyOf(data);
    this.id ??= `chatcmpl-${this.responseKey}`;
    const responseKey = this.responseKey;
    if (typeof data.modelVersion === 'string') this.model = data.modelVersion;
    this.usage = usageOf(data.usageMetadata) ?? this.usage;

    let out = '';
    candidatesOf(data).forEach((candidate, position) => {
      const index = candidateIndex(candidate, position);
      let state = this.choices.get(index);
      if (state === undefined) {
        state = { calls: 0, finished: false };
        this.choices.set(index, state);
        out += this.chunk([this.choice(index, roleDelta())]);
      }
      if (state.finished) return;
      const { text, calls } = readParts(candidate);
      if (text !== '') out += this.chunk([this.choice(index, { content: text })]);
      for (const call of calls) {
        const n = state.calls++;
        const toolCall = toolCallOf(call, responseKey, index, n);
        out += this.chunk([this.choice(index, { tool_calls: [{ index: n, ...toolCall }] })]);
      }
      if (candidate.finishReason !== undefined && candidate.finishReason !== null) {
        state.finished = true;
        out += this.chunk([this.choice(index, {}, finishReasonOf(candidate.finishReason, state.calls > 0))]);
      }
    });
    return out;
  }

  /** End of the upstream stream: close any choice left open, then usage and [DONE]. */
  private finish(): string {
    if (this.failed) return '';
    this.id ??= `chatcmpl-${randomUUID()}`;
    let out = '';
    if (this.choices.size === 0) {
      // A stream with no candidates at all: the prompt was blocked.
      out += this.chunk([this.choice(0, roleDelta())]);
      out += this.chunk([this.choice(0, {}, 'content_filter')]);
    }
    for (const [index, state] of this.choices) {
      if (!state.finished)
        out += this.chunk([this.choice(index, {}, finishReasonOf(undefined, state.calls > 0))]);
    }
    if (this.includeUsage && this.usage !== undefined) out += this.chunk([], this.usage);
    return `${out}${SSE_DONE}`;
  }

  private fail(message: string, code: string): string {
    this.failed = true;
    return streamErrorFrame(message, 'api_error', code);
  }
}
