// A Messages translator for a protocol that is not Anthropic's, composed from that protocol's chat
// translator: Messages → chat body → the chat translator's request; its answer (or the OpenAI
// answer as it came) → chat.completion → Message; its stream (or OpenAI's as it came) → chunks →
// Anthropic events. The chat translators are reused as they are, never copied.
import type { BuildContext, ChatTranslator, UpstreamErrorDetail, UpstreamRequest } from '../types.js';
import { chatToMessages } from './chat-messages-response.js';
import { ChatToMessagesStream } from './chat-messages-stream.js';
import type { ChatTarget } from './chat-targets.js';
import { clientParamName, messagesToChat } from './messages-chat-request.js';
import { messagesBodyOf } from './messages-types.js';

export function viaChat(inner: ChatTranslator, target: ChatTarget): ChatTranslator {
  /**
   * The chat context each Messages context became, for the response and stream steps: the pipeline
   * hands every step the same context object, and the chat translators read the chat body from it.
   */
  const chatContexts = new WeakMap<BuildContext, { ctx: BuildContext; dropped: string[] }>();

  function chatContextOf(ctx: BuildContext): { ctx: BuildContext; dropped: string[] } {
    const known = chatContexts.get(ctx);
    if (known !== undefined) return known;
    const { body, droppedParams } = messagesToChat(messagesBodyOf(ctx.body), ctx.model, ctx.stream, target);
    const made = { ctx: { ...ctx, body, rawBody: JSON.stringify(body) }, dropped: droppedParams };
    chatContexts.set(ctx, made);
    return made;
  }

  const translator: ChatTranslator = {
    buildRequest(ctx: BuildContext): UpstreamRequest {
      const chat = chatContextOf(ctx);
      const built = inner.buildRequest(chat.ctx);
      const dropped = [...chat.dropped];
      for (const name of built.droppedParams.map(clientParamName)) {
        if (!dropped.includes(name)) dropped.push(name);
      }
      return { ...built, droppedParams: dropped };
    },

    translateResponse(upstream: unknown, ctx: BuildContext): unknown {
      const completion =
        inner.translateResponse === undefined
          ? upstream
          : inner.translateResponse(upstream, chatContextOf(ctx).ctx);
      return chatToMessages(completion, ctx);
    },

    createStreamTranslator(ctx: BuildContext) {
      const messages = new ChatToMessagesStream(ctx);
      const chunks = inner.createStreamTranslator?.(chatContextOf(ctx).ctx);
      if (chunks === undefined) return messages;
      return {
        push(chunk: Buffer) {
          const translated = chunks.push(chunk);
          return translated === undefined ? undefined : messages.push(translated);
        },
        end() {
          const tail = chunks.end();
          const out = tail === undefined ? undefined : messages.push(tail);
          const last = messages.end();
          if (out === undefined) return last;
          return last === undefined ? out : Buffer.concat([out, last]);
        },
      };
    },

    /** The inner reading, never relayed: an OpenAI-shaped body is not what an Anthropic client reads. */
    parseError(status: number, body: string): UpstreamErrorDetail {
      const { relay: _relay, ...detail } = inner.parseError(status, body);
      return detail;
    },
  };
  return translator;
}
