import OpenAI from 'openai';
import { ProviderError, estimateTokens, type ChatResult, type ProviderErrorKind } from './chatProvider';
import type { OpenAIChatOptions } from './openaiChatProvider';
import { parseRetryAfter } from './retryPolicy';
import { commonFailure, droppedMidAnswer, kindForStatus, redirectMessage, stoppedByUs, unreadable, type FailureContext } from './providerErrors';
import { callFetch, guardCall, viaCall, type CallTimeouts } from './transport';

/** What one streamed chunk adds to the answer; each endpoint's chunks carry it in their own fields. */
export interface StreamPiece {
  text?: string | null;
  finishReason?: string | null;
  usage?: OpenAI.CompletionUsage | null;
}

/** One streaming request to an OpenAI-compatible endpoint. */
export interface OpenAIStreamCall<Chunk> {
  /** Sends the request; `options` route it through this call's transport. */
  open(client: OpenAI, options: { signal: AbortSignal; fetchOptions: never }): Promise<AsyncIterable<Chunk>>;
  read(chunk: Chunk): StreamPiece;
  /** The prompt's tokens, for when the server reports no usage. */
  estimateInputTokens(): number;
}

function apiErrorMessage(error: InstanceType<typeof OpenAI.APIError>): string {
  const body = error.error as { message?: unknown } | undefined;
  const detail = typeof body?.message === 'string' ? body.message : error.message;
  return error.status === undefined ? detail : `HTTP ${error.status}: ${detail}`;
}

/**
 * An OpenAI-compatible service through the official SDK, shared by the chat and the completions
 * providers. The SDK's own retries are off: the router is the only retry loop, so every attempt is
 * visible and accounted.
 */
export class OpenAIStreamingClient {
  private readonly client: OpenAI;

  constructor(private readonly options: OpenAIChatOptions) {
    const needsKey = options.provider.auth === 'apiKey';
    this.client = new OpenAI({
      baseURL: options.provider.baseUrl,
      // The SDK insists on a key; for keyless local servers the header is removed below.
      apiKey: needsKey ? (options.apiKey ?? null) : 'unused',
      // Settings alone decide where requests go and what they carry: no environment fallbacks.
      organization: null,
      project: null,
      defaultHeaders: needsKey ? undefined : { Authorization: null },
      maxRetries: 0,
      timeout: options.timeoutMs,
      fetch: callFetch,
    });
  }

  private timeouts(): CallTimeouts {
    const { timeoutMs, connectTimeoutMs, idleTimeoutMs } = this.options;
    return { totalMs: timeoutMs, connectMs: connectTimeoutMs ?? timeoutMs, idleMs: idleTimeoutMs ?? timeoutMs };
  }

  async stream<Chunk>(request: OpenAIStreamCall<Chunk>, onText: (delta: string) => void, signal: AbortSignal): Promise<ChatResult> {
    let text = '';
    let finishReason: string | undefined;
    let usage: ChatResult['usage'] | undefined;
    const partial = (): ChatResult => ({
      text,
      finishReason,
      usage: usage ?? {
        inputTokens: request.estimateInputTokens(),
        outputTokens: estimateTokens(text),
        estimated: true,
      },
    });
    // Each call gets its own transport: its timers, and redirects refused.
    const call = guardCall(this.timeouts());
    const { baseUrl } = this.options.provider;
    try {
      const stream = await request.open(this.client, { signal, ...viaCall(call) });
      let events = 0;
      for await (const chunk of stream) {
        events++;
        const piece = request.read(chunk);
        if (piece.usage) {
          usage = {
            inputTokens: piece.usage.prompt_tokens,
            outputTokens: piece.usage.completion_tokens,
            estimated: false,
          };
        }
        if (piece.finishReason) finishReason = piece.finishReason;
        if (piece.text) {
          text += piece.text;
          onText(piece.text);
        }
      }
      // The SDK ends the iteration quietly when aborted (cancelled or timed out); that answer is not complete.
      const stopped = stoppedByUs({ signal, call, baseUrl, partial: partial() });
      if (stopped) throw stopped;
      // A login page or proxy error served with status 200 parses as a stream with no events.
      if (events === 0) {
        throw new ProviderError('bad-response', `${baseUrl} answered without an event stream; check the base URL.`, undefined, partial());
      }
      return partial();
    } catch (error) {
      throw this.classify(error, { signal, call, baseUrl, partial: partial() });
    } finally {
      call.dispose();
    }
  }

  private classify(error: unknown, context: FailureContext): ProviderError {
    const common = commonFailure(error, context, OpenAI, this.options.timeoutMs);
    if (common) return common;
    const { baseUrl, partial } = context;
    if (error instanceof OpenAI.APIError && error.status === undefined) {
      // An `error` event inside a 200 stream: the service failed after accepting the request.
      const type = String((error.error as { type?: unknown } | undefined)?.type ?? '');
      const kind: ProviderErrorKind = /rate|quota/i.test(type) ? 'rate-limit' : /invalid|auth|permission/i.test(type) ? 'bad-request' : 'server';
      return new ProviderError(kind, `The provider reported an error mid-stream: ${apiErrorMessage(error)}`, undefined, partial);
    }
    if (error instanceof OpenAI.APIError && typeof error.status === 'number') {
      const kind = kindForStatus(error.status);
      const message = kind === 'redirect' ? redirectMessage(baseUrl, error.status) : apiErrorMessage(error);
      return new ProviderError(kind, message, error.status, partial, parseRetryAfter(error.headers, Date.now()));
    }
    return droppedMidAnswer(error, context) ?? unreadable(error, partial);
  }
}
