// Native TLS settings: TLS_CERT_FILE and TLS_KEY_FILE (or tls_cert_file / tls_key_file in the config
// file) turn HTTPS on; both or neither. HSTS_MAX_AGE / hsts_max_age sets Strict-Transport-Security
// (default one year, 0 for none). Paths are relative to the working directory; the files themselves
// are read by server/tls-files.ts at start and on every SIGHUP.
import { resolve } from 'node:path';
import { ConfigError, type Env, envInt, envString } from './env-values.js';
import type { FileConfig } from './file-schema.js';
import type { TlsConfig } from './types.js';

export const DEFAULT_HSTS_MAX_AGE = 31_536_000;
/** Two years: the longest max-age the HSTS preload list asks for. */
const MAX_HSTS_MAX_AGE = 63_072_000;

export function readTlsConfig(
  env: Env,
  file: FileConfig,
  cwd: string,
  fileName: string,
): TlsConfig | undefined {
  const certFile = envString(env, 'TLS_CERT_FILE') ?? file.tls_cert_file;
  const keyFile = envString(env, 'TLS_KEY_FILE') ?? file.tls_key_file;
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    const missing = certFile === undefined ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE';
    const given = certFile === undefined ? 'TLS_KEY_FILE' : 'TLS_CERT_FILE';
    throw new ConfigError(
      `${given} is set but ${missing} is not (${fileName}: ${missing.toLowerCase()}); HTTPS needs both the certificate and its private key, or neither for plain HTTP.`,
    );
  }
  return {
    certFile: resolve(cwd, certFile),
    keyFile: resolve(cwd, keyFile),
    hstsMaxAgeSeconds:
      envInt(env, 'HSTS_MAX_AGE', 0, MAX_HSTS_MAX_AGE) ?? file.hsts_max_age ?? DEFAULT_HSTS_MAX_AGE,
  };
}
