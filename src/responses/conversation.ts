// A conversation rebuilt from a stored (bridged) response: what the model saw then, what it
// answered, then the new turn. `instructions` are not carried over (OpenAI's rule), so they are not
// part of this: the caller sends the new request's own.
import { isRecord } from '../json-guards.js';
import type { StoredResponse } from './response-store.js';

/**
 * Output items a bridged upstream can be sent back: messages and function calls. Reasoning items
 * are dropped (a chat upstream cannot take them back, and the reasoning summary is not the
 * reasoning), as is anything else (built-in tool calls never come from a bridged upstream).
 */
const CARRIED_OUTPUT_TYPES = new Set(['message', 'function_call']);

/** The output items of a stored Response object that go into the next turn's input. */
export function carriedOutputItems(response: unknown): unknown[] {
  if (!isRecord(response) || !Array.isArray(response.output)) return [];
  return response.output.filter(
    (item) => isRecord(item) && typeof item.type === 'string' && CARRIED_OUTPUT_TYPES.has(item.type),
  );
}

/** The new request's input as items: a string is one user message. */
export function inputAsItems(input: string | readonly unknown[]): unknown[] {
  if (typeof input === 'string') {
    return [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: input }] }];
  }
  return [...input];
}

/**
 * The full input for a turn that continues `previous`: its input items (earlier turns already
 * expanded), its output items as input, then the new input. A native record holds none of this
 * (the upstream does): the caller continues those upstream instead.
 */
export function expandInput(previous: StoredResponse, newInput: string | readonly unknown[]): unknown[] {
  if (previous.native) {
    throw new TypeError(`response ${previous.id} is stored upstream; it cannot be expanded locally`);
  }
  return [...previous.input, ...carriedOutputItems(previous.response), ...inputAsItems(newInput)];
}
