import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import type { ModelConfig } from '../../core/config/settingsSchema';
import type { RouteDecision } from '../../core/route/routeDecision';
import type { ActionResult } from '../actions/actionPipeline';
import type { CodeRouteContext } from '../coderouteContext';
import { requestContextFromEditor } from '../requestContextFromEditor';
import { runEditAction, type ActionOptions } from './editActions';
import { explainSelection } from './explainSelection';

/** What was last asked in this window, to run again one tier up. */
export interface LastAction {
  task: 'explain' | 'format' | 'generate' | 'debug';
  documentUri: string;
  selection: vscode.Selection;
  requestId: string;
  decision: RouteDecision;
  instruction?: string;
}

/** Runs an action by task name with options (the commands, Do What I Mean and retries share this). */
export function runAction(ctx: CodeRouteContext, task: LastAction['task'], options: ActionOptions = {}): Promise<ActionResult> {
  return task === 'explain' ? explainSelection(ctx, options) : runEditAction(ctx, task, options);
}

/**
 * CodeRoute: Do What I Mean. Classifies the context (selection, cursor, errors in range) and runs
 * the matching action, saying which it chose and why.
 */
export async function doWhatIMean(ctx: CodeRouteContext): Promise<ActionResult & { chosenTask?: string }> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage('Open a file and place the cursor where you want help.');
    return { status: 'no-editor' };
  }
  const request = requestContextFromEditor(editor, undefined, randomUUID(), ctx.documentTexts);
  const classification = await ctx.classifier.classify(request, 'auto');
  const task = classification.task as LastAction['task'];
  ctx.log.info(`do what I mean: ${task} (${classification.reason})`);
  vscode.window.setStatusBarMessage(`CodeRoute: ${task} — ${classification.reason}`, 8000);
  const result = await runAction(ctx, task);
  return { ...result, chosenTask: task };
}

/** How strong a model is taken to be, from its tags: local < cheap < code < strong. */
export function tierRank(model: ModelConfig): number {
  const ranks: Record<string, number> = { local: 0, cheap: 1, code: 2, strong: 3 };
  return Math.max(0, ...model.tags.map((t) => ranks[t] ?? 0));
}

/**
 * Keeps only the models of a decision at least as strong as the rejected `than` (never a weaker
 * one), in the router's order, which already knows what was rejected; never a rejected model. A
 * sentence when there is none.
 */
export function strongerThan(than: ModelConfig): (decision: RouteDecision) => RouteDecision | string {
  return (decision) => {
    const rejected = new Set([than.id, ...(decision.rejected ?? [])]);
    const chain = [decision.chosen, ...decision.fallbacks].filter((r) => !rejected.has(r.model.id) && tierRank(r.model) >= tierRank(than));
    if (chain.length === 0) return `${than.id} is already the strongest model CodeRoute may use for ${decision.task} here.`;
    const [chosen, ...fallbacks] = chain;
    return {
      ...decision,
      chosen,
      fallbacks,
      reason: `Retry after ${than.id} was rejected → ${chosen.model.id}. ${decision.reason}`,
    };
  };
}

/**
 * CodeRoute: Retry with a Stronger Model. Runs the last action again on the same code with a model
 * no weaker than the last one, routed knowing whose answers to it were already rejected (the
 * escalation state the learner keeps statistics for), and records the last answer as rejected
 * ("retried stronger") when the retry is sent: a retry that sends nothing (no stronger model, a
 * budget's refusal) records nothing.
 */
export async function retryStronger(ctx: CodeRouteContext): Promise<ActionResult> {
  const last = ctx.lastAction;
  if (!last) {
    void vscode.window.showInformationMessage('Nothing to retry yet: run a CodeRoute action first.');
    return { status: 'no-editor' };
  }
  const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(last.documentUri));
  const editor = await vscode.window.showTextDocument(document, { preview: false });
  editor.selection = last.selection;
  const rejected = [...(last.decision.rejected ?? []), last.decision.chosen.model.id];
  const onSend = () => ctx.outcomes.record({ requestId: last.requestId, task: last.task, modelId: last.decision.chosen.model.id, kind: 'retried-stronger', at: Date.now() });
  return runAction(ctx, last.task, { instruction: last.instruction, restrict: strongerThan(last.decision.chosen.model), rejected, onSend });
}
