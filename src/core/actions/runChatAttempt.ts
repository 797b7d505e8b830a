import type { Logger } from '../log/logger';
import type { RouteDecision } from '../route/routeDecision';
import {
  ProviderError,
  type ChatMessage,
  type ChatProvider,
  type ChatResult,
  type ProviderErrorKind,
} from '../providers/chatProvider';

/** One provider call as it happened: what was asked of whom, and what it cost in tokens and time. */
export interface Attempt {
  requestId: string;
  task: RouteDecision['task'];
  modelId: string;
  providerId: string;
  status: 'ok' | 'error' | 'cancelled';
  errorKind?: ProviderErrorKind;
  inputTokens: number;
  outputTokens: number;
  usageEstimated: boolean;
  latencyMs: number;
  /** Time to the first streamed text, when any arrived. */
  firstTextMs?: number;
}

export interface AttemptResult {
  attempt: Attempt;
  result?: ChatResult;
  error?: ProviderError;
}

export interface ChatAttemptInput {
  decision: RouteDecision;
  messages: ChatMessage[];
  maxOutputTokens: number;
  provider: ChatProvider;
  onText: (delta: string) => void;
  signal: AbortSignal;
  logger: Logger;
  now?: () => number;
}

export function formatAttempt(a: Attempt): string {
  const tokens = `in=${a.inputTokens} out=${a.outputTokens}${a.usageEstimated ? ' (estimated)' : ''}`;
  const ttft = a.firstTextMs === undefined ? '' : ` first=${Math.round(a.firstTextMs)}ms`;
  const error = a.errorKind ? ` error=${a.errorKind}` : '';
  return `${a.task} model=${a.modelId} provider=${a.providerId} status=${a.status}${error} ${tokens} latency=${Math.round(a.latencyMs)}ms${ttft} id=${a.requestId}`;
}

/**
 * Runs the decision's chosen model once, streaming to `onText`, and returns the attempt record
 * whatever happened (success, failure or cancellation). Writes one log line per request.
 */
export async function runChatAttempt(input: ChatAttemptInput): Promise<AttemptResult> {
  const now = input.now ?? (() => performance.now());
  const started = now();
  let firstTextMs: number | undefined;
  const onText = (delta: string) => {
    firstTextMs ??= now() - started;
    input.onText(delta);
  };
  const { chosen } = input.decision;
  const base = {
    requestId: input.decision.requestId,
    task: input.decision.task,
    modelId: chosen.model.id,
    providerId: chosen.provider.id,
  };
  let outcome: AttemptResult;
  try {
    const result = await input.provider.streamChat(
      { model: chosen.model.name, messages: input.messages, maxOutputTokens: input.maxOutputTokens },
      onText,
      input.signal,
    );
    outcome = {
      result,
      attempt: {
        ...base,
        status: 'ok',
        inputTokens: result.usage.inputTokens,
        outputTokens: result.usage.outputTokens,
        usageEstimated: result.usage.estimated,
        latencyMs: now() - started,
        firstTextMs,
      },
    };
  } catch (caught) {
    const error =
      caught instanceof ProviderError
        ? caught
        : new ProviderError('bad-response', caught instanceof Error ? caught.message : String(caught));
    const usage = error.partial?.usage;
    outcome = {
      error,
      attempt: {
        ...base,
        status: error.kind === 'cancelled' ? 'cancelled' : 'error',
        errorKind: error.kind,
        inputTokens: usage?.inputTokens ?? 0,
        outputTokens: usage?.outputTokens ?? 0,
        usageEstimated: usage?.estimated ?? true,
        latencyMs: now() - started,
        firstTextMs,
      },
    };
  }
  const line = formatAttempt(outcome.attempt);
  if (outcome.attempt.status === 'error') input.logger.warn(`${line}: ${outcome.error?.message ?? ''}`);
  else input.logger.info(line);
  return outcome;
}
