// Stored responses on the Responses route: `prepare` turns a previous_response_id into what the
// upstream needs (the whole conversation for a bridged one, rebuilt from the store; a pin to the
// provider key that stores a native one), and `settle` keeps each answer for the next turn. A
// response belongs to the client key that created it; another key's is "not found".
import { GatewayError } from '../../errors.js';
import { carriedOutputItems, expandInput } from '../../responses/conversation.js';
import { type StoredResponse, visibleTo } from '../../responses/response-store.js';
import type { ChatRequestBody } from '../../translators/types.js';
import type { Runtime } from '../runtime.js';
import type { AnsweredExchange, DialectRequest, PreparedRequest } from './dialect.js';

/** A stored response, or a 503 naming the store when it cannot be read (Redis away, say). */
async function storedResponse(runtime: Runtime, id: string): Promise<StoredResponse | undefined> {
  try {
    return await runtime.responses.get(id);
  } catch (error) {
    throw new GatewayError(
      'response_store_unavailable',
      'The stored responses cannot be reached right now, so previous_response_id cannot be resolved; retry in a moment.',
      { cause: error },
    );
  }
}

function notFound(id: string): GatewayError {
  return new GatewayError('response_not_found', `Previous response with id '${id}' not found.`, {
    param: 'previous_response_id',
    wireCode: 'previous_response_not_found',
  });
}

/** A bridged response's output items share its id's hex: `msg_<hex>`, `fc_<hex>_<n>` → `resp_<hex>`. */
const ITEM_ID = /^(?:msg|fc)_([0-9a-f]{32})(?:_\d+)?$/;

/**
 * `item_reference` items (the AI SDK sends them for earlier output while store is on) replaced by
 * the items a bridged response stored; references the store does not hold stay as they are (a
 * native upstream resolves its own; the bridge refuses the rest, naming them).
 */
async function resolveReferences(
  input: unknown,
  owner: string | null,
  runtime: Runtime,
): Promise<unknown[] | undefined> {
  if (!Array.isArray(input)) return undefined;
  let changed = false;
  const out: unknown[] = [];
  for (const item of input) {
    const reference = item as { type?: unknown; id?: unknown };
    const match =
      reference?.type === 'item_reference' && typeof reference.id === 'string'
        ? ITEM_ID.exec(reference.id)
        : null;
    if (match === null) {
      out.push(item);
      continue;
    }
    const stored = await storedResponse(runtime, `resp_${match[1]}`);
    const output = stored?.owner === owner && !stored.native ? carriedOutputItems(stored.response) : [];
    const found = output.find((candidate) => (candidate as { id?: unknown }).id === reference.id);
    out.push(found ?? item);
    changed ||= found !== undefined;
  }
  return changed ? out : undefined;
}

export async function prepareConversation(
  { ctx, body, rawBody }: DialectRequest,
  runtime: Runtime,
): Promise<PreparedRequest> {
  const previous = body.previous_response_id;
  const resolved = await resolveReferences(body.input, ctx.clientKeyHash, runtime);
  const current: ChatRequestBody =
    resolved === undefined ? body : ({ ...body, input: resolved } as ChatRequestBody);
  const currentRaw = resolved === undefined ? rawBody : JSON.stringify(current);
  if (typeof previous !== 'string' || previous === '') return { body: current, rawBody: currentRaw };
  const stored = await storedResponse(runtime, previous);
  if (!visibleTo(stored, ctx.clientKeyHash)) throw notFound(previous);
  // The upstream holds it: only the key that created it can continue it there.
  if (stored.native)
    return { body: current, rawBody: currentRaw, pin: { provider: stored.provider, keyId: stored.keyId } };
  const { previous_response_id: _previous, ...rest } = current;
  const expanded: ChatRequestBody = {
    ...rest,
    input: expandInput(stored, (current.input ?? []) as string | unknown[]),
  } as ChatRequestBody;
  return { body: expanded, rawBody: JSON.stringify(expanded) };
}

/** A native stream's response id, from its first event (response.created). */
function idInFirstChunk(chunk: Buffer | undefined): string | undefined {
  if (chunk === undefined) return undefined;
  const found = /"id"\s*:\s*"(resp_[^"\\]+)"/.exec(chunk.toString('utf8', 0, Math.min(chunk.length, 4096)));
  return found?.[1];
}

function idOf(answer: unknown): string | undefined {
  if (typeof answer !== 'object' || answer === null) return undefined;
  const id = (answer as Record<string, unknown>).id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** The request's input as items (a string is one user message). */
function inputItems(input: unknown): unknown[] {
  if (typeof input === 'string') return [{ type: 'message', role: 'user', content: input }];
  return Array.isArray(input) ? input : [];
}

export function settleConversation(answered: AnsweredExchange, runtime: Runtime): void {
  const { ctx, body, committed } = answered;
  if (body.store === false) return;
  const provider = committed.target.provider;
  const native = provider.protocol === 'openai' && provider.responses === true;
  const id = idOf(answered.answer) ?? (native ? idInFirstChunk(answered.firstChunk) : undefined);
  if (id === undefined) return;
  const now = Date.now();
  const record: StoredResponse = {
    id,
    owner: ctx.clientKeyHash,
    createdAt: now,
    expiresAt: now + runtime.responsesTtlMs,
    model: typeof body.model === 'string' ? body.model : committed.target.model,
    provider: provider.name,
    keyId: committed.key.id,
    native,
    input: native ? [] : inputItems(body.input),
    response: native ? null : answered.answer,
  };
  runtime.responses.put(record).catch((error: unknown) => {
    runtime.logger.warn({ err: error, reqId: ctx.id, response: id }, 'could not store the response');
  });
}
