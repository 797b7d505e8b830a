import type OpenAI from 'openai';
import { ProviderError, estimateTokens, type ChatResult, type ProviderErrorKind } from './chatProvider';
import type { OpenAIChatOptions } from './openaiChatProvider';
import { droppedMidAnswer, kindForStatus, redirectMessage, rootCause, stoppedByUs, unreadable, withoutSecret, type FailureContext } from './providerErrors';
import { parseRetryAfter } from './retryPolicy';
import { SseParser, type ServerSentEvent } from './sseParser';
import { ToolCallAssembler } from './toolCallAssembly';
import { guardCall, type CallTimeouts, type GuardedCall } from './transport';

/** What one streamed chunk adds to the answer; each endpoint's chunks carry it in their own fields. */
export interface StreamPiece {
  text?: string | null;
  finishReason?: string | null;
  usage?: OpenAI.CompletionUsage | null;
  /** Fragments of tool calls (chat completions only), each naming its call by `index`. */
  toolCalls?: OpenAI.ChatCompletionChunk.Choice.Delta.ToolCall[] | null;
}

/** One streaming request to an OpenAI-compatible endpoint. */
export interface OpenAIStreamCall<Chunk> {
  /** Relative to the base URL, for example `/chat/completions`. */
  path: string;
  /** The JSON body; `stream: true` and `stream_options.include_usage` are added. */
  body: Record<string, unknown>;
  read(chunk: Chunk): StreamPiece;
  /** The prompt's tokens, for when the server reports no usage. */
  estimateInputTokens(): number;
}

/** The most of an error body that is read: enough for any message, never a whole page. */
const ERROR_BODY_LIMIT = 16 * 1024;

/** The service's own words from an error body: `{ error: { message } }`, `{ message }`, or the text. */
function errorDetail(body: string, statusText: string): { detail: string; type?: string } {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown; type?: unknown } | string; message?: unknown };
    const error = typeof parsed.error === 'object' ? parsed.error : undefined;
    const message = error?.message ?? (typeof parsed.error === 'string' ? parsed.error : parsed.message);
    if (typeof message === 'string' && message) return { detail: message, type: typeof error?.type === 'string' ? error.type : undefined };
  } catch {
    // Not JSON: a proxy's or a server's own page.
  }
  const text = body.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return { detail: text.slice(0, 200) || statusText || 'no details' };
}

/** The class of an error event inside a 200 stream, from its `type` or `code`. */
function midStreamKind(type: string): ProviderErrorKind {
  if (/rate|quota/i.test(type)) return 'rate-limit';
  if (/invalid|auth|permission/i.test(type)) return 'bad-request';
  return 'server';
}

async function readLimited(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const decoder = new TextDecoder();
  let text = '';
  while (text.length < ERROR_BODY_LIMIT) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return text;
}

/**
 * An OpenAI-compatible service spoken to directly: one `fetch` through the call's transport, the
 * event stream parsed here. Not the `openai` SDK: measured on the loopback mock (npm run
 * bench:providers), the SDK's request and stream handling doubled the event-loop time per
 * streamed answer and made 50 concurrent streams stall the loop past 20 ms; this path stays close
 * to a bare `fetch`. There is no retry here: the router is the only retry loop.
 */
export class OpenAIStreamingClient {
  private readonly headers: Record<string, string>;
  private readonly baseUrl: string;

  constructor(private readonly options: OpenAIChatOptions) {
    this.baseUrl = options.provider.baseUrl.replace(/\/+$/, '');
    this.headers = { 'content-type': 'application/json', accept: 'text/event-stream, application/json' };
    // Settings alone decide what a request carries: the key from secret storage, nothing from the environment.
    if (options.provider.auth === 'apiKey' && options.apiKey) this.headers.authorization = `Bearer ${options.apiKey}`;
  }

  private timeouts(): CallTimeouts {
    const { timeoutMs, connectTimeoutMs, idleTimeoutMs } = this.options;
    return { totalMs: timeoutMs, connectMs: connectTimeoutMs ?? timeoutMs, idleMs: idleTimeoutMs ?? timeoutMs };
  }

  async stream<Chunk>(request: OpenAIStreamCall<Chunk>, onText: (delta: string) => void, signal: AbortSignal): Promise<ChatResult> {
    let text = '';
    let finishReason: string | undefined;
    let usage: ChatResult['usage'] | undefined;
    const toolCalls = new ToolCallAssembler();
    // Incomplete tool calls are never part of a partial answer; their arguments still count as output.
    const partial = (): ChatResult => ({
      text,
      finishReason,
      usage: usage ?? { inputTokens: request.estimateInputTokens(), outputTokens: estimateTokens(text + toolCalls.argumentText), estimated: true },
    });
    const { baseUrl } = this.options.provider;
    if (this.options.provider.auth === 'apiKey' && !this.options.apiKey) {
      // Nothing was sent, so nothing is accounted.
      throw new ProviderError('auth', `No API key is set for ${this.options.provider.id}.`);
    }
    // Each call gets its own transport: its timers, and redirects refused.
    const call = guardCall(this.timeouts(), { watchBody: false });
    const context = (): FailureContext => ({ signal, call, baseUrl, partial: partial() });
    let events = 0;
    let finished = false;
    const onEvent = (event: ServerSentEvent) => {
      if (finished) return;
      if (event.data === '[DONE]') {
        finished = true;
        return;
      }
      let chunk: Chunk & { error?: { message?: unknown; type?: unknown; code?: unknown } };
      try {
        chunk = JSON.parse(event.data) as typeof chunk;
      } catch {
        throw new ProviderError('bad-response', `${baseUrl} sent an event that is not JSON: ${event.data.slice(0, 80)}`, undefined, partial());
      }
      if (chunk && typeof chunk === 'object' && chunk.error) {
        // An `error` event inside a 200 stream: the service failed after accepting the request.
        const type = String(chunk.error.type ?? chunk.error.code ?? '');
        const message = typeof chunk.error.message === 'string' ? chunk.error.message : JSON.stringify(chunk.error);
        throw new ProviderError(midStreamKind(type), `The provider reported an error mid-stream: ${message}`, undefined, partial());
      }
      events++;
      const piece = request.read(chunk);
      if (piece.usage) usage = { inputTokens: piece.usage.prompt_tokens, outputTokens: piece.usage.completion_tokens, estimated: false };
      if (piece.finishReason) finishReason = piece.finishReason;
      if (piece.text) {
        text += piece.text;
        onText(piece.text);
      }
      // Servers that stream each call whole (no `index`) are read by the call's place in the list.
      piece.toolCalls?.forEach((fragment, position) => {
        const index = fragment.index ?? position;
        toolCalls.name(index, fragment.id, fragment.function?.name);
        toolCalls.append(index, fragment.function?.arguments);
      });
    };
    try {
      const response = await this.send(call, request, signal);
      const reader = response.body?.getReader();
      if (reader) {
        const decoder = new TextDecoder();
        const parser = new SseParser(onEvent);
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          call.alive();
          parser.feed(decoder.decode(value, { stream: true }));
          if (finished) {
            await reader.cancel();
            break;
          }
        }
        if (!finished) parser.end();
      }
      const stopped = stoppedByUs(context());
      if (stopped) throw stopped;
      // A login page or proxy error served with status 200 has no events.
      if (events === 0) {
        throw new ProviderError('bad-response', `${baseUrl} answered without an event stream; check the base URL.`, undefined, partial());
      }
      const calls = toolCalls.finish(String(request.body.model), partial);
      return calls ? { ...partial(), toolCalls: calls } : partial();
    } catch (error) {
      const failure = error instanceof ProviderError ? error : (stoppedByUs(context()) ?? droppedMidAnswer(error, context()) ?? unreadable(error, partial()));
      throw withoutSecret(failure, this.options.apiKey);
    } finally {
      call.dispose();
    }
  }

  /** Sends the request; an HTTP error status becomes a ProviderError with the service's words. */
  private async send(call: GuardedCall, request: OpenAIStreamCall<unknown>, signal: AbortSignal): Promise<Response> {
    const { baseUrl } = this.options.provider;
    const body = JSON.stringify({ ...request.body, stream: true, stream_options: { include_usage: true } });
    let response: Response;
    try {
      response = await call.fetch(`${this.baseUrl}${request.path}`, { method: 'POST', headers: this.headers, body, signal });
    } catch (error) {
      const stopped = stoppedByUs({ signal, call, baseUrl, partial: { text: '', usage: { inputTokens: 0, outputTokens: 0, estimated: true } } });
      if (stopped) throw new ProviderError(stopped.kind, stopped.message);
      throw new ProviderError('connection', `Could not connect to ${baseUrl} (${rootCause(error)}).`);
    }
    if (response.status < 300) return response;
    const kind = kindForStatus(response.status);
    const retryAfterMs = parseRetryAfter(response.headers, Date.now());
    if (kind === 'redirect') {
      await response.body?.cancel();
      throw new ProviderError(kind, redirectMessage(baseUrl, response.status), response.status);
    }
    const { detail } = errorDetail(await readLimited(response).catch(() => ''), response.statusText);
    throw new ProviderError(kind, `HTTP ${response.status}: ${detail}`, response.status, undefined, retryAfterMs);
  }
}
