// Which assembler reads a logged stream: the one of the dialect its client spoke, chosen by the
// record's endpoint. The streams are kept as the client got them (a Messages client gets Anthropic
// events whether the upstream spoke Anthropic or was translated, a Responses client gets Responses
// events whether passed through or bridged), so the endpoint says it all.
import { type AssembledStream, assembleChatStream } from '../streaming/assemble-chat.js';
import { assembleMessagesStream } from '../streaming/assemble-messages.js';
import { assembleResponsesStream } from '../streaming/assemble-responses.js';

export type StreamAssembler = (chunks: readonly Buffer[]) => AssembledStream;

/** By the endpoint's JSON text, as the packed record carries it (record-head.ts). */
const BY_ENDPOINT = new Map<string, StreamAssembler>([
  [JSON.stringify('/v1/chat/completions'), assembleChatStream],
  [JSON.stringify('/v1/messages'), assembleMessagesStream],
  [JSON.stringify('/v1/responses'), assembleResponsesStream],
]);

/** The assembler for a record's endpoint (JSON text); chat's for any other. */
export function streamAssemblerFor(endpointJson: string): StreamAssembler {
  return BY_ENDPOINT.get(endpointJson) ?? assembleChatStream;
}
