import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { anthropicWire, isMessagesPath } from './anthropicWire';
import { completionsWire, isCompletionsPath } from './completionsWire';
import { isModelListPath, writeModelList, type MockModel } from './modelListWire';
import {
  argumentPieces,
  argumentText,
  callId,
  callsText,
  contentText,
  toolResultsAnswer,
  type MockToolCall,
  type ToolCallsWhenOffered,
  type ToolView,
} from './mockToolCalls';

/**
 * A loopback mock LLM server that speaks the OpenAI chat-completions wire format (and the legacy
 * completions one, in completionsWire.ts, and Anthropic's Messages API, in anthropicWire.ts): JSON
 * answers and server-sent-event streams with `usage`, and injected faults (delays, HTTP errors,
 * dropped connections, malformed events, error events mid-stream). It only ever listens on 127.0.0.1.
 *
 * Tool calls, in both chat wire formats:
 * - A `reply` with `toolCalls` answers with those calls after its text (no text unless `text` is
 *   given): OpenAI's `delta.tool_calls` fragments (id and name first, the arguments in pieces) and
 *   `finish_reason: "tool_calls"`, or Anthropic's `tool_use` blocks with `input_json_delta` pieces
 *   and `stop_reason: "tool_use"`. `rawArguments` sends arguments that are not JSON.
 * - A request whose latest user turn brings tool results back (OpenAI `tool` messages, Anthropic
 *   `tool_result` blocks) is answered, unless the behaviour gives its own `text` or `toolCalls`,
 *   with text that quotes each result: `Mock answer from M after the tools: "R1", "R2".`
 * - An agent round trip: set `mock.toolCallsWhenOffered` (fixed calls, or a function of the tool
 *   names offered). Then a `reply` that names neither `text` nor `toolCalls` (the default reply
 *   included) answers a request that offers tools, and brings no results back, with those calls.
 *   So request 1 (tools offered) gets the calls, request 2 (the results) gets the quoting text,
 *   and a test sees the result reach the model without scripting the turns; queued faults still
 *   take precedence. `reset()` turns it off.
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
      /** Tool calls made after the text (see the top of this file). */
      toolCalls?: MockToolCall[];
    }
  | { kind: 'fail'; status: number; message?: string; headers?: Record<string, string> }
  | { kind: 'delay'; ms: number; then: Behaviour }
  | { kind: 'redirect'; location: string; status?: number }
  /** Exactly these bytes, written in these pieces: for wire-format edge cases. */
  | { kind: 'raw'; status?: number; contentType?: string; pieces: string[]; pieceDelayMs?: number }
  | { kind: 'hangup' }
  | { kind: 'malformed' };

export type Reply = Extract<Behaviour, { kind: 'reply' }>;

/** A chat-completions message as clients send it: content is null beside tool calls, or a list of parts. */
interface ChatBodyMessage {
  role: string;
  content?: string | null | { type?: string; text?: unknown }[];
  tool_calls?: { id?: string; type?: string; function?: { name?: string; arguments?: string } }[];
  /** On `tool` messages: the call whose result this is. */
  tool_call_id?: string;
}

interface ChatBody {
  model?: string;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  messages?: ChatBodyMessage[];
  tools?: { type?: string; function?: { name?: unknown } }[];
  tool_choice?: unknown;
}

/** The tools a chat-completions request offers, and the `tool` messages after its last assistant message. */
function chatToolView(body: ChatBody): ToolView {
  const offered = (body.tools ?? []).map((tool) => tool.function?.name).filter((name): name is string => typeof name === 'string');
  const messages = body.messages ?? [];
  const latest = messages.slice(messages.map((m) => m.role).lastIndexOf('assistant') + 1);
  return { offered, results: latest.filter((m) => m.role === 'tool').map((m) => contentText(m.content)) };
}

/** What every wire format's request body may hold; each wire reads it as its own body type. */
export interface WireBody {
  model?: string;
  stream?: boolean;
}

/** A wire format other than chat completions: how it answers a `reply`, and how it words failures. */
export interface Wire {
  reply(behaviour: Reply, body: WireBody, res: http.ServerResponse): Promise<void>;
  /** What a request says about tools; a wire without tools has none. */
  toolView?(body: WireBody): ToolView;
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

/** A reply's text: its own, else none beside tool calls, else the default answer. */
export function replyText(behaviour: Reply, body: { model?: string }): string {
  return behaviour.text ?? (behaviour.toolCalls?.length ? '' : defaultAnswer(body));
}

/** Streams `text` in `behaviour.chunks` pieces, with the delays and faults the behaviour asks for. */
export async function streamReply(behaviour: Reply, text: string, res: http.ServerResponse, frames: StreamFrames): Promise<void> {
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
  /** Agent round trips (see the top of this file): the calls a default reply makes when tools are offered. */
  toolCallsWhenOffered: ToolCallsWhenOffered | undefined;
  /** What `GET /api/tags` (as Ollama) and `GET /v1/models` list. */
  models: MockModel[] = [{ name: 'qwen2.5-coder:7b', family: 'qwen2', parameterSize: '7.6B' }];
  /** Behaviours for the next model-list GETs (a failure, a redirect, HTML…), one each, before the list. */
  readonly listQueue: Behaviour[] = [];
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
    this.listQueue.length = 0;
    this.requests.length = 0;
    this.toolCallsWhenOffered = undefined;
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

    if (isModelListPath(req.method, req.url)) {
      const fault = this.listQueue.shift();
      return fault ? this.respond(fault, {}, res) : writeModelList(this.models, req.url, res);
    }
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
      case 'reply': {
        const planned = this.planReply(behaviour, body, wire ? wire.toolView?.(body) : chatToolView(body));
        if (wire) return wire.reply(planned, body, res);
        return body.stream ? this.stream(planned, body, res) : this.json(planned, body, res);
      }
    }
  }

  /** A reply that leaves its answer open gets one from the tools: quoting their results, or calling them. */
  private planReply(behaviour: Reply, body: ChatBody, tools: ToolView | undefined): Reply {
    if (!tools || behaviour.text !== undefined || behaviour.toolCalls) return behaviour;
    if (tools.results.length > 0) return { ...behaviour, text: toolResultsAnswer(body.model, tools.results) };
    const calls = this.toolCallsWhenOffered;
    if (!calls || tools.offered.length === 0) return behaviour;
    return { ...behaviour, toolCalls: typeof calls === 'function' ? calls(tools.offered) : calls };
  }

  private usage(body: ChatBody, text: string, calls?: readonly MockToolCall[]) {
    const prompt = (body.messages ?? []).map((m) => contentText(m.content) + callsText(m.tool_calls?.map(fromWireCall))).join('\n');
    const prompt_tokens = countTokens(prompt);
    const completion_tokens = countTokens(text + callsText(calls));
    return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };
  }

  private json(behaviour: Reply, body: ChatBody, res: http.ServerResponse): void {
    const text = replyText(behaviour, body);
    const calls = behaviour.toolCalls ?? [];
    const message =
      calls.length > 0
        ? { role: 'assistant', content: text || null, tool_calls: calls.map((call, i) => ({ id: callId(call, i, 'call'), type: 'function', function: { name: call.name, arguments: argumentText(call) } })) }
        : { role: 'assistant', content: text };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id: 'chatcmpl-mock',
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [{ index: 0, message, finish_reason: calls.length > 0 ? 'tool_calls' : 'stop' }],
        usage: behaviour.omitUsage ? undefined : this.usage(body, text, calls),
      }),
    );
  }

  private stream(behaviour: Reply, body: ChatBody, res: http.ServerResponse): Promise<void> {
    const text = replyText(behaviour, body);
    const calls = behaviour.toolCalls ?? [];
    const base = { id: 'chatcmpl-mock', object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: body.model };
    const data = (payload: unknown) => `data: ${JSON.stringify(payload)}\n\n`;
    const delta = (payload: object, finish_reason: string | null = null) => data({ ...base, choices: [{ index: 0, delta: payload, finish_reason }] });
    const withUsage = body.stream_options?.include_usage && !behaviour.omitUsage;
    // Each call as OpenAI streams it: its id and name first, then its arguments in pieces, by `index`.
    const callFrames = calls.flatMap((call, index) => [
      delta({ tool_calls: [{ index, id: callId(call, index, 'call'), type: 'function', function: { name: call.name, arguments: '' } }] }),
      ...argumentPieces(call).map((piece) => delta({ tool_calls: [{ index, function: { arguments: piece } }] })),
    ]);
    return streamReply(behaviour, text, res, {
      opening: () => [delta({ role: 'assistant', content: '' })],
      piece: (piece) => delta({ content: piece }),
      closing: () => [
        ...callFrames,
        delta({}, calls.length > 0 ? 'tool_calls' : 'stop'),
        ...(withUsage ? [data({ ...base, choices: [], usage: this.usage(body, text, calls) })] : []),
        'data: [DONE]\n\n',
      ],
      // OpenAI-compatible servers report a failure after the 200 as an event holding an `error` object.
      error: (type, message) => data({ error: { type, message } }),
    });
  }
}

/** A call as a client sent it back, for counting its tokens. */
function fromWireCall(call: NonNullable<ChatBodyMessage['tool_calls']>[number]): MockToolCall {
  return { name: call.function?.name ?? '', rawArguments: call.function?.arguments ?? '' };
}
