// OpenAI chat.completion.chunk frames, and the scaffolding of a translator from a provider's
// named-event SSE stream (Anthropic, Cohere) to them: SSE parsing, the chunk head, the role
// chunk, the usage chunk, and the error frame for a stream that ends too early.
import { isRecord } from '../json-guards.js';
import { type SseEvent, SseParser } from '../streaming/sse-parser.js';
import { sseFrame } from '../streaming/sse-writer.js';
import { nowSeconds } from './openai-shapes.js';
import type { BuildContext, StreamTranslator } from './types.js';

type Json = Record<string, unknown>;

/** What every chunk of one stream repeats. */
export interface ChunkHead {
  id: string | undefined;
  created: number;
  model: string;
  /** `stream_options.include_usage`: every chunk then carries `usage` (null until the last). */
  includeUsage: boolean;
}

/** One chat.completion.chunk frame; `usage` given only on the usage chunk. */
export function chunkFrame(head: ChunkHead, choices: unknown[], usage?: unknown): string {
  const data: Json = {
    id: head.id,
    object: 'chat.completion.chunk',
    created: head.created,
    model: head.model,
    choices,
  };
  if (usage !== undefined) data.usage = usage;
  else if (head.includeUsage) data.usage = null;
  return sseFrame(data);
}

/** One choice of a chunk. */
export function deltaChoice(index: number, delta: Json, finishReason: string | null = null): Json {
  return { index, delta, logprobs: null, finish_reason: finishReason };
}

/** The first delta of every choice. */
export function roleDelta(): Json {
  return { role: 'assistant', content: '' };
}

/** An error frame in OpenAI's shape, after which the stream ends. */
export function streamErrorFrame(message: string, type: string, code: string | null): string {
  return sseFrame({ error: { message, type, param: null, code } });
}

export function includeUsageOf(ctx: BuildContext): boolean {
  const options = ctx.body.stream_options;
  return isRecord(options) && options.include_usage === true;
}

/**
 * A provider stream of named JSON events, one choice, translated event by event. A subclass
 * handles each event and sets `done` at the provider's last event (or an error); a stream that
 * closes before that ends with an upstream_error frame naming `lastEvent`.
 */
export abstract class NamedEventStreamTranslator implements StreamTranslator, ChunkHead {
  private readonly parser = new SseParser();
  readonly includeUsage: boolean;
  protected readonly provider: string;
  id = '';
  model: string;
  readonly created = nowSeconds();
  /** Provider tool-call (or block) index → OpenAI tool-call index. */
  protected readonly toolIndex = new Map<number, number>();
  /** OpenAI index of each tool call still open → whether any argument text went out for it. */
  private readonly openCalls = new Map<number, boolean>();
  protected done = false;

  constructor(
    ctx: BuildContext,
    private readonly lastEvent: string,
  ) {
    this.includeUsage = includeUsageOf(ctx);
    this.provider = ctx.provider.name;
    this.model = ctx.model;
  }

  push(chunk: Buffer): Buffer | undefined {
    return this.render(this.parser.push(chunk));
  }

  end(): Buffer | undefined {
    const out = this.render(this.parser.end());
    if (this.done) return out;
    // The upstream closed cleanly but without its last event: the answer is incomplete.
    this.done = true;
    const message = `${this.provider}: the stream ended before ${this.lastEvent}`;
    const tail = streamErrorFrame(message, 'api_error', 'upstream_error');
    return Buffer.concat([out ?? Buffer.alloc(0), Buffer.from(tail)]);
  }

  private render(events: SseEvent[]): Buffer | undefined {
    let text = '';
    for (const event of events) {
      if (this.done) break;
      let data: unknown;
      try {
        data = JSON.parse(event.data);
      } catch {
        continue; // Not JSON (a `[DONE]`, say): it carries nothing to relay.
      }
      if (isRecord(data)) text += this.handle(data.type ?? event.event, data);
    }
    return text === '' ? undefined : Buffer.from(text);
  }

  /** The OpenAI frames for one event of this type. */
  protected abstract handle(type: unknown, data: Json): string;

  protected frame(choices: unknown[], usage?: unknown): string {
    return chunkFrame(this, choices, usage);
  }

  protected chunk(delta: Json, finishReason: string | null = null): string {
    return this.frame([deltaChoice(0, delta, finishReason)]);
  }

  protected roleChunk(): string {
    return this.chunk(roleDelta());
  }

  /** A tool call starts: its head, with the next OpenAI index and any arguments it came with. */
  protected toolCallStart(providerIndex: number, id: unknown, name: unknown, args: string): string {
    const index = this.toolIndex.size;
    this.toolIndex.set(providerIndex, index);
    this.openCalls.set(index, args !== '');
    return this.chunk({ tool_calls: [{ index, id, type: 'function', function: { name, arguments: args } }] });
  }

  /** A fragment of a tool call's arguments; empty fragments are not sent. */
  protected toolCallArguments(providerIndex: unknown, fragment: unknown): string {
    const index = typeof providerIndex === 'number' ? this.toolIndex.get(providerIndex) : undefined;
    if (index === undefined || typeof fragment !== 'string' || fragment === '') return '';
    if (this.openCalls.has(index)) this.openCalls.set(index, true);
    return this.chunk({ tool_calls: [{ index, function: { arguments: fragment } }] });
  }

  /**
   * A tool call's block ended. One that got no argument text (a tool without parameters) would
   * leave the client with `arguments: ""`, which JSON.parse refuses: it gets "{}", as the
   * non-streamed answer has.
   */
  protected toolCallEnd(providerIndex: unknown): string {
    const index = typeof providerIndex === 'number' ? this.toolIndex.get(providerIndex) : undefined;
    if (index === undefined || !this.openCalls.has(index)) return '';
    const argued = this.openCalls.get(index);
    this.openCalls.delete(index);
    return argued ? '' : this.chunk({ tool_calls: [{ index, function: { arguments: '{}' } }] });
  }

  /** The answer ends: every tool call whose end event never came is closed the same way. */
  protected endToolCalls(): string {
    let out = '';
    for (const [index, argued] of this.openCalls) {
      if (!argued) out += this.chunk({ tool_calls: [{ index, function: { arguments: '{}' } }] });
    }
    this.openCalls.clear();
    return out;
  }
}
