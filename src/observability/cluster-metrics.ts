// One scrape for the whole server under `serve --workers N`: whichever worker gets GET /metrics
// asks the primary, which gathers every worker's registry with prom-client's AggregatorRegistry
// (counters and histograms summed; gauges as each declares) and adds its own (the log store's
// ingest runs there), then answers that worker. Messages go over the cluster's IPC channel.
import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

const REQUEST = 'ai-proxy:metrics-request';
const RESPONSE = 'ai-proxy:metrics-response';
/** prom-client gives up on a worker after 5 s; the asking worker waits a little longer. */
const WAIT_MS = 6_000;

interface MetricsRequest {
  type: typeof REQUEST;
  id: number;
}

interface MetricsResponse {
  type: typeof RESPONSE;
  id: number;
  text?: string;
  error?: string;
}

function isMessage<T extends { type: string }>(message: unknown, type: T['type']): message is T {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}

let joined = false;

/** In a worker: answer the primary's requests for this registry (prom-client's listener). */
export function joinCluster(registry: Registry): void {
  if (!cluster.isWorker) return;
  AggregatorRegistry.setRegistries([registry]);
  if (joined) return;
  joined = true;
  // Constructing one installs prom-client's worker listener.
  new AggregatorRegistry();
}

let nextId = 0;
const waiting = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();
let listening = false;

/** In a worker: the whole server's metrics text, from the primary. */
export function clusterMetricsText(): Promise<string> {
  if (!listening) {
    listening = true;
    process.on('message', (message: unknown) => {
      if (!isMessage<MetricsResponse>(message, RESPONSE)) return;
      const request = waiting.get(message.id);
      if (request === undefined) return;
      waiting.delete(message.id);
      if (message.text !== undefined) request.resolve(message.text);
      else request.reject(new Error(message.error ?? 'the primary sent no metrics'));
    });
  }
  const id = ++nextId;
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error('the cluster primary did not answer for the metrics in time'));
    }, WAIT_MS);
    waiting.set(id, {
      resolve: (text) => {
        clearTimeout(timer);
        resolve(text);
      },
      reject: (error) => {
        clearTimeout(timer);
        reject(error);
      },
    });
    process.send?.({ type: REQUEST, id } satisfies MetricsRequest);
  });
}

/** In the primary: answer workers' requests with every worker's metrics and the primary's own. */
export function serveClusterMetrics(own: Registry): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: unknown) => {
    if (!isMessage<MetricsRequest>(message, REQUEST)) return;
    const answer = (response: Omit<MetricsResponse, 'type' | 'id'>) => {
      if (worker.isConnected())
        worker.send({ type: RESPONSE, id: message.id, ...response } satisfies MetricsResponse);
    };
    Promise.all([aggregator.clusterMetrics(), own.metrics()])
      .then(([workers, primary]) =>
        answer({ text: primary.trim() === '' ? workers : `${workers.trimEnd()}\n\n${primary}` }),
      )
      .catch((error: unknown) => answer({ error: error instanceof Error ? error.message : String(error) }));
  });
}
