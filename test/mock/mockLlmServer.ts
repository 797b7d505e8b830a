import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { anthropicWire, isMessagesPath } from './anthropicWire';
import { completionsWire, isCompletionsPath } from './completionsWire';

/**
 * A loopback mock LLM server that speaks the OpenAI chat-completions wire format (and the legacy
 * completions one, in completionsWire.ts, and Anthropic's Messages API, in anthropicWire.ts): JSON
 * answers and server-sent-event streams with `usage`, and injected faults (delays, HTTP errors,
 * dropped connections, malformed events, error events mid-stream). It only ever listens on 127.0.0.1.
 */

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  /** True when the client closed the connection before the answer was complete. */
  clientAborted: boolean;
  /** When the connection closed before the answer was complete (epoch milliseconds, sub-millisecond). */
  closedAt?: number;
}

export type Behaviour =
  | {
      kind: 'reply';
      /** The answer; split into `chunks` pieces when streamed. Defaults to an echo of the request. */
      text?: string;
      chunks?: number;
      chunkDelayMs?: number;
      /** Omit the usage chunk even when the client asked for it. */
      omitUsage?: boolean;
      /** Drop the connection after this many pieces of text (a reset mid-stream). */
      dropAfterChunks?: number;
      /** After this many pieces of text, report an error in the stream (the status stays 200) and end it. */
      errorAfterChunks?: number;
      /** That error's `type`; `overloaded_error` when not given. */
      errorType?: string;
    }
  | { kind: 'fail'; status: number; message?: string; headers?: Record<string, string> }
  | { kind: 'delay'; ms: number; then: Behaviour }
  | { kind: 'redirect'; location: string; status?: number }
  /** Exactly these bytes, written in these pieces: for wire-format edge cases. */
  | { kind: 'raw'; status?: number; contentType?: string; pieces: string[]; pieceDelayMs?: number }
  | { kind: 'hangup' }
  | { kind: 'malformed' };

interface ChatBody {
  model?: string;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  messages?: { role: string; content: string }[];
}

/** A wire format other than chat completions: how it answers a `reply`, and how it words failures. */
export interface Wire {
  reply(behaviour: Extract<Behaviour, { kind: 'reply' }>, body: ChatBody, res: http.ServerResponse): Promise<void>;
  /** The JSON body of an HTTP error; the OpenAI one when absent. */
  errorBody?(status: number, message: string): object;
  /** An event stream whose data is not JSON; the OpenAI one when absent. */
  malformed?: string;
}

/** What a wire format writes into an event stream; `streamReply` decides when (pieces, delays, faults). */
export interface StreamFrames {
  /** Events before the first piece of text. */
  opening(): string[];
  piece(text: string): string;
  /** Events after the last piece: the finish, the usage unless omitted, the end. */
  closing(): string[];
  /** A failure reported inside a stream that started with HTTP 200. */
  error(type: string, message: string): string;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function countTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

export function defaultAnswer(body: { model?: string }): string {
  return `Mock answer from ${body.model ?? 'unknown-model'}: this code does what it says.`;
}

/** Streams `text` in `behaviour.chunks` pieces, with the delays and faults the behaviour asks for. */
export async function streamReply(behaviour: Extract<Behaviour, { kind: 'reply' }>, text: string, res: http.ServerResponse, frames: StreamFrames): Promise<void> {
  const count = Math.max(1, Math.min(behaviour.chunks ?? 4, text.length || 1));
  const size = Math.ceil(text.length / count);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  frames.opening().forEach((frame) => res.write(frame));
  for (let i = 0, sent = 0; i < text.length; i += size, sent++) {
    if (behaviour.chunkDelayMs) await sleep(behaviour.chunkDelayMs);
    if (res.destroyed) return;
    if (behaviour.dropAfterChunks !== undefined && sent >= behaviour.dropAfterChunks) {
      // Let what was written reach the client first: destroy() discards unsent data.
      await sleep(50);
      res.socket?.destroy();
      return;
    }
    if (behaviour.errorAfterChunks !== undefined && sent >= behaviour.errorAfterChunks) {
      const type = behaviour.errorType ?? 'overloaded_error';
      res.end(frames.error(type, `Injected ${type}`));
      return;
    }
    res.write(frames.piece(text.slice(i, i + size)));
  }
  res.end(frames.closing().join(''));
}

export class MockLlmServer {
  readonly requests: RecordedRequest[] = [];
  private readonly queue: Behaviour[] = [];
  private readonly sockets = new Set<Socket>();
  private waiters: { count: number; resolve: () => void }[] = [];

  private constructor(private readonly server: http.Server) {
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(port = 0): Promise<MockLlmServer> {
    const server = http.createServer();
    const mock = new MockLlmServer(server);
    server.on('request', (req, res) => void mock.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return mock;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The base URL a provider setting uses, e.g. http://127.0.0.1:PORT/v1. */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  /** The base URL of an `anthropic` provider: the host root, to which the SDK adds `/v1/messages`. */
  get rootUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Behaviours for the next requests, one each, in order; after them every request gets a default reply. */
  enqueue(...behaviours: Behaviour[]): void {
    this.queue.push(...behaviours);
  }

  reset(): void {
    this.queue.length = 0;
    this.requests.length = 0;
  }

  /** Resolves when at least `count` requests have arrived. */
  waitForRequests(count: number, timeoutMs = 10_000): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`expected ${count} requests, got ${this.requests.length}`)), timeoutMs);
      this.waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  async close(): Promise<void> {
    this.sockets.forEach((socket) => socket.destroy());
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await new Promise<string>((resolve) => {
      let data = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (data += chunk));
      req.on('end', () => resolve(data));
    });
    let body: unknown = raw;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      // Kept as text; the handler below answers 400 like the real API.
    }
    const record: RecordedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body,
      clientAborted: false,
    };
    res.on('close', () => {
      if (!res.writableFinished) {
        record.clientAborted = true;
        record.closedAt = performance.timeOrigin + performance.now();
      }
    });
    this.requests.push(record);
    this.waiters = this.waiters.filter((w) => (this.requests.length >= w.count ? (w.resolve(), false) : true));

    const wire: Wire | undefined = isCompletionsPath(req.url) ? completionsWire : isMessagesPath(req.url) ? anthropicWire : undefined;
    if (req.method !== 'POST' || !(wire || /\/chat\/completions$/.test((req.url ?? '').split('?')[0]))) {
      return this.error(res, 404, `Unknown endpoint ${req.method} ${req.url}`);
    }
    if (typeof body !== 'object' || body === null) return this.error(res, 400, 'Request body must be JSON.', {}, wire);
    await this.respond(this.queue.shift() ?? { kind: 'reply' }, body as ChatBody, res, wire);
  }

  private error(res: http.ServerResponse, status: number, message: string, headers: Record<string, string> = {}, wire?: Wire): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    const openai = () => ({ error: { message, type: status === 401 ? 'invalid_api_key' : 'mock_error', code: status } });
    res.end(JSON.stringify(wire?.errorBody?.(status, message) ?? openai()));
  }

  /** `wire` answers in another wire format than chat completions when given. */
  private async respond(behaviour: Behaviour, body: ChatBody, res: http.ServerResponse, wire?: Wire): Promise<void> {
    switch (behaviour.kind) {
      case 'delay':
        await sleep(behaviour.ms);
        if (res.destroyed) return;
        return this.respond(behaviour.then, body, res, wire);
      case 'fail':
        return this.error(res, behaviour.status, behaviour.message ?? `Injected failure ${behaviour.status}`, behaviour.headers, wire);
      case 'raw':
        res.writeHead(behaviour.status ?? 200, { 'content-type': behaviour.contentType ?? 'text/event-stream' });
        for (const piece of behaviour.pieces) {
          res.write(piece);
          if (behaviour.pieceDelayMs) await sleep(behaviour.pieceDelayMs);
          if (res.destroyed) return;
        }
        res.end();
        return;
      case 'redirect':
        res.writeHead(behaviour.status ?? 307, { location: behaviour.location });
        res.end();
        return;
      case 'hangup':
        res.socket?.destroy();
        return;
      case 'malformed':
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(wire?.malformed ?? 'data: {"choices": [ this is not json\n\n');
        return;
      case 'reply':
        if (wire) return wire.reply(behaviour, body, res);
        return body.stream ? this.stream(behaviour, body, res) : this.json(behaviour, body, res);
    }
  }

  private usage(body: ChatBody, text: string) {
    const prompt = (body.messages ?? []).map((m) => m.content).join('\n');
    const prompt_tokens = countTokens(prompt);
    const completion_tokens = countTokens(text);
    return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };
  }

  private json(behaviour: Extract<Behaviour, { kind: 'reply' }>, body: ChatBody, res: http.ServerResponse): void {
    const text = behaviour.text ?? defaultAnswer(body);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id: 'chatcmpl-mock',
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
        usage: behaviour.omitUsage ? undefined : this.usage(body, text),
      }),
    );
  }

  private stream(behaviour: Extract<Behaviour, { kind: 'reply' }>, body: ChatBody, res: http.ServerResponse): Promise<void> {
    const text = behaviour.text ?? defaultAnswer(body);
    const base = { id: 'chatcmpl-mock', object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: body.model };
    const data = (payload: unknown) => `data: ${JSON.stringify(payload)}\n\n`;
    const withUsage = body.stream_options?.include_usage && !behaviour.omitUsage;
    return streamReply(behaviour, text, res, {
      opening: () => [data({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] })],
      piece: (piece) => data({ ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] }),
      closing: () => [
        data({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
        ...(withUsage ? [data({ ...base, choices: [], usage: this.usage(body, text) })] : []),
        'data: [DONE]\n\n',
      ],
      // OpenAI-compatible servers report a failure after the 200 as an event holding an `error` object.
      error: (type, message) => data({ error: { type, message } }),
    });
  }
}
