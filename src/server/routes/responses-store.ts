// GET /v1/responses/{id}, GET /v1/responses/{id}/input_items and DELETE /v1/responses/{id}: the
// responses the gateway stored. A bridged one is answered from the store; a native one (the
// upstream keeps it) is asked of the upstream with the provider key that created it, and its
// answer relayed. Unknown, expired and other client keys' ids are the same 404, in OpenAI's words.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../../errors.js';
import { inputItemsPage, readInputItemsQuery } from '../../responses/input-items-page.js';
import { callNativeUpstream, type NativeCall, nativeHome } from '../../responses/native-upstream.js';
import { type StoredResponse, visibleTo } from '../../responses/response-store.js';
import { errorResponses } from '../chat-schema.js';
import { pathOf } from '../exchange-context.js';
import { contextFor } from '../request-context.js';
import type { Runtime } from '../runtime.js';

type IdRequest = FastifyRequest<{ Params: { id: string } }>;

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 256 } },
};

const notFoundResponse = {
  404: { ...errorResponses[404], description: 'No such response for this client key' },
};

function notFound(id: string): GatewayError {
  return new GatewayError('response_not_found', `Response with id '${id}' not found.`, { wireCode: null });
}

function storeUnavailable(error: unknown): GatewayError {
  return new GatewayError(
    'response_store_unavailable',
    'The stored responses cannot be reached right now; retry in a moment.',
    { cause: error },
  );
}

/** The caller's record, or the 404 an unknown, expired or another client's id gets. */
async function ownedRecord(runtime: Runtime, request: IdRequest): Promise<StoredResponse> {
  const { id } = request.params;
  let record: StoredResponse | undefined;
  try {
    record = await runtime.responses.get(id);
  } catch (error) {
    throw storeUnavailable(error);
  }
  if (!visibleTo(record, contextFor(request).clientKeyHash)) throw notFound(id);
  return record;
}

async function forget(runtime: Runtime, request: IdRequest, id: string): Promise<boolean> {
  try {
    return await runtime.responses.delete(id);
  } catch (error) {
    request.log.warn({ err: error, reqId: request.id, response: id }, 'could not forget a stored response');
    return false;
  }
}

/** The query string as the client sent it, for the upstream of a native response. */
function rawQuery(url: string): string {
  const path = pathOf(url);
  return url.length > path.length ? url.slice(path.length + 1) : '';
}

/**
 * Asks the upstream that keeps a native response and relays its answer. When the upstream no
 * longer has it (404) or deleted it, the gateway forgets where it was.
 */
async function relayNative(
  runtime: Runtime,
  request: IdRequest,
  reply: FastifyReply,
  record: StoredResponse,
  call: NativeCall,
): Promise<FastifyReply> {
  const config = runtime.state.config;
  const home = nativeHome(config, record);
  if (home === undefined) {
    request.log.warn(
      { reqId: request.id, response: record.id, provider: record.provider, key_id: record.keyId },
      'a native stored response was asked for, but the provider key that created it is no longer configured',
    );
    throw notFound(record.id);
  }
  const answer = await callNativeUpstream(config, runtime.pools, home, call);
  const ok = answer.status >= 200 && answer.status < 300;
  if (answer.status === 404 || (ok && call.method === 'DELETE')) await forget(runtime, request, record.id);
  return reply
    .code(answer.status)
    .header('x-ai-proxy-provider', home.provider.name)
    .type('application/json')
    .send(answer.body);
}

function sendJson(reply: FastifyReply, value: unknown): FastifyReply {
  return reply.code(200).type('application/json').send(JSON.stringify(value));
}

export function registerResponsesStoreRoutes(app: FastifyInstance, runtime: Runtime): void {
  app.get(
    '/v1/responses/:id',
    {
      schema: {
        summary: 'Retrieve a stored response (OpenAI Responses API)',
        description:
          "A bridged response comes from the gateway's store; a native one is fetched from the provider that keeps it, with the key that created it. Only the client key that created a response sees it.",
        tags: ['OpenAI API'],
        params: idParams,
        security: [{ bearerAuth: [] }],
        response: { 401: errorResponses[401], ...notFoundResponse },
      },
    },
    async (request: IdRequest, reply) => {
      const record = await ownedRecord(runtime, request);
      const path = `/responses/${encodeURIComponent(record.id)}`;
      if (record.native)
        return relayNative(runtime, request, reply, record, {
          method: 'GET',
          path,
          query: rawQuery(request.url),
        });
      const stream = (request.query as Record<string, unknown> | undefined)?.stream;
      if (stream === 'true') {
        throw new GatewayError(
          'invalid_request',
          "Invalid value for 'stream': a stored response that the gateway bridged cannot be streamed again.",
          { param: 'stream' },
        );
      }
      return sendJson(reply, record.response);
    },
  );

  app.get(
    '/v1/responses/:id/input_items',
    {
      schema: {
        summary: "List a stored response's input items (OpenAI Responses API)",
        description:
          'A cursor list: `limit` 1–100 (default 20), `order` asc or desc (default desc), `after` an item id; `include` is passed on for a native response and changes nothing for a bridged one. A bridged response lists every item its turn was given, earlier turns included.',
        tags: ['OpenAI API'],
        params: idParams,
        security: [{ bearerAuth: [] }],
        response: { 401: errorResponses[401], ...notFoundResponse },
      },
    },
    async (request: IdRequest, reply) => {
      const record = await ownedRecord(runtime, request);
      if (record.native) {
        const path = `/responses/${encodeURIComponent(record.id)}/input_items`;
        return relayNative(runtime, request, reply, record, {
          method: 'GET',
          path,
          query: rawQuery(request.url),
        });
      }
      return sendJson(reply, inputItemsPage(record.input, readInputItemsQuery(request.query)));
    },
  );

  app.delete(
    '/v1/responses/:id',
    {
      schema: {
        summary: 'Delete a stored response (OpenAI Responses API)',
        description:
          "A bridged response is deleted from the gateway's store; a native one is deleted at the provider that keeps it, then forgotten.",
        tags: ['OpenAI API'],
        params: idParams,
        security: [{ bearerAuth: [] }],
        response: { 401: errorResponses[401], ...notFoundResponse },
      },
    },
    async (request: IdRequest, reply) => {
      const record = await ownedRecord(runtime, request);
      const path = `/responses/${encodeURIComponent(record.id)}`;
      if (record.native)
        return relayNative(runtime, request, reply, record, { method: 'DELETE', path, query: '' });
      let deleted: boolean;
      try {
        deleted = await runtime.responses.delete(record.id);
      } catch (error) {
        throw storeUnavailable(error);
      }
      // Expired or deleted by a concurrent request in between: gone all the same, as for any id.
      if (!deleted) throw notFound(record.id);
      return sendJson(reply, { id: record.id, object: 'response', deleted: true });
    },
  );
}
