import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { anthropicProtocol } from './anthropic-protocol.js';
import { cohereEmbedProtocol } from './cohere-embed-protocol.js';
import { cohereProtocol } from './cohere-protocol.js';
import { deliver, sleep } from './delivery.js';
import { geminiProtocol } from './gemini-protocol.js';
import { imagesProtocol } from './images-protocol.js';
import { writeLarge } from './large-body.js';
import { isModelListRequest, modelListProtocol } from './model-lists.js';
import { openAiProtocol } from './openai-protocol.js';
import { type AnswerContext, isRecord, type Protocol, type RouteHandler } from './protocol.js';
import { responsesProtocol } from './responses-protocol.js';
import { ResponsesLedger } from './responses-store.js';
import type { Behaviour, ChatBehaviour, RecordedRequest } from './types.js';

/** One request in flight: what the core needs to answer, stall, cut or count it. */
interface Exchange {
  res: ServerResponse;
  socket: Socket;
  /** Aborts when the response closes for any reason, cancelling pending sleeps and writes. */
  closed: AbortController;
  /** Set when the emulator ends the exchange on purpose, so it is not counted as a client abort. */
  settled: boolean;
}

interface Waiter {
  count: number;
  resolve: (requests: RecordedRequest[]) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const PLAIN_CHAT: ChatBehaviour = { kind: 'chat' };

/** Protocols in match order; the first also shapes 404s for unknown paths. */
const PROTOCOLS: readonly Protocol[] = [
  openAiProtocol,
  anthropicProtocol,
  geminiProtocol,
  cohereProtocol,
  cohereEmbedProtocol,
  imagesProtocol,
];

function findRoute(
  protocols: readonly Protocol[],
  method: string,
  pathname: string,
): { protocol: Protocol; handler: RouteHandler } | undefined {
  for (const protocol of protocols) {
    const handler = protocol.route(method, pathname);
    if (handler !== undefined) return { protocol, handler };
  }
  return undefined;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(rawBody: string): unknown {
  if (rawBody === '') return '';
  try {
    return JSON.parse(rawBody) as unknown;
  } catch {
    return rawBody;
  }
}

function recordOf(req: IncomingMessage, rawBody: string): RecordedRequest {
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (values !== undefined) headers[name] = values.join(', ');
  }
  return {
    method: req.method ?? 'GET',
    path: req.url ?? '/',
    headers,
    body: parseBody(rawBody),
    rawBody,
    receivedAt: Date.now(),
  };
}

/**
 * A real HTTP server on loopback that answers as an LLM provider does and records what it got.
 * Tests script it with behaviours (queue, default, or a callback) to provoke errors, stalls and
 * broken streams that a mock of our own modules could never reproduce faithfully.
 */
export class ProviderEmulator {
  readonly url: string;
  readonly requests: RecordedRequest[] = [];
  /** Model list fetches (GET …/models, …/api/tags), kept apart so they never shift `requests`. */
  readonly listRequests: RecordedRequest[] = [];
  /** Requests whose client connection closed before the emulator finished answering. */
  abortedCount = 0;
  /** The Responses API's state: stored responses per key, and what each turn saw. */
  readonly responses = new ResponsesLedger();

  private readonly server: Server;
  private readonly queue: Behaviour[] = [];
  private fallback: Behaviour = PLAIN_CHAT;
  private override: ((req: RecordedRequest) => Behaviour | undefined) | undefined;
  private readonly counters = new Map<string, number>();
  private readonly waiters = new Set<Waiter>();
  private readonly sockets = new Set<Socket>();
  private readonly exchanges = new Set<Exchange>();
  private closing: Promise<void> | undefined;
  private listIds: readonly string[] | undefined;
  private listBehaviour: ((req: RecordedRequest) => Behaviour | undefined) | undefined;
  private readonly listProtocol = modelListProtocol(() => this.listIds);
  /** The stateless protocols plus this emulator's own Responses API. */
  private readonly protocols: readonly Protocol[] = [...PROTOCOLS, responsesProtocol(this.responses)];

  private constructor(server: Server, url: string) {
    this.server = server;
    this.url = url;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      void this.handle(req, res);
    });
  }

  static async start(options: { host?: string } = {}): Promise<ProviderEmulator> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === 'string')
      throw new Error('emulator: unexpected listen address');
    const host = address.address.includes(':') ? `[${address.address}]` : address.address;
    return new ProviderEmulator(server, `http://${host}:${address.port}`);
  }

  /** FIFO: the next scripted (POST) requests get these, in order. */
  enqueue(...behaviours: Behaviour[]): void {
    this.queue.push(...behaviours);
  }

  /** Used when the queue is empty. */
  setDefault(behaviour: Behaviour): void {
    this.fallback = behaviour;
  }

  /** The ids every model list endpoint answers with (undefined: each provider's defaults). */
  setModelList(ids: readonly string[] | undefined): void {
    this.listIds = ids;
  }

  /**
   * Model list endpoints answer with this (an error, a stall, a reset), or with what the function
   * returns for each request (undefined: the list); undefined lists again.
   */
  failModelList(behaviour: Behaviour | ((req: RecordedRequest) => Behaviour | undefined) | undefined): void {
    this.listBehaviour = typeof behaviour === 'object' ? () => behaviour : behaviour;
  }

  /** Dynamic override, consulted before the queue; return undefined to fall back. */
  onRequest(fn: (req: RecordedRequest) => Behaviour | undefined): void {
    this.override = fn;
  }

  waitForRequests(count: number, timeoutMs = 5000): Promise<RecordedRequest[]> {
    if (this.requests.length >= count) return Promise.resolve([...this.requests]);
    if (this.closing !== undefined) return Promise.reject(new Error('emulator: closed'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        count,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(
            new Error(
              `emulator: wanted ${count} requests, got ${this.requests.length} within ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /**
   * Back to a fresh state. Requests still in flight (e.g. stalled by an earlier test) are ended
   * too, so their late disconnects cannot leak into the next test's abortedCount.
   */
  reset(): void {
    this.queue.length = 0;
    // Emptied in place: tests may hold a reference to `requests`.
    this.requests.length = 0;
    this.listRequests.length = 0;
    this.listIds = undefined;
    this.listBehaviour = undefined;
    this.fallback = PLAIN_CHAT;
    this.override = undefined;
    this.abortedCount = 0;
    this.counters.clear();
    this.responses.clear();
    for (const exchange of this.exchanges) {
      exchange.settled = true;
      exchange.socket.destroy();
    }
  }

  /** Stops listening and destroys every socket, stalled ones too, so it never hangs. */
  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      for (const waiter of this.waiters) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error('emulator: closed'));
      }
      this.waiters.clear();
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
    return this.closing;
  }

  private next(counter: string): number {
    const value = (this.counters.get(counter) ?? 0) + 1;
    this.counters.set(counter, value);
    return value;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const exchange: Exchange = { res, socket: req.socket, closed: new AbortController(), settled: false };
    this.exchanges.add(exchange);
    res.once('close', () => {
      if (!exchange.settled && !res.writableFinished && this.closing === undefined) this.abortedCount++;
      this.exchanges.delete(exchange);
      exchange.closed.abort();
    });

    let rawBody: string;
    try {
      rawBody = await readBody(req);
    } catch {
      return; // The client went away mid-body; the close handler has counted it.
    }
    if (exchange.closed.signal.aborted) return;

    const recorded = recordOf(req, rawBody);
    if (isModelListRequest(recorded.method, recorded.path.split('?')[0] ?? '')) {
      // A gateway fetches lists on its own schedule; a test's request counts must not see them.
      exchange.settled = true;
      this.listRequests.push(recorded);
    } else {
      this.requests.push(recorded);
      this.notifyWaiters();
    }

    try {
      await this.answer(exchange, recorded);
    } catch (error) {
      this.fail(exchange, error);
    }
  }

  private notifyWaiters(): void {
    for (const waiter of this.waiters) {
      if (this.requests.length < waiter.count) continue;
      clearTimeout(waiter.timer);
      this.waiters.delete(waiter);
      waiter.resolve([...this.requests]);
    }
  }

  private pickBehaviour(recorded: RecordedRequest): Behaviour {
    return this.override?.(recorded) ?? this.queue.shift() ?? this.fallback;
  }

  private async answer(exchange: Exchange, recorded: RecordedRequest): Promise<void> {
    const { res, closed } = exchange;
    const pathname = recorded.path.split('?')[0] ?? recorded.path;
    const listHandler = this.listProtocol.route(recorded.method, pathname);
    const isList = listHandler !== undefined;
    const route = isList
      ? { protocol: this.listProtocol, handler: listHandler }
      : findRoute(this.protocols, recorded.method, pathname);
    if (route === undefined) {
      const body = PROTOCOLS[0]?.errorBody(404, `emulator: no endpoint for ${recorded.method} ${pathname}`);
      await deliver(res, { type: 'json', status: 404, headers: {}, body }, {}, closed.signal);
      return;
    }
    // Only POSTs are scripted: listing models must keep working while chat calls fail.
    // Model lists fail only when a test says so (failModelList).
    const behaviour =
      recorded.method === 'POST'
        ? this.pickBehaviour(recorded)
        : isList
          ? (this.listBehaviour?.(recorded) ?? PLAIN_CHAT)
          : PLAIN_CHAT;
    const context = (chat: ChatBehaviour): AnswerContext => ({ behaviour: chat, next: (c) => this.next(c) });

    switch (behaviour.kind) {
      case 'chat': {
        const reply = route.handler(recorded, context(behaviour));
        if (reply.type === 'sse') {
          const drop = behaviour.dropLastEvents ?? 0;
          if (drop > 0) reply.events = reply.events.slice(0, Math.max(0, reply.events.length - drop));
          if (behaviour.appendRaw !== undefined) reply.events.push(behaviour.appendRaw);
        }
        await sleepThenDeliver(exchange, behaviour.delayMs, async () => {
          await deliver(res, reply, behaviour, closed.signal);
        });
        return;
      }
      case 'error': {
        const body =
          behaviour.body ??
          route.protocol.errorBody(behaviour.status, `emulator: scripted HTTP ${behaviour.status} error`);
        await sleepThenDeliver(exchange, behaviour.delayMs, async () => {
          if (typeof body === 'string') {
            res.writeHead(behaviour.status, {
              'content-type': 'text/plain; charset=utf-8',
              ...behaviour.headers,
            });
            res.end(body);
            return;
          }
          const reply = {
            type: 'json',
            status: behaviour.status,
            headers: behaviour.headers ?? {},
            body,
          } as const;
          await deliver(res, reply, {}, closed.signal);
        });
        return;
      }
      case 'stall':
        return; // Left open on purpose; the client's abort or close() ends it.
      case 'stall-stream':
      case 'cut-stream': {
        const reply = route.handler(recorded, context(PLAIN_CHAT));
        const mode = behaviour.kind === 'cut-stream' ? 'cut' : 'stall';
        const interrupt = { mode, afterChunks: behaviour.afterChunks ?? 1 } as const;
        const outcome = await deliver(res, reply, { interrupt }, closed.signal);
        if (outcome === 'interrupted' && mode === 'cut') this.cut(exchange);
        return;
      }
      case 'reset':
        exchange.settled = true;
        exchange.socket.resetAndDestroy();
        return;
      case 'raw':
        res.writeHead(behaviour.status, behaviour.headers);
        if (behaviour.chunks === undefined) {
          res.end(behaviour.body);
          return;
        }
        res.write(behaviour.body);
        for (const chunk of behaviour.chunks) {
          await sleep(behaviour.chunkDelayMs ?? 20, closed.signal);
          if (closed.signal.aborted) return;
          res.write(chunk);
        }
        res.end();
        return;
      case 'large': {
        const body = isRecord(recorded.body) ? recorded.body : {};
        const model = typeof body.model === 'string' ? body.model : 'unknown';
        await writeLarge(res, behaviour, model, closed.signal);
        return;
      }
    }
  }

  private cut(exchange: Exchange): void {
    exchange.settled = true;
    exchange.socket.destroy();
  }

  /** A bug in a test's script (e.g. onRequest threw) surfaces as a 500 rather than a hang. */
  private fail(exchange: Exchange, error: unknown): void {
    const { res } = exchange;
    if (res.headersSent || res.destroyed) {
      this.cut(exchange);
      return;
    }
    const message = `emulator: ${error instanceof Error ? error.message : String(error)}`;
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify(PROTOCOLS[0]?.errorBody(500, message)));
  }
}

/** Waits the scripted delay, then writes unless the client left (or the emulator closed) meanwhile. */
async function sleepThenDeliver(
  exchange: Exchange,
  delayMs: number | undefined,
  write: () => Promise<void>,
): Promise<void> {
  await sleep(delayMs, exchange.closed.signal);
  if (!exchange.closed.signal.aborted) await write();
}
