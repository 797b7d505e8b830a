import type { Logger } from '../log/logger';
import { inputTokensFrom, messageTexts, type TokenCounter } from '../tokens/tokenCounter';
import { allowedFor } from '../policy/privacy';
import { acquireEndpoint, type EndpointLease } from '../providers/health/endpointHealth';
import { ProviderHealth } from '../providers/health/providerHealth';
import type { RouteDecision, RoutedDeployment, RoutedModel } from '../route/routeDecision';
import { DEFAULT_RETRY_POLICY, decideRetry, type RetryPolicy } from '../providers/retryPolicy';
import {
  ProviderError,
  messageText,
  type ChatMessage,
  type ChatProvider,
  type ChatRequest,
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
  /** 1 for the first try of this model, 2 for its first retry, … */
  attemptNumber?: number;
  errorKind?: ProviderErrorKind;
  inputTokens: number;
  outputTokens: number;
  usageEstimated: boolean;
  /** How estimated tokens were counted: a tokenizer's name, or absent for the rough character estimate. */
  usageEstimatedBy?: string;
  latencyMs: number;
  /** Time to the first streamed text, when any arrived. */
  firstTextMs?: number;
  /** Premium requests used, for providers that bill in them (`vscode-lm`); dollars are priced from the tokens. */
  premiumRequests?: number;
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
  /** Tools the model may call (a chat request in agent mode), passed to every model of the chain. */
  tools?: ChatRequest['tools'];
  toolMode?: ChatRequest['toolMode'];
  provider: ChatProvider;
  onText: (delta: string) => void;
  signal: AbortSignal;
  logger: Logger;
  now?: () => number;
  /** Counts tokens the provider did not report (the real tokenizer); without it the rough estimate stays. */
  tokens?: TokenCounter;
}

function formatAttempt(a: Attempt): string {
  const how = a.usageEstimatedBy ? ` by ${a.usageEstimatedBy}` : '';
  const tokens = `in=${a.inputTokens} out=${a.outputTokens}${a.usageEstimated ? ` (estimated${how})` : ''}`;
  const ttft = a.firstTextMs === undefined ? '' : ` first=${Math.round(a.firstTextMs)}ms`;
  const error = a.errorKind ? ` error=${a.errorKind}` : '';
  const premium = a.premiumRequests === undefined ? '' : ` premium=${a.premiumRequests}`;
  return `${a.task} model=${a.modelId} provider=${a.providerId} status=${a.status}${error} ${tokens}${premium} latency=${Math.round(a.latencyMs)}ms${ttft} id=${a.requestId}`;
}

/**
 * Replaces the provider's rough estimate (about four characters a token) with the real
 * tokenizer's count of the prompt and of the text produced. A counter that fails leaves the rough
 * estimate, still marked estimated.
 */
async function recount(outcome: AttemptResult, input: ChatAttemptInput): Promise<void> {
  const usage = outcome.result?.usage ?? outcome.error?.partial?.usage;
  if (!usage || usage.estimatedBy === 'model' || !input.tokens) return;
  const answer = outcome.result ?? outcome.error?.partial;
  // The tool calls a model made are output too.
  const produced = answer ? messageText({ role: 'assistant', content: answer.text, toolCalls: answer.toolCalls }) : '';
  try {
    const counts = await input.tokens.count([...messageTexts(input.messages), produced]);
    const output = counts.pop() ?? 0;
    outcome.attempt.inputTokens = inputTokensFrom(counts);
    outcome.attempt.outputTokens = output;
    outcome.attempt.usageEstimatedBy = input.tokens.name;
  } catch (error) {
    input.logger.warn(`token count failed, keeping the rough estimate: ${error instanceof Error ? error.message : String(error)}`);
  }
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
      { model: chosen.model.name, messages: input.messages, maxOutputTokens: input.maxOutputTokens, tools: input.tools, toolMode: input.toolMode },
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
        premiumRequests: result.premiumRequests,
      },
    };
  } catch (caught) {
    const error =
      caught instanceof ProviderError
        ? caught
        : new ProviderError('bad-response', caught instanceof Error ? caught.message : String(caught));
    // A service that answered with an HTTP error did no work on the prompt and bills nothing.
    const usage = error.status !== undefined ? { inputTokens: 0, outputTokens: 0, estimated: false } : error.partial?.usage;
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
        premiumRequests: error.partial?.premiumRequests,
      },
    };
  }
  if (outcome.attempt.usageEstimated && input.tokens) await recount(outcome, input);
  const line = formatAttempt(outcome.attempt);
  if (outcome.attempt.status === 'error') input.logger.warn(`${line}: ${outcome.error?.message ?? ''}`);
  else input.logger.info(line);
  return outcome;
}

export interface ChatRunInput extends Omit<ChatAttemptInput, 'provider' | 'decision'> {
  decision: RouteDecision;
  /**
   * The provider client for one call: a model of the chain (the chosen one, then each fallback)
   * at the deployment picked for this attempt (its `provider` and `model.name`).
   */
  providerFor: (routed: RoutedModel) => ChatProvider;
  /** Endpoint health and load, shared by every request of the host; a private one when absent. */
  health?: ProviderHealth;
  policy?: RetryPolicy;
  random?: () => number;
  /** Waits before a retry; resolves early (and the run stops) when the signal aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface ChatRunResult {
  /** Every attempt, in order: retries and fallbacks included. */
  attempts: Attempt[];
  result?: ChatResult;
  /** The model that answered. */
  answeredBy?: RoutedModel;
  /** The last failure when no model answered. */
  error?: ProviderError;
}

/** Waits `ms`, or less when `signal` aborts first (it resolves then, never rejects). */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function deploymentsOf(routed: RoutedModel): RoutedDeployment[] {
  return routed.deployments ?? [{ key: `${routed.provider.id}/${routed.model.name}`, provider: routed.provider, name: routed.model.name, weight: 1 }];
}

/** A healthy deployment of the model, preferring another one than the deployment that just failed. */
function acquire(routed: RoutedModel, health: ProviderHealth, avoid: string | undefined): EndpointLease<RoutedDeployment> | undefined {
  const request = { group: routed.model.id, deployments: deploymentsOf(routed), policy: routed.model.balance, ...health };
  return (avoid && acquireEndpoint({ ...request, isAvailable: (d) => d.key !== avoid })) || acquireEndpoint(request);
}

/**
 * Runs the decision's chain: the chosen model, retried on rate limits, server errors and dropped
 * connections (with backoff, honouring Retry-After, never once text has reached the user), then
 * each fallback in order. Each attempt goes to a deployment of the model picked by its balancing
 * policy among those whose circuit is closed; a model with none is skipped. A model outside the
 * request's privacy class is never called, whatever the chain says. The one retry loop of the
 * product: provider SDKs have theirs turned off.
 */
export async function runChat(input: ChatRunInput): Promise<ChatRunResult> {
  const attempts: Attempt[] = [];
  const random = input.random ?? Math.random;
  const sleep = input.sleep ?? abortableSleep;
  const health = input.health ?? new ProviderHealth();
  const { task, requestId, privacy } = input.decision;
  let delivered = false;
  const onText = (delta: string) => {
    delivered = true;
    input.onText(delta);
  };
  let lastError: ProviderError | undefined;
  for (const routed of [input.decision.chosen, ...input.decision.fallbacks]) {
    if (!allowedFor(privacy, routed.model)) {
      input.logger.warn(`${task}: ${routed.model.id} skipped: the request is ${privacy} and the model is not tagged local id=${requestId}`);
      continue;
    }
    let waitedMs = 0;
    let failedKey: string | undefined;
    for (let attemptNumber = 1; ; attemptNumber++) {
      const lease = acquire(routed, health, failedKey);
      if (!lease) {
        lastError = new ProviderError('unavailable', `Every endpoint of ${routed.model.id} is resting after repeated failures.`);
        attempts.push(unavailableAttempt(input.decision, routed, attemptNumber));
        input.logger.warn(`${task}: ${routed.model.id} skipped: ${lastError.message} id=${requestId}`);
        break;
      }
      const target: RoutedModel = { ...routed, model: { ...routed.model, name: lease.deployment.name }, provider: lease.deployment.provider };
      let outcome: AttemptResult | undefined;
      try {
        outcome = await runChatAttempt({ ...input, decision: { ...input.decision, chosen: target }, provider: input.providerFor(target), onText });
      } finally {
        lease.settle(outcome?.result ? { ok: true } : { ok: false, kind: outcome?.error?.kind ?? 'bad-response' });
      }
      attempts.push({ ...outcome.attempt, attemptNumber });
      if (outcome.result) return { attempts, result: outcome.result, answeredBy: target };
      lastError = outcome.error;
      failedKey = lease.deployment.key;
      if (!lastError || lastError.kind === 'cancelled' || input.signal.aborted) return { attempts, error: lastError };
      const verdict = decideRetry({
        kind: lastError.kind,
        attempt: attemptNumber,
        waitedMs,
        outputDelivered: delivered,
        retryAfterMs: lastError.retryAfterMs,
        policy: input.policy ?? DEFAULT_RETRY_POLICY,
        random,
      });
      if (!verdict.retry) {
        input.logger.info(`${task}: no retry of ${routed.model.id} (${verdict.why}) id=${requestId}`);
        break;
      }
      await sleep(verdict.delayMs, input.signal);
      waitedMs += verdict.delayMs;
      if (input.signal.aborted) return { attempts, error: new ProviderError('cancelled', 'The request was cancelled.') };
    }
    // Once the user has seen part of an answer, another model would start a different one.
    if (delivered) break;
  }
  return { attempts, error: lastError };
}

function unavailableAttempt(decision: RouteDecision, routed: RoutedModel, attemptNumber: number): Attempt {
  return {
    requestId: decision.requestId,
    task: decision.task,
    modelId: routed.model.id,
    providerId: routed.provider.id,
    status: 'error',
    attemptNumber,
    errorKind: 'unavailable',
    inputTokens: 0,
    outputTokens: 0,
    usageEstimated: false,
    latencyMs: 0,
  };
}
