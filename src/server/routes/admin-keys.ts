// The admin API for managed client keys: GET/POST /admin/keys, GET/PATCH/DELETE /admin/keys/{id},
// POST /admin/keys/{id}/rotate. Only an admin key (ADMIN_KEYS) may call it: no key is a 401, a
// client key (configured or managed) a 403. The check runs in the route's own onRequest hook
// (the global hook guards /v1/* only), before the body is read or validated. A key is answered
// once, by create and rotate; every other answer carries its record only.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../../errors.js';
import { keyHash } from '../../managed-keys/key-format.js';
import { KeyInputError, type KeyPatch, parseExpiry } from '../../managed-keys/key-input.js';
import { KeyRevokedError, type KeyStore } from '../../managed-keys/key-store.js';
import { POLICY_WIRE_NAMES, policyFromWire, toWire } from '../../managed-keys/key-wire.js';
import type { ManagedKey } from '../../managed-keys/types.js';
import { type ClientAuth, presentedKey } from '../client-auth.js';
import { sendError } from '../error-handler.js';
import { ADMIN_KEY_SCHEMAS as schemas } from './admin-keys-schema.js';

/** What the routes need of the runtime: the current auth (ADMIN_KEYS) and the key store. */
export interface AdminKeysHost {
  readonly state: { readonly auth: ClientAuth };
  readonly managedKeys: KeyStore;
}

/** Each key's usage (spend, remaining budget), added to GET answers when the counters are wired. */
export type AdminKeyUsage = (ids: readonly string[]) => Promise<ReadonlyMap<string, Record<string, unknown>>>;

export interface AdminKeysOptions {
  usage?: AdminKeyUsage;
}

interface WireInput {
  name?: string;
  owner?: string | null;
  expires_at?: string | null;
  policy?: Record<string, unknown>;
}

const POLICY_FIELDS = new Set<string>(Object.values(POLICY_WIRE_NAMES));

/** Who may call: undefined for an admin key, else the 401 or 403 to answer. */
function refusal(host: AdminKeysHost, request: FastifyRequest): GatewayError | undefined {
  const key = presentedKey(request.headers);
  if (key === undefined) {
    return new GatewayError(
      'invalid_api_key',
      'No API key provided: send an admin key (ADMIN_KEYS) as Authorization: Bearer KEY or x-api-key: KEY.',
    );
  }
  const { auth } = host.state;
  if (auth.isAdmin(key)) return undefined;
  const clientKey = auth.verify(key) !== undefined || host.managedKeys.findByHash(keyHash(key)) !== undefined;
  if (!clientKey) return new GatewayError('invalid_api_key', 'Incorrect API key provided.');
  return new GatewayError(
    'invalid_api_key',
    'Managing keys needs an admin key (ADMIN_KEYS); a client key cannot call /admin.',
    { status: 403, type: 'permission_error', wireCode: 'admin_key_required' },
  );
}

function notFound(id: string): GatewayError {
  return new GatewayError('not_found', `No managed key with id '${id}'.`, { wireCode: 'key_not_found' });
}

/** Input errors name the field as the body has it; a store that cannot be reached is a 503. */
function asGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof KeyInputError) {
    const param = POLICY_FIELDS.has(error.field) ? `policy.${error.field}` : error.field;
    return new GatewayError('invalid_request', `Invalid value for '${param}': ${error.message}.`, { param });
  }
  if (error instanceof KeyRevokedError) {
    return new GatewayError('invalid_request', `${error.message}.`, { status: 409, wireCode: 'key_revoked' });
  }
  return new GatewayError(
    'no_capacity',
    'The managed key store cannot be reached right now; retry in a moment.',
    {
      wireCode: 'key_store_unavailable',
      cause: error,
    },
  );
}

function expiresAt(value: string | null | undefined, now: number): number | null | undefined {
  if (value === undefined || value === null) return value;
  return parseExpiry(value, now, 'expires_at');
}

function patchOf(body: WireInput, now: number): KeyPatch {
  const patch: KeyPatch = {};
  if (body.name !== undefined) patch.name = body.name;
  if (body.owner !== undefined) patch.owner = body.owner;
  const expires = expiresAt(body.expires_at, now);
  if (expires !== undefined) patch.expiresAt = expires;
  if (body.policy !== undefined) patch.policy = policyFromWire(body.policy);
  return patch;
}

async function withUsage(options: AdminKeysOptions, records: readonly ManagedKey[]) {
  const now = Date.now();
  const usage =
    options.usage === undefined || records.length === 0
      ? undefined
      : await options.usage(records.map((r) => r.id));
  return records.map((record) => toWire(record, now, usage?.get(record.id)));
}

export function registerAdminKeyRoutes(
  app: FastifyInstance,
  host: AdminKeysHost,
  options: AdminKeysOptions = {},
): void {
  const store = () => host.managedKeys;
  const admin = (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const refused = refusal(host, request);
    if (refused === undefined) return done();
    sendError(request, reply, refused);
  };
  /** Runs one store call; its failure becomes the error answer. */
  const run = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      throw asGatewayError(error);
    }
  };

  app.get('/admin/keys', { onRequest: admin, schema: schemas.list }, async () => {
    const records = await run(() => store().list());
    return { object: 'list', data: await run(() => withUsage(options, records)) };
  });

  app.post<{ Body: WireInput & { name: string } }>(
    '/admin/keys',
    { onRequest: admin, schema: schemas.create },
    async (request, reply) => {
      const body = request.body;
      const now = Date.now();
      const created = await run(() =>
        store().create({
          name: body.name,
          owner: body.owner ?? null,
          expiresAt: expiresAt(body.expires_at, now) ?? null,
          policy: policyFromWire(body.policy ?? {}) as ManagedKey['policy'],
        }),
      );
      reply.code(201).header('cache-control', 'no-store');
      return { ...toWire(created.record, Date.now()), key: created.key };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/admin/keys/:id',
    { onRequest: admin, schema: schemas.get },
    async (request) => {
      const record = await run(() => store().get(request.params.id));
      if (record === undefined) throw notFound(request.params.id);
      const [wire] = await run(() => withUsage(options, [record]));
      return wire;
    },
  );

  app.patch<{ Params: { id: string }; Body: WireInput }>(
    '/admin/keys/:id',
    { onRequest: admin, schema: schemas.update },
    async (request) => {
      const record = await run(() => store().update(request.params.id, patchOf(request.body, Date.now())));
      if (record === undefined) throw notFound(request.params.id);
      return toWire(record, Date.now());
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/admin/keys/:id',
    { onRequest: admin, schema: schemas.revoke },
    async (request) => {
      const record = await run(() => store().revoke(request.params.id));
      if (record === undefined) throw notFound(request.params.id);
      return toWire(record, Date.now());
    },
  );

  app.post<{ Params: { id: string } }>(
    '/admin/keys/:id/rotate',
    { onRequest: admin, schema: schemas.rotate },
    async (request, reply) => {
      const created = await run(() => store().rotate(request.params.id));
      if (created === undefined) throw notFound(request.params.id);
      reply.header('cache-control', 'no-store');
      return { ...toWire(created.record, Date.now()), key: created.key };
    },
  );
}
