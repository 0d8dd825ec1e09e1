// The web console's login: an admin key (ADMIN_KEYS) typed once becomes an HTTP-only,
// SameSite=Strict session cookie, so the page's script never holds a key. The cookie is stateless
// (an expiry signed with HMAC-SHA256 keyed by the admin key's digest), so it works across
// `serve --workers` and reloads without a session table, and dies with its admin key: remove the
// key from ADMIN_KEYS and every session it opened is refused. Scripts may send the admin key as
// `Authorization: Bearer` instead. A client key (configured or managed) is a 403.
import { createHmac, hash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../../errors.js';
import type { KeyStore } from '../../managed-keys/key-store.js';
import { type ClientAuth, presentedKey } from '../client-auth.js';
import { sendError } from '../error-handler.js';

export const SESSION_COOKIE = 'ai_proxy_console';
/** Twelve hours: a working day, after which the key is typed again. */
export const SESSION_SECONDS = 12 * 3600;

/** What the console's auth needs of the runtime: the current admin keys and who the others are. */
export interface ConsoleAuthHost {
  readonly state: { readonly auth: ClientAuth; readonly config: { readonly adminKeys: readonly string[] } };
  readonly managedKeys: KeyStore;
}

function signature(adminKey: string, expires: number): Buffer {
  return createHmac('sha256', hash('sha256', adminKey, 'buffer'))
    .update(`ai-proxy-console\u0000${expires}`)
    .digest();
}

/** A cookie value for a session opened with this admin key. */
export function sessionValue(adminKey: string, now: number): string {
  const expires = Math.floor(now / 1000) + SESSION_SECONDS;
  return `${expires}.${signature(adminKey, expires).toString('base64url')}`;
}

/** Whether a cookie value is a live session signed by one of the current admin keys. */
export function validSession(value: string, adminKeys: readonly string[], now: number): boolean {
  const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (match === null) return false;
  const expires = Number(match[1]);
  if (expires * 1000 <= now) return false;
  const presented = Buffer.from(match[2]!, 'base64url');
  let found = false;
  for (const key of adminKeys) {
    if (timingSafeEqual(presented, signature(key, expires))) found = true;
  }
  return found;
}

function cookieOf(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function cookieHeader(request: FastifyRequest, value: string, maxAge: number): string {
  // Secure only where the browser reached us over TLS: on plain loopback HTTP it would be dropped.
  const secure = request.headers['x-forwarded-proto'] === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`;
}

function isClientKey(host: ConsoleAuthHost, key: string): boolean {
  return (
    host.state.auth.verify(key) !== undefined ||
    host.managedKeys.findByHash(hash('sha256', key, 'hex')) !== undefined
  );
}

const ADMIN_ONLY = {
  status: 403,
  type: 'permission_error',
  wireCode: 'admin_key_required',
} as const;

/** undefined when the caller may use the console's API, else the 401 or 403 to answer. */
export function consoleRefusal(host: ConsoleAuthHost, request: FastifyRequest): GatewayError | undefined {
  const { auth, config } = host.state;
  const cookie = cookieOf(request, SESSION_COOKIE);
  if (cookie !== undefined && validSession(cookie, config.adminKeys, Date.now())) return undefined;
  const key = presentedKey(request.headers);
  if (key === undefined) {
    return new GatewayError(
      'invalid_api_key',
      'Not logged in: log in to the console with an admin key (ADMIN_KEYS), or send one as Authorization: Bearer KEY.',
    );
  }
  if (auth.isAdmin(key)) return undefined;
  if (isClientKey(host, key)) {
    return new GatewayError(
      'invalid_api_key',
      'The console needs an admin key (ADMIN_KEYS); a client key cannot use it.',
      ADMIN_ONLY,
    );
  }
  return new GatewayError('invalid_api_key', 'Incorrect API key provided.');
}

/** An onRequest hook for the console's API routes. */
export function consoleGuard(host: ConsoleAuthHost) {
  return (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    const refused = consoleRefusal(host, request);
    if (refused === undefined) {
      done();
      return;
    }
    reply.header('cache-control', 'no-store');
    sendError(request, reply, refused);
  };
}

/** POST /ui/api/login {key}, POST /ui/api/logout, GET /ui/api/session. */
export function registerConsoleSession(app: FastifyInstance, host: ConsoleAuthHost): void {
  app.post<{ Body: { key: string } }>(
    '/ui/api/login',
    {
      schema: {
        hide: true,
        body: {
          type: 'object',
          required: ['key'],
          properties: { key: { type: 'string', minLength: 1, maxLength: 4096 } },
        },
      },
    },
    async (request, reply) => {
      const key = request.body.key.trim();
      reply.header('cache-control', 'no-store');
      if (!host.state.auth.isAdmin(key)) {
        const error = isClientKey(host, key)
          ? new GatewayError(
              'invalid_api_key',
              'The console needs an admin key (ADMIN_KEYS); a client key cannot log in.',
              ADMIN_ONLY,
            )
          : new GatewayError(
              'invalid_api_key',
              host.state.config.adminKeys.length === 0
                ? 'No admin key is configured: set ADMIN_KEYS to use the console.'
                : 'Incorrect admin key.',
            );
        return sendError(request, reply, error);
      }
      reply.header('set-cookie', cookieHeader(request, sessionValue(key, Date.now()), SESSION_SECONDS));
      return { ok: true, expires_in: SESSION_SECONDS };
    },
  );

  app.post('/ui/api/logout', { schema: { hide: true } }, async (request, reply) => {
    reply.header('set-cookie', cookieHeader(request, '', 0)).header('cache-control', 'no-store');
    return { ok: true };
  });

  app.get('/ui/api/session', { schema: { hide: true }, onRequest: consoleGuard(host) }, async (_r, reply) => {
    reply.header('cache-control', 'no-store');
    return { ok: true };
  });
}
