// A dialect's translator for a protocol that does not speak it, composed from that protocol's chat
// translator with OpenAI chat as the hub: the dialect's body → chat body → the chat translator's
// request; its answer (or an OpenAI answer as it came) → chat.completion → the dialect's answer; its
// stream (or OpenAI's as it came) → chunks → the dialect's events. The Anthropic Messages and the
// OpenAI Responses dialects both go this way; the chat translators are reused, never copied.
import type {
  BuildContext,
  ChatRequestBody,
  ChatTranslator,
  StreamTranslator,
  UpstreamErrorDetail,
  UpstreamRequest,
} from './types.js';

/** A stream translator that can also hand over the finished answer (the Responses object). */
export type ResultStreamTranslator = StreamTranslator & { result?(): unknown };

/** What a dialect brings to the hub. */
export interface HubDialect {
  /** The client's body as a chat request for ctx.model, and the fields nobody will honour. */
  toChat(ctx: BuildContext): { body: ChatRequestBody; droppedParams: string[] };
  /** A chat field the inner translator dropped, as the client named it. */
  clientParamName(chatName: string): string;
  /** A chat.completion → the dialect's answer. */
  fromChat(completion: unknown, ctx: BuildContext): unknown;
  /** Chat chunk SSE → the dialect's stream. */
  createStream(ctx: BuildContext): ResultStreamTranslator;
}

export function viaChatHub(inner: ChatTranslator, dialect: HubDialect): ChatTranslator {
  /**
   * The chat context each dialect context became, for the response and stream steps: the pipeline
   * hands every step the same context object, and the chat translators read the chat body from it.
   */
  const chatContexts = new WeakMap<BuildContext, { ctx: BuildContext; dropped: string[] }>();

  function chatContextOf(ctx: BuildContext): { ctx: BuildContext; dropped: string[] } {
    const known = chatContexts.get(ctx);
    if (known !== undefined) return known;
    const { body, droppedParams } = dialect.toChat(ctx);
    const made = { ctx: { ...ctx, body, rawBody: JSON.stringify(body) }, dropped: droppedParams };
    chatContexts.set(ctx, made);
    return made;
  }

  return {
    buildRequest(ctx: BuildContext): UpstreamRequest {
      const chat = chatContextOf(ctx);
      const built = inner.buildRequest(chat.ctx);
      const dropped = [...chat.dropped];
      for (const name of built.droppedParams.map((param) => dialect.clientParamName(param))) {
        if (!dropped.includes(name)) dropped.push(name);
      }
      return { ...built, droppedParams: dropped };
    },

    translateResponse(upstream: unknown, ctx: BuildContext): unknown {
      const completion =
        inner.translateResponse === undefined
          ? upstream
          : inner.translateResponse(upstream, chatContextOf(ctx).ctx);
      return dialect.fromChat(completion, ctx);
    },

    createStreamTranslator(ctx: BuildContext): ResultStreamTranslator {
      const outer = dialect.createStream(ctx);
      const chunks = inner.createStreamTranslator?.(chatContextOf(ctx).ctx);
      if (chunks === undefined) return outer;
      const composed: ResultStreamTranslator = {
        push(chunk: Buffer) {
          const translated = chunks.push(chunk);
          return translated === undefined ? undefined : outer.push(translated);
        },
        end() {
          const tail = chunks.end();
          const out = tail === undefined ? undefined : outer.push(tail);
          const last = outer.end();
          if (out === undefined) return last;
          return last === undefined ? out : Buffer.concat([out, last]);
        },
      };
      if (outer.result !== undefined) composed.result = () => outer.result?.();
      return composed;
    },

    /** The inner reading, never relayed: an OpenAI chat error body is not the dialect's shape. */
    parseError(status: number, body: string): UpstreamErrorDetail {
      const { relay: _relay, ...detail } = inner.parseError(status, body);
      return detail;
    },
  };
}
