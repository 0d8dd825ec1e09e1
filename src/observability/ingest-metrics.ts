// The log store's ingest for /metrics: passes, rows taken in, and the lag (seconds since the last
// finished pass; the newest records wait at most about that long to be searchable). Fed by the
// ingest's onRun; it lives where the ingest runs (the gateway, or the cluster's primary).
import type { Registry } from 'prom-client';
import type { PassSummary } from '../logstore/ingest-loop.js';
import { ScrapedGauge } from './series.js';

export class IngestMetrics {
  private passes = 0;
  private rows = 0;
  private lastPassAt: number;

  constructor(
    registry: Registry,
    private readonly now: () => number = Date.now,
  ) {
    this.lastPassAt = now();
    new ScrapedGauge(
      'ai_proxy_logstore_ingest_lag_seconds',
      'Seconds since the log store last finished an ingest pass (since start, before the first).',
      () => [{ value: Math.max(0, (now() - this.lastPassAt) / 1000), labels: {} }],
      'max',
      registry,
    );
    const counter = (name: string, help: string, read: () => number) =>
      registry.registerMetric({
        name,
        get: async () => ({
          name,
          help,
          type: 'counter',
          values: [{ value: read(), labels: {} }],
          aggregator: 'sum',
        }),
      } as unknown as Parameters<Registry['registerMetric']>[0]);
    counter(
      'ai_proxy_logstore_ingest_passes_total',
      'Ingest passes the log store finished.',
      () => this.passes,
    );
    counter(
      'ai_proxy_logstore_ingested_rows_total',
      'Request records the log store took in.',
      () => this.rows,
    );
    this.onRun = this.onRun.bind(this);
  }

  onRun(summary: PassSummary): void {
    this.passes += 1;
    this.rows += summary.inserted;
    this.lastPassAt = this.now();
  }
}
