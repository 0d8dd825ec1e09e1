// A model catalog host as seed 001 describes one: GET on the list path answers the scripted
// `{"models": [...]}` document; every other request is a model call at a handle, which it checks
// for `Authorization: OAuth <token>` and forwards to a provider emulator (with the token as a
// Bearer key, as a catalog host calls the provider behind it). Both kinds are recorded as received.
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface CatalogEntryJson {
  model_version?: unknown;
  model_family?: unknown;
  handle?: unknown;
  prompt_price_1k?: unknown;
  completion_price_1k?: unknown;
}

export interface SeenRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  receivedAt: number;
}

/** How the list path answers: the document, an HTTP error, a dropped connection or no answer. */
export type ListBehaviour =
  | { kind: 'document'; body: unknown }
  | { kind: 'status'; status: number }
  | { kind: 'reset' }
  | { kind: 'stall' };

export interface CatalogServerOptions {
  /** The provider emulator model calls are forwarded to. */
  upstream: string;
  /** Required on every request when set; without it any Authorization is accepted. */
  token?: string;
  listPath?: string;
  models?: CatalogEntryJson[];
}

export class CatalogServer {
  readonly url: string;
  readonly listUrl: string;
  /** GETs of the list path. */
  readonly listFetches: SeenRequest[] = [];
  /** Model calls, as the gateway sent them (before forwarding). */
  readonly calls: SeenRequest[] = [];
  private behaviour: ListBehaviour;
  private readonly sockets = new Set<Socket>();
  private readonly fetchWaiters: { count: number; resolve: () => void }[] = [];

  private constructor(
    private readonly server: Server,
    origin: string,
    private readonly options: CatalogServerOptions,
  ) {
    this.url = origin;
    this.listUrl = origin + (options.listPath ?? '/models');
    this.behaviour = { kind: 'document', body: { models: options.models ?? [] } };
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.handle(req, res));
  }

  static async start(options: CatalogServerOptions): Promise<CatalogServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('catalog: unexpected address');
    return new CatalogServer(server, `http://127.0.0.1:${address.port}`, options);
  }

  setModels(models: CatalogEntryJson[]): void {
    this.behaviour = { kind: 'document', body: { models } };
  }

  setList(behaviour: ListBehaviour): void {
    this.behaviour = behaviour;
  }

  /** Resolves once the list has been fetched `count` times in all. */
  waitForFetches(count: number, timeoutMs = 5_000): Promise<void> {
    if (this.listFetches.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`catalog: wanted ${count} list fetches, got ${this.listFetches.length}`)),
        timeoutMs,
      );
      this.fetchWaiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const seen: SeenRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: { ...req.headers },
      receivedAt: Date.now(),
    };
    const pathname = seen.path.split('?')[0];
    const token = this.options.token;
    const authorized = token === undefined || req.headers.authorization === `OAuth ${token}`;
    if (seen.method === 'GET' && pathname === (this.options.listPath ?? '/models')) {
      this.listFetches.push(seen);
      for (const waiter of [...this.fetchWaiters]) {
        if (this.listFetches.length >= waiter.count) {
          this.fetchWaiters.splice(this.fetchWaiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
      if (authorized) this.answerList(req, res);
      else json(res, 401, { error: 'missing or wrong OAuth token' });
      return;
    }
    this.calls.push(seen);
    if (authorized) {
      this.forward(req, res);
      return;
    }
    req.resume();
    json(res, 401, { error: { message: 'catalog: missing or wrong OAuth token', type: 'auth' } });
  }

  private answerList(req: IncomingMessage, res: ServerResponse): void {
    const behaviour = this.behaviour;
    switch (behaviour.kind) {
      case 'document':
        json(res, 200, behaviour.body);
        return;
      case 'status':
        json(res, behaviour.status, { error: `catalog: scripted HTTP ${behaviour.status}` });
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'stall':
        return;
    }
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const target = new URL(req.url ?? '/', this.options.upstream);
    const headers = { ...req.headers, host: target.host };
    if (this.options.token !== undefined) headers.authorization = `Bearer ${this.options.token}`;
    const upstream = request(target, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
