// Reads and checks the certificate and private key of native TLS, at start and on every reload, so
// a missing, unreadable or mismatched file is refused with a message that names the file and what
// is wrong, never with a bare OpenSSL code, and a bad renewal never replaces a good certificate.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { TlsConfig } from '../config/types.js';
import { StartupError } from './exposure.js';

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
  /** For the process log: which certificate is being served. */
  subject: string;
  validTo: string;
  fingerprint256: string;
}

function whoAmI(): string {
  return typeof process.getuid === 'function' ? ` (the gateway runs as uid ${process.getuid()})` : '';
}

function readPem(path: string, variable: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES' || code === 'EPERM'
          ? `permission denied${whoAmI()}; make the file readable by that user`
          : code === 'EISDIR'
            ? 'it is a directory, not a file'
            : (error as Error).message;
    throw new StartupError(`${variable} ${path}: cannot read it: ${why}.`);
  }
}

function openSslReason(error: unknown): string {
  return (error as Error).message.replace(/^error:[0-9A-F]+:/, '');
}

/** The certificate and key named by `tls`, read and checked as a pair; throws StartupError. */
export function readTlsFiles(tls: TlsConfig): TlsFiles {
  const cert = readPem(tls.certFile, 'TLS_CERT_FILE');
  const key = readPem(tls.keyFile, 'TLS_KEY_FILE');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (error) {
    throw new StartupError(
      `TLS_CERT_FILE ${tls.certFile}: not a PEM certificate (${openSslReason(error)}); it should begin with -----BEGIN CERTIFICATE-----.`,
    );
  }
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    const reason = openSslReason(error);
    throw new StartupError(
      /mismatch/i.test(reason)
        ? `TLS_KEY_FILE ${tls.keyFile} is not the private key of the certificate in TLS_CERT_FILE ${tls.certFile}.`
        : `TLS_KEY_FILE ${tls.keyFile}: not a usable PEM private key (${reason}); it should begin with -----BEGIN PRIVATE KEY----- (or RSA/EC PRIVATE KEY) and have no passphrase.`,
    );
  }
  return { cert, key, subject: x509.subject, validTo: x509.validTo, fingerprint256: x509.fingerprint256 };
}
