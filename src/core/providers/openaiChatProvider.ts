import OpenAI from 'openai';
import type { ProviderConfig } from '../config/settingsSchema';
import {
  ProviderError,
  estimateMessagesTokens,
  estimateTokens,
  type ChatProvider,
  type ChatRequest,
  type ChatResult,
  type ProviderErrorKind,
} from './chatProvider';
import { parseRetryAfter } from './retryPolicy';

export interface OpenAIChatOptions {
  provider: ProviderConfig;
  /** Undefined when the provider needs no key. */
  apiKey: string | undefined;
  /** Total deadline for one call, in milliseconds. */
  timeoutMs: number;
}

function kindForStatus(status: number): ProviderErrorKind {
  if (status >= 300 && status < 400) return 'redirect';
  if (status === 401) return 'auth';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 413) return 'too-large';
  if (status === 429) return 'rate-limit';
  if (status >= 500) return 'server';
  return 'bad-request';
}

function apiErrorMessage(error: InstanceType<typeof OpenAI.APIError>): string {
  const body = error.error as { message?: unknown } | undefined;
  const detail = typeof body?.message === 'string' ? body.message : error.message;
  return error.status === undefined ? detail : `HTTP ${error.status}: ${detail}`;
}

/** The innermost cause's code or message: `ECONNREFUSED` says more than `fetch failed`. */
function rootCause(error: unknown): string {
  let current: unknown = error;
  let detail = error instanceof Error ? error.message : String(error);
  for (let depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string') return code;
    if (typeof message === 'string' && message) detail = message;
    current = (current as { cause?: unknown }).cause;
  }
  return detail;
}

/**
 * OpenAI-compatible chat completions through the official SDK. The SDK's own retries are off:
 * the router is the only retry loop, so every attempt is visible and accounted.
 */
export class OpenAIChatProvider implements ChatProvider {
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
      // Never follow a redirect: it could carry the key and the code to another host.
      fetch: (url: string | URL | Request, init?: RequestInit) => fetch(url, { ...init, redirect: 'manual' }),
    });
  }

  async streamChat(request: ChatRequest, onText: (delta: string) => void, signal: AbortSignal): Promise<ChatResult> {
    let text = '';
    let finishReason: string | undefined;
    let usage: ChatResult['usage'] | undefined;
    const partial = (): ChatResult => ({
      text,
      finishReason,
      usage: usage ?? {
        inputTokens: estimateMessagesTokens(request.messages),
        outputTokens: estimateTokens(text),
        estimated: true,
      },
    });
    try {
      const stream = await this.client.chat.completions.create(
        {
          model: request.model,
          messages: request.messages,
          max_tokens: request.maxOutputTokens,
          temperature: request.temperature,
          stream: true,
          stream_options: { include_usage: true },
        },
        { signal },
      );
      let events = 0;
      for await (const chunk of stream) {
        events++;
        if (chunk.usage) {
          usage = {
            inputTokens: chunk.usage.prompt_tokens,
            outputTokens: chunk.usage.completion_tokens,
            estimated: false,
          };
        }
        const choice = chunk.choices?.[0];
        if (choice?.finish_reason) finishReason = choice.finish_reason;
        const delta = choice?.delta?.content;
        if (delta) {
          text += delta;
          onText(delta);
        }
      }
      // The SDK ends the iteration quietly when aborted; a cancelled answer is not a complete one.
      if (signal.aborted) throw new ProviderError('cancelled', 'The request was cancelled.', undefined, partial());
      // A login page or proxy error served with status 200 parses as a stream with no events.
      if (events === 0) {
        throw new ProviderError('bad-response', `${this.options.provider.baseUrl} answered without an event stream; check the base URL.`, undefined, partial());
      }
      return partial();
    } catch (error) {
      throw this.classify(error, signal, partial());
    }
  }

  private classify(error: unknown, signal: AbortSignal, partial: ChatResult): ProviderError {
    if (error instanceof ProviderError) return error;
    if (signal.aborted || error instanceof OpenAI.APIUserAbortError) {
      return new ProviderError('cancelled', 'The request was cancelled.', undefined, partial);
    }
    if (error instanceof OpenAI.APIConnectionTimeoutError) {
      return new ProviderError('timeout', `No answer within ${this.options.timeoutMs} ms.`, undefined, partial);
    }
    if (error instanceof OpenAI.APIConnectionError) {
      return new ProviderError('connection', `Could not connect to ${this.options.provider.baseUrl} (${rootCause(error)}).`, undefined, partial);
    }
    if (error instanceof OpenAI.APIError && error.status === undefined) {
      // An `error` event inside a 200 stream: the service failed after accepting the request.
      const type = String((error.error as { type?: unknown } | undefined)?.type ?? '');
      const kind: ProviderErrorKind = /rate|quota/i.test(type) ? 'rate-limit' : /invalid|auth|permission/i.test(type) ? 'bad-request' : 'server';
      return new ProviderError(kind, `The provider reported an error mid-stream: ${apiErrorMessage(error)}`, undefined, partial);
    }
    if (error instanceof OpenAI.APIError && typeof error.status === 'number') {
      const kind = kindForStatus(error.status);
      const message =
        kind === 'redirect'
          ? `${this.options.provider.baseUrl} answered with a redirect (HTTP ${error.status}); CodeRoute does not follow redirects, so nothing was sent elsewhere.`
          : apiErrorMessage(error);
      return new ProviderError(kind, message, error.status, partial, parseRetryAfter(error.headers, Date.now()));
    }
    const cause = rootCause(error);
    // A connection reset mid-stream surfaces from fetch as "terminated" with a socket error inside.
    if (/^(ECONNRESET|EPIPE|UND_ERR_SOCKET|UND_ERR_CLOSED|ETIMEDOUT)$|terminated|other side closed/i.test(cause)) {
      return new ProviderError('connection', `The connection to ${this.options.provider.baseUrl} dropped mid-answer (${cause}).`, undefined, partial);
    }
    const message = error instanceof Error ? error.message : String(error);
    return new ProviderError('bad-response', `The provider's answer could not be read: ${message}`, undefined, partial);
  }
}
