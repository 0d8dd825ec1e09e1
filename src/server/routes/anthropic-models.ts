// GET /v1/models in Anthropic's shape, for a client that sends anthropic-version (every Anthropic
// SDK does): `{type:"model", id, display_name, created_at}` entries in cursor pages
// (`limit`, `after_id`, `before_id` in; `has_more`, `first_id`, `last_id` out), so
// `anthropic.models.list()` and its auto-paging work. The list and its order are /v1/models' own.
import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError } from '../../errors.js';
import { isRecord } from '../../json-guards.js';

/** A model as the OpenAI-shaped list holds it: enough to describe it in Anthropic's shape. */
export interface ModelEntry {
  id: string;
  created: number;
}

export interface AnthropicModel {
  type: 'model';
  id: string;
  display_name: string;
  created_at: string;
}

export interface AnthropicModelPage {
  data: AnthropicModel[];
  has_more: boolean;
  first_id: string | null;
  last_id: string | null;
}

export interface PageQuery {
  limit: number;
  afterId?: string;
  beforeId?: string;
}

export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 1000;

/** The client speaks Anthropic's API: the answer takes its shape. */
export function wantsAnthropicShape(headers: IncomingHttpHeaders): boolean {
  return headers['anthropic-version'] !== undefined;
}

/** Unix seconds as RFC 3339, whole seconds (`2025-02-19T00:00:00Z`, as Anthropic writes it). */
function rfc3339(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function anthropicModel(entry: ModelEntry): AnthropicModel {
  // The gateway knows no marketing names: the id is the name a client sends, and shows as such.
  return { type: 'model', id: entry.id, display_name: entry.id, created_at: rfc3339(entry.created) };
}

function invalid(param: string, message: string): GatewayError {
  return new GatewayError('invalid_request', `Invalid value for '${param}': ${message}.`, { param });
}

function oneValue(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(name, 'give it once');
  return value;
}

/** The paging parameters of the query string, checked: a bad one is a 400 naming it. */
export function readPageQuery(query: unknown): PageQuery {
  const params = isRecord(query) ? query : {};
  const limitText = oneValue(params, 'limit');
  let limit = DEFAULT_PAGE_LIMIT;
  if (limitText !== undefined) {
    limit = /^\d{1,4}$/.test(limitText) ? Number(limitText) : Number.NaN;
    if (!(limit >= 1 && limit <= MAX_PAGE_LIMIT)) {
      throw invalid('limit', `must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
    }
  }
  const afterId = oneValue(params, 'after_id');
  const beforeId = oneValue(params, 'before_id');
  if (afterId !== undefined && beforeId !== undefined) {
    throw invalid('before_id', 'after_id and before_id cannot both be given');
  }
  return { limit, afterId, beforeId };
}

function indexOf(models: readonly ModelEntry[], id: string, param: string): number {
  const index = models.findIndex((model) => model.id === id);
  if (index === -1) throw invalid(param, `no model ${JSON.stringify(id)} in the list`);
  return index;
}

/** One page of the list: after a cursor, before one (the page that ends just before it), or first. */
export function anthropicPage(models: readonly ModelEntry[], query: PageQuery): AnthropicModelPage {
  let start: number;
  let end: number;
  if (query.beforeId !== undefined) {
    end = indexOf(models, query.beforeId, 'before_id');
    start = Math.max(0, end - query.limit);
  } else {
    start = query.afterId === undefined ? 0 : indexOf(models, query.afterId, 'after_id') + 1;
    end = Math.min(models.length, start + query.limit);
  }
  const data = models.slice(start, end).map(anthropicModel);
  return {
    data,
    has_more: query.beforeId !== undefined ? start > 0 : end < models.length,
    first_id: data[0]?.id ?? null,
    last_id: data[data.length - 1]?.id ?? null,
  };
}
