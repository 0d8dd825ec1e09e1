// Certificates for the TLS tests, made with the openssl command line as an operator would: a
// self-signed certificate for localhost, or a private CA and a server certificate it signed.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export interface CertificatePair {
  cert: string;
  key: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

const SAN = 'subjectAltName=DNS:localhost,IP:127.0.0.1';

/** A self-signed certificate for localhost and 127.0.0.1, written as NAME.crt and NAME.key in `dir`. */
export function selfSigned(dir: string, name = 'server', days = 2): CertificatePair {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      String(days),
    ].concat(['-subj', `/CN=localhost/O=${name}`, '-addext', SAN]),
    dir,
  );
  return { cert, key };
}

/** A private CA (ca.crt) and a localhost certificate it signed (server.crt, server.key) in `dir`. */
export function caSigned(dir: string): CertificatePair & { ca: string } {
  const ca = selfSigned(dir, 'ca', 2);
  const key = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const cert = join(dir, 'server.crt');
  const ext = join(dir, 'server.ext');
  openssl(
    ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=localhost'],
    dir,
  );
  execFileSync('sh', ['-c', `printf '%s\\n' '${SAN}' > '${ext}'`]);
  openssl(
    ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert].concat([
      '-days',
      '2',
      '-extfile',
      ext,
    ]),
    dir,
  );
  return { ca: ca.cert, cert, key };
}
