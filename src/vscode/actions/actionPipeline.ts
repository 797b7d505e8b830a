import { costSampleFor } from '../../core/spend/charges';
import * as vscode from 'vscode';
import { runChat, type Attempt, type ChatRunResult } from '../../core/actions/runChatAttempt';
import type { Classification } from '../../core/classify/classification';
import { providerEndpoint } from '../../core/config/settingsSchema';
import type { RequestContext, Task } from '../../core/context/requestContext';
import type { FileDirectives } from '../../core/policy/fileDirectives';
import type { ChatMessage, ChatRequest, ProviderErrorKind } from '../../core/providers/chatProvider';
import { decisionLogLine, decisionRecord } from '../../core/route/decisionRecord';
import { RouteError, type RouteDecision } from '../../core/route/routeDecision';
import { RouteRefusal, route } from '../../core/route/router';
import { attemptCostUsd } from '../../core/route/budgetState';
import { toAbortSignal } from '../cancellation';
import type { CodeRouteContext } from '../coderouteContext';
import { chatProviderFor } from '../providers/chatProviderFor';
import { reserveBudget } from '../spend/budgetGate';
import { missingKeyError, noModelError, settingError } from '../ui/setupErrors';
import { OPEN_LOG, showUserError, type ErrorAction } from '../ui/userErrors';

/** What an action reports to its caller (keybindings ignore it; tests and other commands read it). */
export interface ActionResult {
  status: 'ok' | 'error' | 'cancelled' | 'no-editor' | 'blocked' | 'accepted' | 'discarded' | 'no-code';
  task?: Task;
  requestId?: string;
  modelId?: string;
  errorKind?: ProviderErrorKind | 'config' | 'missing-key' | 'no-model' | 'internal';
  documentUri?: string;
  /** The classifier's difficulty for the request, 0..1. */
  difficulty?: number;
  /** The message shown when the request could not be sent for a settings or key problem, and its actions. */
  message?: string;
  actions?: string[];
}

/** Shows a message with its actions, and the result that says what was shown. */
function shownError(result: ActionResult, message: string, actions: ErrorAction[]): ActionResult {
  showUserError(message, ...actions);
  return { ...result, message, actions: actions.map((a) => a.label) };
}

/** What an attempt cost in dollars; undefined when its model's price is unknown. */
export function attemptCost(ctx: CodeRouteContext, attempt: Attempt): number | undefined {
  return attemptCostUsd(attempt, ctx.settings.current.settings, ctx.prices);
}

/** What to tell the user when a call failed this way, and the actions that fix it. */
export function errorFor(kind: ProviderErrorKind, decision: RouteDecision): { message: string; actions: ErrorAction[] } {
  const { model, provider } = decision.chosen;
  switch (kind) {
    case 'auth':
      return { message: `${provider.id} rejected the API key.`, actions: [{ label: 'Set API Key', providerId: provider.id }, OPEN_LOG] };
    case 'forbidden':
      return { message: `${provider.id} refused access to ${model.name}.`, actions: [OPEN_LOG] };
    case 'not-found':
      return {
        message: `${provider.id} does not know the model "${model.name}" (or the base URL is wrong).`,
        actions: [{ label: 'Open Settings', query: 'coderoute.models' }, OPEN_LOG],
      };
    case 'connection':
      return {
        message: `Could not reach ${provider.id} at ${providerEndpoint(provider)}.`,
        actions: [OPEN_LOG, { label: 'Open Settings', query: 'coderoute.providers' }],
      };
    case 'timeout':
      return {
        message: `${model.id} did not answer in time.`,
        actions: [OPEN_LOG, { label: 'Open Settings', query: 'coderoute.request' }],
      };
    case 'redirect':
      return {
        message: `${provider.id} redirected the request; CodeRoute does not follow redirects, so nothing was sent elsewhere.`,
        actions: [{ label: 'Open Settings', query: 'coderoute.providers' }, OPEN_LOG],
      };
    case 'rate-limit':
      return { message: `${provider.id} is rate-limiting requests; try again shortly.`, actions: [OPEN_LOG] };
    default:
      return { message: `${model.id} failed (${kind}).`, actions: [OPEN_LOG] };
  }
}


export interface RouteRequest {
  editor: vscode.TextEditor;
  request: RequestContext;
  task: Task;
  classification: Classification;
  directives: FileDirectives;
  /** Expected tokens, for the cost estimate. */
  tokens: { input: number; output: number };
  /**
   * Keep only these models (for example: none weaker than the last answer's); undefined keeps all.
   * With `rejected`, it must also leave out the models the decision lists as rejected.
   */
  restrict?: (decision: RouteDecision) => RouteDecision | string;
  /** Models whose answers to this same request were rejected (a retry): left out, and the estimates know it. */
  rejected?: readonly string[];
  /** Called just before the request is sent, never when it is not (a retry records its rejection then). */
  onSend?: () => void;
}

/** Answers a user is taken to ask for one action at most: the first and two retries. */
const ACTION_ATTEMPTS = 3;

/** The decision, or undefined where routing refuses or fails. */
function routeOrUndefined(decide: () => RouteDecision): RouteDecision | undefined {
  try {
    return decide();
  } catch {
    return undefined;
  }
}

/**
 * Routes an action's request and checks it can be sent: the decision, or the result to return
 * when it cannot (a refusal, a settings problem, a missing key), with the message already shown.
 * Remembers the decision for "Why This Model?" and logs it.
 */
export async function routeAction(ctx: CodeRouteContext, r: RouteRequest): Promise<{ decision: RouteDecision } | { result: ActionResult }> {
  const { request, task } = r;
  const requestId = request.requestId;
  const { learning } = ctx.settings.current.settings;
  const estimator = learning.enabled ? await ctx.learning.ready() : undefined;
  const routeWith = (rejected: readonly string[] | undefined) =>
    route({
      requestId,
      task,
      classification: r.classification,
      languageId: request.languageId,
      path: request.path,
      directives: r.directives,
      policy: ctx.policy(),
      budget: ctx.budgetState(),
      prices: ctx.prices,
      tokens: r.tokens,
      estimator,
      explore: learning.explore,
      rejected,
      // The first answer and up to two retries (Retry with a Stronger Model): a cheap first try
      // is worth what an escalation after a rejection would bring.
      attemptsLeft: learning.enabled ? Math.max(1, ACTION_ATTEMPTS - (rejected?.length ?? 0)) : 1,
    });
  if (ctx.settings.current.settings.models.length === 0) {
    ctx.log.info(`${task}: no model is configured id=${requestId}`);
    const { message, actions } = noModelError(task);
    return { result: shownError({ status: 'error', task, requestId, errorKind: 'no-model' }, message, actions) };
  }
  let decision: RouteDecision;
  try {
    decision = routeWith(r.rejected);
  } catch (error) {
    // When only the rejected models could take the request, the restriction says there is nothing left.
    const withoutRejected = error instanceof RouteRefusal && r.rejected?.length && r.restrict ? routeOrUndefined(() => routeWith(undefined)) : undefined;
    if (withoutRejected) {
      decision = { ...withoutRejected, rejected: [...(r.rejected ?? [])] };
    } else if (error instanceof RouteRefusal) {
      ctx.log.info(`${task}: refused (${error.reason}) id=${requestId}`);
      void vscode.window.showWarningMessage(error.message);
      return { result: { status: 'blocked', task, requestId } };
    } else {
      if (!(error instanceof RouteError)) throw error;
      ctx.log.warn(`${task}: ${error.message} id=${requestId}`);
      const { message, actions } = settingError(error.message, error.setting);
      return { result: shownError({ status: 'error', task, requestId, errorKind: 'config' }, message, actions) };
    }
  }
  if (r.restrict) {
    const restricted = r.restrict(decision);
    if (typeof restricted === 'string') {
      void vscode.window.showInformationMessage(restricted);
      return { result: { status: 'blocked', task, requestId } };
    }
    decision = restricted;
  }
  ctx.decisions.remember(r.editor.document.uri.toString(), decision, `${task} in ${request.path}`);
  ctx.log.info(decisionLogLine(decisionRecord(decision)));
  const { model, provider } = decision.chosen;
  if (provider.auth === 'apiKey' && !(await ctx.apiKeys.get(provider.id))) {
    const { message, actions } = missingKeyError(task, decision);
    ctx.log.warn(`${task}: no API key for ${provider.id} (model ${model.id}) id=${requestId}`);
    return { result: shownError({ status: 'error', task, requestId, modelId: model.id, errorKind: 'missing-key' }, message, actions) };
  }
  return { decision };
}

/** How a caller other than an editor action calls: the chat, with its own cancellation and tools. */
export interface CallOptions {
  /** Cancels the call; with it, no progress notification and no budget message is shown (the caller reports). */
  token?: vscode.CancellationToken;
  tools?: ChatRequest['tools'];
  toolMode?: ChatRequest['toolMode'];
  /** The output allowance; `coderoute.request.maxOutputTokens` by default. */
  maxOutputTokens?: number;
  /** Called once the request is cleared to go (budgets reserved), just before anything is sent. */
  onSend?: () => void;
}

/**
 * Calls the decision's chain with progress and cancellation, streaming to `onText`; records every
 * attempt. Keys are read once for every provider the chain may reach.
 */
export async function callModel(
  ctx: CodeRouteContext,
  routedDecision: RouteDecision,
  messages: ChatMessage[],
  title: string,
  onText: (delta: string) => void,
  options: CallOptions = {},
): Promise<{ outcome: ChatRunResult; last: Attempt; decision: RouteDecision } | { refused: string }> {
  const { settings } = ctx.settings.current;
  const maxOutputTokens = options.maxOutputTokens ?? settings.request.maxOutputTokens;
  // The budgets first: the most the call can cost is held in the ledger until it settles.
  const reservation = await reserveBudget(ctx, routedDecision, messages, maxOutputTokens).catch((error: unknown) => ({
    // A ledger that cannot be read or locked: nothing may be sent unaccounted.
    refused: `CodeRoute could not check the budgets (${error instanceof Error ? error.message : String(error)}); nothing was sent.`,
  }));
  if ('refused' in reservation) {
    ctx.log.info(`${routedDecision.task}: refused by a budget: ${reservation.refused} id=${routedDecision.requestId}`);
    if (options.token) return { refused: reservation.refused };
    void vscode.window.showWarningMessage(reservation.refused, 'Show Spend', 'Budget Settings').then((choice) => {
      if (choice === 'Show Spend') void vscode.commands.executeCommand('coderoute.showSpend');
      if (choice === 'Budget Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'coderoute.budget');
    });
    return { refused: reservation.refused };
  }
  const { decision } = reservation;
  options.onSend?.();
  const providerIds = new Set([decision.chosen, ...decision.fallbacks].flatMap((r) => (r.deployments ?? [r]).map((d) => d.provider.id)));
  const keys = new Map(await Promise.all([...providerIds].map(async (id) => [id, await ctx.apiKeys.get(id)] as const)));
  const run = async (token: vscode.CancellationToken) => {
      // Cancelled by the caller (the notification, the chat), or by CodeRoute: Cancel Running Requests.
      const source = new vscode.CancellationTokenSource();
      if (token.isCancellationRequested) source.cancel();
      const linked = token.onCancellationRequested(() => source.cancel());
      ctx.running.add(source);
      const abort = toAbortSignal(source.token);
      try {
        return await runChat({
          decision,
          messages,
          maxOutputTokens,
          tools: options.tools,
          toolMode: options.toolMode,
          providerFor: (routed) => chatProviderFor(routed, keys.get(routed.provider.id), settings, ctx.providerClients),
          onText,
          signal: abort.signal,
          logger: ctx.log,
          health: ctx.providerHealth,
          tokens: ctx.tokenCounter,
        });
      } finally {
        abort.dispose();
        linked.dispose();
        ctx.running.delete(source);
        source.dispose();
      }
  };
  const outcome = options.token
    ? await run(options.token)
    : await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: decision === routedDecision ? title : `${title} (stepped down to ${decision.chosen.model.id})`, cancellable: true },
        (_progress, token) => run(token),
      );
  await reservation.settle(outcome);
  outcome.attempts.forEach((attempt) => ctx.history.record(attempt, Date.now()));
  // The user's verdict on the answer counts for the model that gave it: a fallback, when the chosen one failed.
  if (outcome.result && outcome.answeredBy && decision.estimateContext && ctx.settings.current.settings.learning.enabled) {
    const { settings } = ctx.settings.current;
    const cost = costSampleFor(decision, outcome, { prices: ctx.prices, catalogue: settings, unknown: settings.budget.unknownPrice });
    ctx.learning.learner.record(decision.requestId, outcome.answeredBy.model.id, decision.estimateContext, cost);
  }
  return { outcome, last: outcome.attempts[outcome.attempts.length - 1], decision };
}

/** Shows the failure of a call, if it failed, with the action that fixes it; the result to return. */
export function reportFailure(ctx: CodeRouteContext, decision: RouteDecision, called: { outcome: ChatRunResult; last: Attempt }, base: ActionResult): ActionResult | undefined {
  const { outcome, last } = called;
  if (!outcome.error || last.status !== 'error') return outcome.result ? undefined : { ...base, status: 'cancelled' };
  // VS Code's language models have no URL or key to check: their errors say what to do instead.
  const { settings } = ctx.settings.current;
  const { message, actions } =
    settings.providers.find((p) => p.id === last.providerId)?.kind === 'vscode-lm' ? { message: outcome.error.message, actions: [OPEN_LOG] } : errorFor(outcome.error.kind, decision);
  showUserError(message, ...actions);
  return { ...base, status: 'error', errorKind: outcome.error.kind };
}
