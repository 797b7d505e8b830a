import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { runChat, type Attempt } from '../../core/actions/runChatAttempt';
import { estimateTokens, type ProviderErrorKind } from '../../core/providers/chatProvider';
import { buildExplainMessages } from '../../core/prompts/explainPrompt';
import { findExplainTarget, type ExplainTarget } from '../../core/prompts/explainTarget';
import { decisionLogLine, decisionRecord } from '../../core/route/decisionRecord';
import { RouteError, type RouteDecision } from '../../core/route/routeDecision';
import { RouteRefusal, route } from '../../core/route/router';
import { providerEndpoint } from '../../core/config/settingsSchema';
import { toAbortSignal } from '../cancellation';
import { chatProviderFor } from '../providers/chatProviderFor';
import type { CodeRouteContext } from '../coderouteContext';
import { requestContextFromEditor } from '../requestContextFromEditor';
import { OPEN_LOG, showUserError, type ErrorAction } from '../ui/userErrors';

/** What the command reports to its caller (keybindings ignore it; tests and other commands read it). */
export interface ExplainCommandResult {
  status: 'ok' | 'error' | 'cancelled' | 'no-editor' | 'blocked';
  requestId?: string;
  modelId?: string;
  errorKind?: ProviderErrorKind | 'config' | 'missing-key' | 'internal';
  documentUri?: string;
  /** The classifier's difficulty for the explained code, 0..1. */
  difficulty?: number;
}

function describeTarget(target: ExplainTarget, path: string): { title: string; header: string } {
  const lines = target.startLine === target.endLine ? `L${target.startLine + 1}` : `L${target.startLine + 1}-${target.endLine + 1}`;
  const name = target.unitName ? ` \`${target.unitName}\`` : '';
  const base = path.split(/[\\/]/).pop() ?? path;
  const what =
    target.source === 'selection'
      ? 'selection'
      : target.source === 'enclosing-unit'
        ? `${(target.unitKind ?? 'unit').replace(/_/g, ' ')}${name}`
        : 'lines around the cursor';
  return { title: `Explain ${base} ${lines}`, header: `# Explain ${what} in \`${path}\` ${lines}` };
}

function footerFor(attempt: Attempt, decision: RouteDecision): string {
  const tokens = `${attempt.inputTokens} in / ${attempt.outputTokens} out tokens${attempt.usageEstimated ? ' (estimated)' : ''}`;
  const seconds = (attempt.latencyMs / 1000).toFixed(1);
  const status = attempt.status === 'ok' ? '' : attempt.status === 'cancelled' ? ' · cancelled' : ` · failed (${attempt.errorKind})`;
  const premium =
    attempt.premiumRequests === undefined ? '' : ` · ${attempt.premiumRequests} premium request${attempt.premiumRequests === 1 ? '' : 's'}`;
  return `_${attempt.modelId} via ${attempt.providerId} · ${tokens}${premium} · ${seconds} s${status}_  \n_${decision.reason}_`;
}

function errorFor(kind: ProviderErrorKind, decision: RouteDecision): { message: string; actions: ErrorAction[] } {
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
      return { message: `${model.id} failed to explain the code (${kind}).`, actions: [OPEN_LOG] };
  }
}

/**
 * CodeRoute: Explain Selection. Explains the selection (or the function around the cursor) with
 * the model routed for `explain`, streaming into a read-only Markdown document beside the editor.
 * Never throws: every failure becomes one message with an action and a result the caller can read.
 */
export async function explainSelection(ctx: CodeRouteContext): Promise<ExplainCommandResult> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage('Open a file and select the code to explain.');
    return { status: 'no-editor' };
  }
  const requestId = randomUUID();
  try {
    const request = requestContextFromEditor(editor, 'explain', requestId, ctx.documentTexts);
    const { settings } = ctx.settings.current;
    const directives = await ctx.classifier.directives(request);
    const classification = await ctx.classifier.classify(request, 'explain');
    ctx.log.info(`explain: difficulty ${classification.difficulty}; ${classification.reason} id=${requestId}`);
    let decision: RouteDecision;
    try {
      decision = route({
        requestId,
        task: 'explain',
        classification,
        languageId: request.languageId,
        path: request.path,
        directives,
        policy: ctx.policy(),
        budget: ctx.budgetState(),
        prices: ctx.prices,
        tokens: { input: estimateTokens(request.text) + 300, output: Math.min(settings.request.maxOutputTokens, 800) },
      });
    } catch (error) {
      if (error instanceof RouteRefusal) {
        ctx.log.info(`explain: refused (${error.reason}) id=${requestId}`);
        void vscode.window.showWarningMessage(error.message);
        return { status: 'blocked', requestId };
      }
      if (!(error instanceof RouteError)) throw error;
      ctx.log.warn(`explain: ${error.message} id=${requestId}`);
      showUserError(error.message, { label: 'Open Settings', query: error.setting }, OPEN_LOG);
      return { status: 'error', requestId, errorKind: 'config' };
    }
    ctx.decisions.remember(editor.document.uri.toString(), decision, `explain in ${request.path}`);
    ctx.log.info(decisionLogLine(decisionRecord(decision)));
    const { model, provider } = decision.chosen;
    const apiKey = provider.auth === 'apiKey' ? await ctx.apiKeys.get(provider.id) : undefined;
    if (provider.auth === 'apiKey' && !apiKey) {
      showUserError(`No API key is set for ${provider.id}.`, { label: 'Set API Key', providerId: provider.id });
      return { status: 'error', requestId, modelId: model.id, errorKind: 'missing-key' };
    }

    const target = findExplainTarget(request, classification);
    const messages = buildExplainMessages(request, target);
    const { title, header } = describeTarget(target, request.path);
    const document = ctx.explainDocuments.create(requestId, title, header);
    await vscode.window.showTextDocument(document.uri, {
      viewColumn: vscode.ViewColumn.Beside,
      preserveFocus: true,
      preview: true,
    });

    // Keys for every provider in the chain, read once; the chain only reaches providers that have one.
    const providerIds = new Set([decision.chosen, ...decision.fallbacks].flatMap((r) => (r.deployments ?? [r]).map((d) => d.provider.id)));
    const keys = new Map(await Promise.all([...providerIds].map(async (id) => [id, await ctx.apiKeys.get(id)] as const)));
    const outcome = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `CodeRoute: explaining with ${model.id}…`, cancellable: true },
      async (_progress, token) => {
        const abort = toAbortSignal(token);
        try {
          return await runChat({
            decision,
            messages,
            maxOutputTokens: settings.request.maxOutputTokens,
            providerFor: (routed) => chatProviderFor(routed, keys.get(routed.provider.id), settings, ctx.providerClients),
            onText: (delta) => document.append(delta),
            signal: abort.signal,
            logger: ctx.log,
            health: ctx.providerHealth,
            tokens: ctx.tokenCounter,
          });
        } finally {
          abort.dispose();
        }
      },
    );
    const last = outcome.attempts[outcome.attempts.length - 1];
    document.finish(footerFor(last, decision));
    outcome.attempts.forEach((attempt) => ctx.history.record(attempt, Date.now()));
    const base = { requestId, modelId: model.id, documentUri: document.uri.toString(), difficulty: classification.difficulty };
    if (outcome.error && last.status === 'error') {
      // VS Code's language models have no URL or key to check: their errors say what to do instead.
      const { message, actions } =
        settings.providers.find((p) => p.id === last.providerId)?.kind === 'vscode-lm'
          ? { message: outcome.error.message, actions: [OPEN_LOG] }
          : errorFor(outcome.error.kind, decision);
      showUserError(message, ...actions);
      return { ...base, status: 'error', errorKind: outcome.error.kind };
    }
    return { ...base, status: outcome.result ? 'ok' : 'cancelled' };
  } catch (error) {
    ctx.log.error(`explain: unexpected failure id=${requestId}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    showUserError('CodeRoute could not explain the selection.', OPEN_LOG);
    return { status: 'error', requestId, errorKind: 'internal' };
  }
}
