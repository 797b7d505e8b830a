import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { estimateTokens } from '../../core/providers/chatProvider';
import { buildExplainMessages } from '../../core/prompts/explainPrompt';
import { findExplainTarget, type ExplainTarget } from '../../core/prompts/explainTarget';
import { footerFor } from '../../core/actions/answerFooter';
import { attemptCost, callModel, reportFailure, routeAction, type ActionResult, type RouteRequest } from '../actions/actionPipeline';
import type { CodeRouteContext } from '../coderouteContext';
import { requestContextFromEditor } from '../requestContextFromEditor';
import { OPEN_LOG, showUserError } from '../ui/userErrors';

/** What Explain Selection reports to its caller (the shared action result). */
export type ExplainCommandResult = ActionResult;

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

/**
 * CodeRoute: Explain Selection. Explains the selection (or the function around the cursor) with
 * the model routed for `explain`, streaming into a read-only Markdown document beside the editor.
 * Never throws: every failure becomes one message with an action and a result the caller can read.
 */
export async function explainSelection(ctx: CodeRouteContext, options: Pick<RouteRequest, 'restrict' | 'rejected' | 'onSend'> = {}): Promise<ExplainCommandResult> {
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
    const routed = await routeAction(ctx, {
      editor,
      request,
      task: 'explain',
      classification,
      directives,
      tokens: { input: estimateTokens(request.text) + 300, output: Math.min(settings.request.maxOutputTokens, 800) },
      restrict: options.restrict,
      rejected: options.rejected,
    });
    if ('result' in routed) return routed.result;
    const { decision } = routed;
    const { model } = decision.chosen;
    ctx.rememberAction({ task: 'explain', documentUri: editor.document.uri.toString(), selection: editor.selection, requestId, decision });

    const target = findExplainTarget(request, classification);
    const messages = buildExplainMessages(request, target);
    const { title, header } = describeTarget(target, request.path);
    const document = ctx.explainDocuments.create(requestId, title, header);
    await vscode.window.showTextDocument(document.uri, {
      viewColumn: vscode.ViewColumn.Beside,
      preserveFocus: true,
      preview: true,
    });
    const called = await callModel(ctx, decision, messages, `CodeRoute: explaining with ${model.id}…`, (delta) => document.append(delta), { onSend: options.onSend });
    if ('refused' in called) {
      document.finish(`_Nothing was sent: ${called.refused}_`);
      return { task: 'explain', requestId, modelId: model.id, documentUri: document.uri.toString(), status: 'blocked' };
    }
    document.finish(`${footerFor(called.last, called.decision, attemptCost(ctx, called.last))}  \n_Rate this answer with **CodeRoute: Good Answer** 👍 or **Bad Answer** 👎 from the command palette (or this view's title bar once it has focus); **Retry with a Stronger Model** asks another model, no weaker._`);
    const base: ExplainCommandResult = { task: 'explain', requestId, modelId: called.decision.chosen.model.id, documentUri: document.uri.toString(), difficulty: classification.difficulty, status: 'ok' };
    return reportFailure(ctx, called.decision, called, base) ?? base;
  } catch (error) {
    ctx.log.error(`explain: unexpected failure id=${requestId}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    showUserError('CodeRoute could not explain the selection.', OPEN_LOG);
    return { status: 'error', requestId, errorKind: 'internal' };
  }
}
