import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback OpenTelemetry collector for tests: it records every OTLP/HTTP request (path,
 * headers, parsed JSON body) and answers as told: a status and body, a redirect, silence (for
 * timeouts) or a dropped connection. It only ever listens on 127.0.0.1.
 */

export interface CollectorRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body (undefined when it was not JSON). */
  body: unknown;
  raw: string;
}

export type CollectorReply =
  | { kind: 'answer'; status: number; body?: string; headers?: Record<string, string> }
  | { kind: 'hang' }
  | { kind: 'reset' };

export const OK: CollectorReply = { kind: 'answer', status: 200, body: '{}', headers: { 'content-type': 'application/json' } };

export class MockOtlpCollector {
  readonly requests: CollectorRequest[] = [];
  /** Decides each answer; 200 `{}` by default. */
  reply: (request: CollectorRequest) => CollectorReply = () => OK;
  private readonly waiters: (() => void)[] = [];

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<MockOtlpCollector> {
    const server = http.createServer();
    const collector = new MockOtlpCollector(server);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => collector.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return collector;
  }

  /** The base URL a `coderoute.telemetry.otlpEndpoint` setting would hold. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Requests to one signal path (`/v1/traces`, `/v1/metrics`). */
  to(path: string): CollectorRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  /** Resolves once `count` requests have arrived; fails after `timeoutMs`. */
  async waitFor(count: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.requests.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} request(s), got ${this.requests.length}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 20);
      });
    }
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      const request: CollectorRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, raw };
      this.requests.push(request);
      this.waiters.splice(0).forEach((wake) => wake());
      const reply = this.reply(request);
      if (reply.kind === 'hang') return;
      if (reply.kind === 'reset') {
        req.socket.destroy();
        return;
      }
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body ?? '');
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
