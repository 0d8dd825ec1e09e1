// Input items as the store keeps them: every item has an id (GET …/input_items pages by id) and a
// message is in its full form (`type: "message"`, content as parts), as OpenAI lists them. Both
// forms mean the same to a model, so the next turn can send the stored list as its input.
import { randomBytes } from 'node:crypto';
import { isRecord } from '../json-guards.js';

/** OpenAI's id prefixes per item type; anything else gets `item_`. */
const ID_PREFIXES: Record<string, string> = {
  message: 'msg_',
  function_call: 'fc_',
  function_call_output: 'fco_',
  reasoning: 'rs_',
};

export function newItemId(type: string): string {
  return (ID_PREFIXES[type] ?? 'item_') + randomBytes(24).toString('hex');
}

/** A message's string content as the one part it stands for. */
function contentParts(role: unknown, content: string): unknown[] {
  return role === 'assistant'
    ? [{ type: 'output_text', text: content, annotations: [] }]
    : [{ type: 'input_text', text: content }];
}

/** One item in stored form; an item already in that form is returned as it is (no copy). */
export function storedItem(item: unknown): unknown {
  if (!isRecord(item)) return item;
  const isMessage = item.type === 'message' || (item.type === undefined && 'role' in item);
  const type = isMessage ? 'message' : item.type;
  const hasId = typeof item.id === 'string' && item.id !== '';
  const stringContent = isMessage && typeof item.content === 'string';
  if (hasId && type === item.type && !stringContent) return item;
  // The id first, as OpenAI lists items; an empty one is replaced too.
  const stored: Record<string, unknown> = { id: undefined, ...item };
  if (!hasId) stored.id = newItemId(typeof type === 'string' ? type : '');
  if (type !== undefined) stored.type = type;
  if (stringContent) stored.content = contentParts(item.role, item.content as string);
  return stored;
}

export function storedItems(items: readonly unknown[]): unknown[] {
  return items.map(storedItem);
}

/** An item's id, when it has one. */
export function itemId(item: unknown): string | undefined {
  return isRecord(item) && typeof item.id === 'string' ? item.id : undefined;
}
