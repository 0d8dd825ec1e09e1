// The listening server: plain node:http, or node:https when native TLS is configured, with
// Strict-Transport-Security on every HTTPS answer. A reload swaps in the renewed certificate with
// setSecureContext: connections already open keep theirs, new handshakes get the new one, and
// nothing is closed. HTTP/1.1 only (HTTP/2 was not measured no slower; see README "Native TLS").
import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import type { TlsConfig } from '../config/types.js';
import { StartupError } from './exposure.js';
import { readTlsFiles, type TlsFiles } from './tls-files.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const KEEP_ALIVE_TIMEOUT_MS = 72_000;

export function hstsHeader(maxAgeSeconds: number): string | undefined {
  return maxAgeSeconds > 0 ? `max-age=${maxAgeSeconds}; includeSubDomains` : undefined;
}

/** A plain HTTP server without `files`; an HTTPS one serving them (and HSTS, unless its max-age is 0). */
export function createGatewayServer(
  tls: { config: TlsConfig; files: TlsFiles } | undefined,
  handler: Handler,
): HttpServer {
  if (tls === undefined) return createHttpServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS }, handler);
  const hsts = hstsHeader(tls.config.hstsMaxAgeSeconds);
  const withHsts: Handler =
    hsts === undefined
      ? handler
      : (req, res) => {
          res.setHeader('strict-transport-security', hsts);
          handler(req, res);
        };
  // https.Server is a tls.Server, not an http.Server, but it serves the same request events; the
  // cast gives Fastify's serverFactory the type it asks for.
  return createHttpsServer(
    { keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS, cert: tls.files.cert, key: tls.files.key },
    withHsts,
  ) as unknown as HttpServer;
}

export function isHttps(server: unknown): server is HttpsServer {
  return server instanceof HttpsServer;
}

/**
 * On reload: the new configuration's certificate and key, read, checked and swapped in; undefined
 * when the server is plain HTTP and stays so. Turning TLS on or off needs a restart (a listening
 * socket cannot change protocol), so that is refused and the previous configuration stays.
 */
export function reloadCertificate(server: unknown, tls: TlsConfig | undefined): TlsFiles | undefined {
  if (!isHttps(server)) {
    if (tls === undefined) return undefined;
    throw new StartupError(
      'TLS_CERT_FILE and TLS_KEY_FILE were set by a reload; restart the gateway to serve HTTPS.',
    );
  }
  if (tls === undefined) {
    throw new StartupError(
      'TLS_CERT_FILE and TLS_KEY_FILE were removed by a reload; restart the gateway to serve plain HTTP.',
    );
  }
  const files = readTlsFiles(tls);
  server.setSecureContext({ cert: files.cert, key: files.key });
  return files;
}
