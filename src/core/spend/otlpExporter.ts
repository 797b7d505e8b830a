import { randomUUID } from 'node:crypto';
import type { Logger } from '../log/logger';
import { otlpTracesBody, SpendMetrics, type OtlpServiceInfo } from './otlpExport';
import type { SettleLine } from './spendRecord';

export interface OtlpExporterOptions extends OtlpServiceInfo {
  /** The collector's base URL (`http://localhost:4318`); `/v1/traces` and `/v1/metrics` are appended. */
  endpoint: string;
  logger: Logger;
  /** The collector's bearer token, read before each send (it lives in the host's secret storage); none when undefined. */
  token?: () => PromiseLike<string | undefined>;
  /** Send what has waited this long (default 5 s)… */
  flushIntervalMs?: number;
  /** …or as soon as this many spans wait (default 50). */
  maxBatch?: number;
  /** Spans kept while the collector is slow; the oldest are dropped beyond it (default 1000). */
  maxQueue?: number;
  /** One POST, answer included (default 5 s). */
  timeoutMs?: number;
  /** Before the one retry (default 1 s). */
  retryDelayMs?: number;
  /** Also send `/v1/metrics` (default true). */
  metrics?: boolean;
  now?: () => number;
}

type Signal = 'traces' | 'metrics';

interface PostResult {
  ok: boolean;
  /** Worth one more try: the network, a timeout, 429 or 502/503/504 (as OTLP/HTTP says). */
  retryable: boolean;
  reason: string;
}

/** `/v1/<signal>` under the endpoint's path; an endpoint that already names a signal path is taken as its base. */
export function otlpSignalUrl(endpoint: string, signal: Signal): string {
  const url = new URL(endpoint);
  const base = url.pathname.replace(/\/+$/, '').replace(/\/v1\/(traces|metrics|logs)$/, '');
  url.pathname = `${base}/v1/${signal}`;
  return url.toString();
}

/** A bearer token travels encrypted, or not off this machine: never in clear text across a network. */
export function mayCarryToken(url: URL): boolean {
  if (url.protocol === 'https:') return true;
  return url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
}

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

function message(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}

/**
 * Sends settled requests to an OpenTelemetry collector, off the request path: `record` only
 * queues, batches go out every few seconds or when full, one at a time, each POST with a timeout
 * and without following redirects (a redirect could carry the token elsewhere). A batch that fails
 * twice is dropped with a log line; nothing here throws or rejects into its caller.
 */
export class OtlpExporter {
  private readonly queue: SettleLine[] = [];
  private readonly metrics: SpendMetrics | undefined;
  /** The totals changed since they were last delivered. */
  private metricsDirty = false;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private readonly aborts = new Set<AbortController>();
  private stopped = false;
  private warnedPlainToken = false;
  private readonly now: () => number;
  private readonly flushIntervalMs: number;
  private readonly maxBatch: number;
  private readonly maxQueue: number;
  private readonly timeoutMs: number;
  private readonly retryDelayMs: number;
  private readonly service: OtlpServiceInfo;

  constructor(private readonly options: OtlpExporterOptions) {
    this.service = { serviceVersion: options.serviceVersion, serviceInstanceId: options.serviceInstanceId ?? randomUUID() };
    this.now = options.now ?? Date.now;
    this.flushIntervalMs = options.flushIntervalMs ?? 5000;
    this.maxBatch = Math.max(1, options.maxBatch ?? 50);
    this.maxQueue = Math.max(this.maxBatch, options.maxQueue ?? 1000);
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.retryDelayMs = options.retryDelayMs ?? 1000;
    this.metrics = options.metrics === false ? undefined : new SpendMetrics(this.now());
    // Fails here, not at the first send, when the endpoint is not a URL.
    otlpSignalUrl(options.endpoint, 'traces');
  }

  /** Queues one settled request. Returns at once; never throws. */
  record(line: SettleLine): void {
    if (this.stopped) return;
    try {
      this.metrics?.record(line);
      this.metricsDirty = this.metrics !== undefined;
      this.queue.push(line);
      if (this.queue.length > this.maxQueue) {
        const dropped = this.queue.splice(0, this.queue.length - this.maxQueue).length;
        this.options.logger.warn(`telemetry: the collector is behind; dropped the ${dropped} oldest span(s)`);
      }
      // A send in progress takes the full batch when it is done with the one it holds.
      if (this.queue.length >= this.maxBatch && !this.inFlight) void this.flush();
      else this.schedule();
    } catch (error) {
      this.options.logger.error(`telemetry: could not queue a span: ${message(error)}`);
    }
  }

  /** Sends everything queued now. Resolves when it was delivered or dropped; never rejects. */
  async flush(): Promise<void> {
    this.clearTimer();
    while (this.inFlight) await this.inFlight;
    if (this.stopped || (this.queue.length === 0 && !this.metricsDirty)) return;
    this.inFlight = this.drain().finally(() => (this.inFlight = undefined));
    await this.inFlight;
    if (this.queue.length > 0) this.schedule();
  }

  /** Sends what is queued, then stops (the extension is closing). */
  async shutdown(): Promise<void> {
    await this.flush();
    this.dispose();
  }

  /** Stops at once: what is queued is dropped and a send in progress is aborted (the setting was cleared or changed). */
  dispose(): void {
    this.stopped = true;
    this.clearTimer();
    this.queue.length = 0;
    this.aborts.forEach((abort) => abort.abort(new Error('the exporter stopped')));
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.flushIntervalMs);
    // Never keeps a process (the CLI, a test run) alive on its own.
    this.timer.unref?.();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped && this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        await this.send('traces', otlpTracesBody(batch, this.service), `${batch.length} span(s)`);
      }
      if (!this.stopped && this.metrics && this.metricsDirty) {
        this.metricsDirty = false;
        // Cumulative totals: a failed send is made good by the next one, so it only marks them unsent.
        if (!(await this.send('metrics', this.metrics.body(this.now(), this.service), 'the spend metrics'))) this.metricsDirty = true;
      }
    } catch (error) {
      this.options.logger.error(`telemetry: export failed: ${message(error)}`);
    }
  }

  /** POSTs one body, retrying once when that can help. True when the collector took it. */
  private async send(signal: Signal, body: unknown, what: string): Promise<boolean> {
    const url = otlpSignalUrl(this.options.endpoint, signal);
    const json = JSON.stringify(body);
    for (let attempt = 1; ; attempt++) {
      const result = await this.post(url, json);
      if (result.ok) {
        if (result.reason) this.options.logger.warn(`telemetry: ${signal}: ${result.reason}`);
        else this.options.logger.trace(`telemetry: sent ${what} to /v1/${signal}`);
        return true;
      }
      if (this.stopped) return false;
      if (!result.retryable || attempt >= 2) {
        this.options.logger.warn(`telemetry: dropped ${what}: ${result.reason}`);
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs).unref?.());
      if (this.stopped) return false;
    }
  }

  private async headers(url: URL): Promise<Record<string, string>> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    let token: string | undefined;
    try {
      token = await this.options.token?.();
    } catch (error) {
      this.options.logger.warn(`telemetry: could not read the collector token: ${message(error)}`);
    }
    if (!token) return headers;
    if (!mayCarryToken(url)) {
      if (!this.warnedPlainToken) this.options.logger.warn('telemetry: the collector token is only sent over https (or to this machine); sending without it');
      this.warnedPlainToken = true;
      return headers;
    }
    headers.authorization = `Bearer ${token}`;
    return headers;
  }

  private async post(url: string, body: string): Promise<PostResult> {
    const abort = new AbortController();
    this.aborts.add(abort);
    const timer = setTimeout(() => abort.abort(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    try {
      const response = await fetch(url, { method: 'POST', headers: await this.headers(new URL(url)), body, redirect: 'manual', signal: abort.signal });
      if (response.status >= 200 && response.status < 300) {
        return { ok: true, retryable: false, reason: partialSuccess(await response.text()) };
      }
      await response.body?.cancel().catch(() => undefined);
      if (response.status >= 300 && response.status < 400) {
        return { ok: false, retryable: false, reason: `the collector answered ${response.status}, a redirect, which is never followed` };
      }
      return { ok: false, retryable: RETRYABLE_STATUS.has(response.status), reason: `the collector answered ${response.status}` };
    } catch (error) {
      return { ok: false, retryable: true, reason: abort.signal.aborted ? message(abort.signal.reason) : message(error) };
    } finally {
      clearTimeout(timer);
      this.aborts.delete(abort);
    }
  }
}

/** OTLP's partial success: the collector took the request but rejected some of what was in it. */
function partialSuccess(text: string): string {
  try {
    const parsed = JSON.parse(text) as { partialSuccess?: { rejectedSpans?: unknown; rejectedDataPoints?: unknown; errorMessage?: unknown } };
    const partial = parsed?.partialSuccess;
    const rejected = Number(partial?.rejectedSpans ?? partial?.rejectedDataPoints ?? 0);
    if (rejected > 0) return `the collector rejected ${rejected} item(s)${typeof partial?.errorMessage === 'string' && partial.errorMessage ? `: ${partial.errorMessage}` : ''}`;
  } catch {
    // An empty or non-JSON answer to a 2xx is a success.
  }
  return '';
}
