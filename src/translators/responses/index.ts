// Which translator serves a Responses request: an OpenAI-protocol provider that serves the
// Responses API (`responses: true`; the built-in openai provider) natively, every other OpenAI,
// Anthropic, Gemini and Cohere provider through its chat translator with chat as the hub; any
// other protocol cannot serve it.
import type { ProviderConfig } from '../../config/types.js';
import type { Protocol } from '../../providers/registry.js';
import { chatTranslatorFor } from '../index.js';
import type { ChatTranslator } from '../types.js';
import { viaChatHub } from '../via-chat.js';
import { chatToResponse } from './chat-responses-response.js';
import { ChatToResponsesStream } from './chat-responses-stream.js';
import { clientParamName, responsesToChat } from './responses-chat-request.js';
import { responsesPassthrough } from './responses-passthrough.js';
import {
  ANTHROPIC_RESPONSES_TARGET,
  COHERE_RESPONSES_TARGET,
  GEMINI_RESPONSES_TARGET,
  OPENAI_RESPONSES_TARGET,
  type ResponsesTarget,
} from './responses-targets.js';
import { responsesBodyOf } from './responses-types.js';

const TARGETS: ReadonlyArray<[Protocol, ResponsesTarget]> = [
  ['openai', OPENAI_RESPONSES_TARGET],
  ['anthropic', ANTHROPIC_RESPONSES_TARGET],
  ['gemini', GEMINI_RESPONSES_TARGET],
  ['cohere', COHERE_RESPONSES_TARGET],
];

/** The Responses → chat → protocol composition for one target. */
export function responsesViaChat(inner: ChatTranslator, target: ResponsesTarget): ChatTranslator {
  return viaChatHub(inner, {
    toChat: (ctx) => responsesToChat(responsesBodyOf(ctx.body), ctx.model, ctx.stream, target),
    clientParamName,
    fromChat: chatToResponse,
    createStream: (ctx) => new ChatToResponsesStream(ctx),
  });
}

const BRIDGED: Partial<Record<Protocol, ChatTranslator>> = {};
for (const [protocol, target] of TARGETS) {
  const inner = chatTranslatorFor(protocol);
  if (inner !== undefined) BRIDGED[protocol] = responsesViaChat(inner, target);
}

/** `providers.<name>.responses: true` (ProviderConfig.responses; the built-in openai provider). */
function servesResponses(provider: ProviderConfig): boolean {
  return (provider as ProviderConfig & { responses?: boolean }).responses === true;
}

export function responsesTranslatorFor(
  protocol: Protocol,
  provider: ProviderConfig,
): ChatTranslator | undefined {
  if (protocol === 'openai' && servesResponses(provider)) return responsesPassthrough;
  return BRIDGED[protocol];
}
