// GET /v1/responses/{id}/input_items over a stored item list: OpenAI's cursor list
// ({object:"list", data, first_id, last_id, has_more}), `limit` 1–100 (default 20), `order` asc or
// desc (default desc, newest first), `after` an item id; `include` is accepted and changes nothing
// (a bridged response keeps no extra fields). A bad parameter is a 400 naming it, never clamped.
import { GatewayError } from '../errors.js';
import { isRecord } from '../json-guards.js';
import { itemId } from './input-items.js';

export interface InputItemsQuery {
  limit: number;
  order: 'asc' | 'desc';
  after: string | undefined;
}

export interface InputItemsPage {
  object: 'list';
  data: unknown[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

export const DEFAULT_ITEMS_LIMIT = 20;
export const MAX_ITEMS_LIMIT = 100;

function invalid(param: string, message: string): GatewayError {
  return new GatewayError('invalid_request', `Invalid value for '${param}': ${message}.`, { param });
}

/** A query parameter given once; given twice is a 400 (which one was meant?). */
function oneValue(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(name, 'give it once');
  return value;
}

export function readInputItemsQuery(query: unknown): InputItemsQuery {
  const params = isRecord(query) ? query : {};
  const limitText = oneValue(params, 'limit');
  let limit = DEFAULT_ITEMS_LIMIT;
  if (limitText !== undefined) {
    limit = /^\d{1,3}$/.test(limitText) ? Number(limitText) : Number.NaN;
    if (!(limit >= 1 && limit <= MAX_ITEMS_LIMIT)) {
      throw invalid('limit', `must be an integer from 1 to ${MAX_ITEMS_LIMIT}`);
    }
  }
  const order = oneValue(params, 'order') ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw invalid('order', "must be 'asc' or 'desc'");
  const after = oneValue(params, 'after');
  if (after === '') throw invalid('after', 'must be an item id');
  return { limit, order, after };
}

/** One page of `items` (stored oldest first). An `after` id not in the list is a 400. */
export function inputItemsPage(items: readonly unknown[], query: InputItemsQuery): InputItemsPage {
  const ordered = query.order === 'asc' ? items : [...items].reverse();
  let start = 0;
  if (query.after !== undefined) {
    const at = ordered.findIndex((item) => itemId(item) === query.after);
    if (at === -1) throw invalid('after', `no input item with id '${query.after}' in this response`);
    start = at + 1;
  }
  const data = ordered.slice(start, start + query.limit);
  return {
    object: 'list',
    data,
    first_id: itemId(data[0]) ?? null,
    last_id: itemId(data[data.length - 1]) ?? null,
    has_more: start + query.limit < ordered.length,
  };
}
