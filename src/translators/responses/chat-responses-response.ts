// OpenAI chat.completion → Response object: a reasoning item when the provider returned reasoning
// text (`reasoning_content`, or `reasoning` as OpenRouter names it), a message item with the text
// (and a refusal part), one function_call item per tool call. A call's Gemini thoughtSignature rides
// in its call_id (tool-use-id.ts). A cut-short answer is `incomplete`, with the reason.
import { isRecord } from '../../json-guards.js';
import { reasoningTextOf } from '../chat-hub.js';
import { chatToolSignature, toolUseIdOf } from '../tool-use-id.js';
import type { BuildContext } from '../types.js';
import {
  functionCallItem,
  incompleteReasonOf,
  messageItem,
  outputTextPart,
  reasoningItem,
  refusalPart,
  responseIdentityOf,
  responseObject,
  responsesUsageOf,
} from './response-object.js';
import type { Json } from './responses-types.js';

/** A chat tool call's id as the Responses call_id; a call without one gets one from the response. */
export function callIdOf(
  id: string | undefined,
  signature: string | undefined,
  hex: string,
  position: number,
) {
  return toolUseIdOf(id ?? `call_${hex}_${position}`, signature);
}

function functionCallOf(call: unknown, position: number, hex: string): Json | undefined {
  if (!isRecord(call)) return undefined;
  const fn = isRecord(call.function) ? call.function : {};
  const id = typeof call.id === 'string' && call.id !== '' ? call.id : undefined;
  const args =
    typeof fn.arguments === 'string'
      ? fn.arguments
      : isRecord(fn.arguments)
        ? JSON.stringify(fn.arguments)
        : '';
  return functionCallItem(
    `fc_${hex}_${position}`,
    'completed',
    callIdOf(id, chatToolSignature(call), hex, position),
    typeof fn.name === 'string' ? fn.name : '',
    args,
  );
}

export function chatToResponse(completion: unknown, ctx: BuildContext): Json {
  const answer = isRecord(completion) ? completion : {};
  const choices = Array.isArray(answer.choices) ? answer.choices : [];
  const choice = isRecord(choices[0]) ? choices[0] : {};
  const message = isRecord(choice.message) ? choice.message : {};
  const { hex } = responseIdentityOf(ctx);
  const incompleteReason = incompleteReasonOf(choice.finish_reason);

  const output: Json[] = [];
  const reasoning = reasoningTextOf(message);
  if (reasoning !== undefined) output.push(reasoningItem(`rs_${hex}`, reasoning));
  const content: Json[] = [];
  if (typeof message.content === 'string' && message.content !== '')
    content.push(outputTextPart(message.content));
  if (typeof message.refusal === 'string' && message.refusal !== '')
    content.push(refusalPart(message.refusal));
  if (content.length > 0)
    output.push(
      messageItem(`msg_${hex}`, incompleteReason === undefined ? 'completed' : 'incomplete', content),
    );
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  calls.forEach((call, position) => {
    const item = functionCallOf(call, position, hex);
    if (item !== undefined) output.push(item);
  });

  return responseObject(ctx, {
    status: incompleteReason === undefined ? 'completed' : 'incomplete',
    output,
    usage: responsesUsageOf(answer.usage),
    ...(incompleteReason === undefined ? {} : { incompleteReason }),
  });
}
