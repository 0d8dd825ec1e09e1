// The container's HEALTHCHECK: GET /health on the gateway's own port, over HTTPS when native TLS is
// on (TLS_CERT_FILE; the certificate is not checked, the name would not match 127.0.0.1 anyway).
// Exit 0 when it answers 200 within the timeout, 1 otherwise. Plain node, no dependency.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

const port = Number(process.env.PORT ?? 8123);
const tls = (process.env.TLS_CERT_FILE ?? '').trim() !== '';
const send = tls ? httpsRequest : httpRequest;
const req = send(
  { host: '127.0.0.1', port, path: '/health', method: 'GET', timeout: 4000, rejectUnauthorized: false },
  (res) => {
    res.resume();
    process.exitCode = res.statusCode === 200 ? 0 : 1;
    if (res.statusCode !== 200) process.stderr.write(`/health answered ${res.statusCode}\n`);
  },
);
req.on('timeout', () => req.destroy(new Error('no answer within 4 s')));
req.on('error', (error) => {
  process.stderr.write(`/health: ${error.message}\n`);
  process.exitCode = 1;
});
req.end();
