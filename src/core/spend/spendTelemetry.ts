import type { Logger } from '../log/logger';
import { OtlpExporter, type OtlpExporterOptions } from './otlpExporter';
import type { SettleLine } from './spendRecord';
import type { SpendSource } from './spendSource';

/**
 * Where settled requests come from. The ledger is shared by every window, so `settled()` also
 * holds other windows' requests; a source that can tell which requests settled in this process
 * offers `onDidSettleLocally`, and only those are exported (otherwise every window would export
 * every window's requests).
 */
export type SettleFeed = Pick<SpendSource, 'settled' | 'onDidChange'> & {
  /** Calls `listener` with each request this process settles; returns the unsubscribe function. */
  onDidSettleLocally?(listener: (line: SettleLine) => void): () => void;
};

export interface SpendTelemetryOptions {
  source: SettleFeed;
  logger: Logger;
  serviceVersion: string;
  /** The collector's bearer token, from the host's secret storage. */
  token?: () => PromiseLike<string | undefined>;
  now?: () => number;
  /** Batching and timeouts of the exporter (defaults: 5 s or 50 spans, 5 s per POST). */
  exporter?: Partial<Pick<OtlpExporterOptions, 'flushIntervalMs' | 'maxBatch' | 'maxQueue' | 'timeoutMs' | 'retryDelayMs' | 'metrics'>>;
}

/**
 * The OpenTelemetry export of a spend ledger: an `OtlpExporter` for as long as an endpoint is
 * configured, fed the requests that settle from then on (never the history before it).
 */
export class SpendTelemetry {
  private exporter: OtlpExporter | undefined;
  private endpoint = '';
  /** Requests settled before the export started are history, not news. */
  private since: number;
  private readonly seen = new Set<string>();
  private readonly unsubscribe: () => void;
  private readonly now: () => number;

  constructor(private readonly options: SpendTelemetryOptions) {
    this.now = options.now ?? Date.now;
    this.since = this.now();
    const { source } = options;
    if (source.onDidSettleLocally) {
      this.unsubscribe = source.onDidSettleLocally((line) => this.exporter?.record(line));
    } else {
      for (const line of source.settled()) this.seen.add(line.requestId);
      this.unsubscribe = source.onDidChange(() => this.onLedgerChange());
    }
  }

  /** True while an endpoint is set. */
  get active(): boolean {
    return this.exporter !== undefined;
  }

  /**
   * Starts, stops or redirects the export: `''` is off. Whatever the previous collector had not
   * taken yet is dropped, not sent to the new one.
   */
  configure(endpoint: string): void {
    if (endpoint === this.endpoint) return;
    this.exporter?.dispose();
    this.exporter = undefined;
    this.endpoint = endpoint;
    if (!endpoint) {
      this.options.logger.info('telemetry: OpenTelemetry export off');
      return;
    }
    try {
      this.exporter = new OtlpExporter({
        ...this.options.exporter,
        endpoint,
        serviceVersion: this.options.serviceVersion,
        logger: this.options.logger,
        token: this.options.token,
        now: this.now,
      });
    } catch (error) {
      this.options.logger.warn(`telemetry: cannot export to ${endpoint}: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    this.since = this.now();
    this.options.logger.info(`telemetry: exporting spend to ${endpoint} (one span per request, cost and token metrics; no prompts, code or paths)`);
  }

  /** Sends what waits now (tests, scripts). Never rejects. */
  flush(): Promise<void> {
    return this.exporter?.flush() ?? Promise.resolve();
  }

  /**
   * Without `onDidSettleLocally`: the ledger is append-only, oldest first, so what is new is at
   * its end, back to the first request already seen. A ledger that loads after this started
   * reports its history here too; `since` keeps that out.
   */
  private onLedgerChange(): void {
    const settled = this.options.source.settled();
    const fresh: SettleLine[] = [];
    for (let i = settled.length - 1; i >= 0; i--) {
      const line = settled[i];
      if (this.seen.has(line.requestId)) break;
      this.seen.add(line.requestId);
      if (line.at >= this.since) fresh.push(line);
    }
    if (!this.exporter) return;
    for (let i = fresh.length - 1; i >= 0; i--) this.exporter.record(fresh[i]);
  }

  /** Stops listening, sends what waits (one last batch, within the POST timeout), then stops. */
  async dispose(): Promise<void> {
    this.unsubscribe();
    const exporter = this.exporter;
    this.exporter = undefined;
    await exporter?.shutdown();
  }
}
