import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { estimateTokens } from '../../core/providers/chatProvider';
import { extractCode, reindent } from '../../core/prompts/codeExtraction';
import { PromptTooLargeError, buildEditMessages } from '../../core/prompts/editPrompts';
import { findEditTarget } from '../../core/prompts/editTarget';
import type { RouteDecision } from '../../core/route/routeDecision';
import { footerFor } from '../../core/actions/answerFooter';
import { attemptCost, callModel, reportFailure, routeAction, type ActionResult } from '../actions/actionPipeline';
import type { CodeRouteContext } from '../coderouteContext';
import { requestContextFromEditor } from '../requestContextFromEditor';
import { OPEN_LOG, showUserError } from '../ui/userErrors';

export type EditTask = 'format' | 'generate' | 'debug';

export interface ActionOptions {
  /** Generate: the instruction, instead of asking for one (tests, Do What I Mean, retries). */
  instruction?: string;
  /** Keeps only some models of the decision (Retry with a Stronger Model). */
  restrict?: (decision: RouteDecision) => RouteDecision | string;
  /** Models whose answers to this request were rejected (Retry with a Stronger Model). */
  rejected?: readonly string[];
  /** Called just before the request is sent, never when nothing is (Retry with a Stronger Model). */
  onSend?: () => void;
}

const VERBS: Record<EditTask, { doing: string; title: string }> = {
  format: { doing: 'tidying', title: 'Format / Tidy' },
  generate: { doing: 'generating', title: 'Generate' },
  debug: { doing: 'fixing', title: 'Debug / Fix' },
};

/**
 * Format / Tidy, Generate and Debug / Fix: classify, route, ask the model for a replacement of the
 * target lines, and show it as a diff that changes the file only on Accept. Never throws; the
 * result says what happened.
 */
export async function runEditAction(ctx: CodeRouteContext, task: EditTask, options: ActionOptions = {}): Promise<ActionResult> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage(`Open a file to use ${VERBS[task].title}.`);
    return { status: 'no-editor', task };
  }
  const requestId = randomUUID();
  try {
    const request = requestContextFromEditor(editor, task, requestId, ctx.documentTexts);
    const { settings } = ctx.settings.current;
    const directives = await ctx.classifier.directives(request);
    const classification = await ctx.classifier.classify(request, task);
    ctx.log.info(`${task}: difficulty ${classification.difficulty}; ${classification.reason} id=${requestId}`);
    const target = findEditTarget(request, classification, task);
    let instruction = options.instruction;
    if (task === 'generate' && instruction === undefined && !target.instructionComment && target.source !== 'enclosing-unit') {
      instruction = await vscode.window.showInputBox({
        title: 'CodeRoute: Generate',
        prompt: 'Describe the code to write at the cursor',
        placeHolder: 'for example: parse an ISO date and return null when it is invalid',
        ignoreFocusOut: true,
      });
      if (!instruction?.trim()) return { status: 'cancelled', task, requestId };
    }
    const routed = await routeAction(ctx, {
      editor,
      request,
      task,
      classification,
      directives,
      tokens: { input: estimateTokens(target.code) * 2 + 500, output: Math.min(settings.request.maxOutputTokens, estimateTokens(target.code) + 400) },
      restrict: options.restrict,
      rejected: options.rejected,
    });
    if ('result' in routed) return routed.result;
    const { decision } = routed;
    const { model } = decision.chosen;
    ctx.rememberAction({ task, documentUri: editor.document.uri.toString(), selection: editor.selection, requestId, decision, instruction });

    const built = await buildEditMessages({
      task,
      ctx: request,
      classification,
      target,
      instruction,
      contextWindow: model.contextWindow,
      maxOutputTokens: settings.request.maxOutputTokens,
      tokens: ctx.tokenCounter,
    }).catch((error: unknown) => {
      if (error instanceof PromptTooLargeError) return error;
      throw error;
    });
    if (built instanceof PromptTooLargeError) {
      void vscode.window.showWarningMessage(built.message);
      return { status: 'blocked', task, requestId, modelId: model.id };
    }
    if (built.trimmed.length > 0) ctx.log.info(`${task}: trimmed to fit ${model.id}'s context window: ${built.trimmed.join(', ')} id=${requestId}`);
    const called = await callModel(ctx, decision, built.messages, `CodeRoute: ${VERBS[task].doing} with ${model.id}…`, () => undefined, { onSend: options.onSend });
    if ('refused' in called) return { task, requestId, modelId: model.id, status: 'blocked' };
    const base: ActionResult = { task, requestId, modelId: called.last.modelId, difficulty: classification.difficulty, status: 'ok' };
    const failed = reportFailure(ctx, called.decision, called, base);
    if (failed) return failed;
    const answer = called.outcome.result?.text ?? '';
    const extracted = extractCode(answer);
    if (!extracted) {
      showUserError(`${called.last.modelId} answered without code to apply.`, OPEN_LOG);
      ctx.log.warn(`${task}: no code in the answer (${answer.length} characters) id=${requestId}`);
      return { ...base, status: 'no-code' };
    }
    // The lines the answer replaces: the target, or its first lines when the code had to be cut to fit.
    const replaced = built.target;
    const replacement = reindent(extracted.code, replaced.indent);
    const footer = footerFor(called.last, called.decision, attemptCost(ctx, called.last)).replace(/_/g, '');
    const proposal = await ctx.proposals.propose({
      documentUri: editor.document.uri,
      startLine: replaced.startLine,
      endLine: replaced.endLine,
      replacement,
      requestId,
      task,
      modelId: called.last.modelId,
      title: `CodeRoute ${VERBS[task].title} — ${called.last.modelId}`,
      footer,
    });
    return { ...base, status: proposal.outcome === 'discarded' ? 'discarded' : 'accepted' };
  } catch (error) {
    ctx.log.error(`${task}: unexpected failure id=${requestId}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    showUserError(`CodeRoute could not complete ${VERBS[task].title}.`, OPEN_LOG);
    return { status: 'error', task, requestId, errorKind: 'internal' };
  }
}
