import { ProviderError, type ChatResult, type ProviderErrorKind } from './chatProvider';
import { describeTimeout, type GuardedCall } from './transport';

/** The error class of an HTTP status, the same for every provider. */
export function kindForStatus(status: number): ProviderErrorKind {
  if (status >= 300 && status < 400) return 'redirect';
  if (status === 401) return 'auth';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 413) return 'too-large';
  if (status === 429) return 'rate-limit';
  if (status >= 500) return 'server';
  return 'bad-request';
}

/** The innermost cause's code or message: `ECONNREFUSED` says more than `fetch failed`. */
export function rootCause(error: unknown): string {
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

export function redirectMessage(baseUrl: string, status: number): string {
  return `${baseUrl} answered with a redirect (HTTP ${status}); CodeRoute does not follow redirects, so nothing was sent elsewhere.`;
}

export interface FailureContext {
  signal: AbortSignal;
  call: GuardedCall;
  baseUrl: string;
  partial: ChatResult;
}

/**
 * The user cancelled or one of the call's timers fired. Checked first, because an SDK reports
 * both as some generic abort or connection error.
 */
export function stoppedByUs(context: FailureContext): ProviderError | undefined {
  const { signal, call, baseUrl, partial } = context;
  if (signal.aborted) return new ProviderError('cancelled', 'The request was cancelled.', undefined, partial);
  if (call.timedOut) return new ProviderError('timeout', describeTimeout(call.timedOut, baseUrl), undefined, partial);
  return undefined;
}

/** A connection reset mid-stream surfaces from fetch as "terminated" with a socket error inside. */
export function droppedMidAnswer(error: unknown, context: FailureContext): ProviderError | undefined {
  const cause = rootCause(error);
  if (!/^(ECONNRESET|EPIPE|UND_ERR_SOCKET|UND_ERR_CLOSED|ETIMEDOUT)$|terminated|other side closed/i.test(cause)) return undefined;
  return new ProviderError('connection', `The connection to ${context.baseUrl} dropped mid-answer (${cause}).`, undefined, context.partial);
}

/** Anything else: the answer arrived but could not be read. */
export function unreadable(error: unknown, partial: ChatResult): ProviderError {
  const message = error instanceof Error ? error.message : String(error);
  return new ProviderError('bad-response', `The provider's answer could not be read: ${message}`, undefined, partial);
}

/** The error classes both official SDKs (openai, @anthropic-ai/sdk) throw for transport failures. */
export interface SdkTransportErrors {
  APIUserAbortError: abstract new (...args: never[]) => Error;
  APIConnectionTimeoutError: abstract new (...args: never[]) => Error;
  APIConnectionError: abstract new (...args: never[]) => Error;
}

/**
 * The failures every SDK-backed provider classifies alike, before looking at the service's own
 * error body: one of ours passed through, the user cancelled or a timer fired, the SDK gave up
 * waiting, or the connection could not be made. Undefined for anything else.
 */
export function commonFailure(error: unknown, context: FailureContext, sdk: SdkTransportErrors, totalMs: number): ProviderError | undefined {
  if (error instanceof ProviderError) return error;
  const stopped = stoppedByUs(context);
  if (stopped) return stopped;
  const { baseUrl, partial } = context;
  if (error instanceof sdk.APIUserAbortError) return new ProviderError('cancelled', 'The request was cancelled.', undefined, partial);
  if (error instanceof sdk.APIConnectionTimeoutError) {
    return new ProviderError('timeout', `No answer within ${totalMs} ms (coderoute.request.timeoutSeconds).`, undefined, partial);
  }
  if (error instanceof sdk.APIConnectionError) {
    return new ProviderError('connection', `Could not connect to ${baseUrl} (${rootCause(error)}).`, undefined, partial);
  }
  return undefined;
}

/**
 * The error with every occurrence of the key taken out of its message. A service or a proxy may
 * echo the credential it was sent (in full, or as OpenAI does, masked but with its ends); the
 * message goes to the user and the log, which must never show it.
 */
export function withoutSecret(error: ProviderError, secret: string | undefined): ProviderError {
  if (!secret || secret.length < 8 || !error.message.includes(secret)) return error;
  const message = error.message.split(secret).join('[API key]');
  return new ProviderError(error.kind, message, error.status, error.partial, error.retryAfterMs);
}
