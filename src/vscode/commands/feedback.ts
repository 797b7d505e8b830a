import * as vscode from 'vscode';
import type { Outcome } from '../../core/learn/outcomes';
import type { CodeRouteContext } from '../coderouteContext';
import { EXPLAIN_SCHEME, visibleExplanation } from '../views/explainDocuments';

/**
 * 👍 / 👎 on an explanation (the buttons in its title bar pass its URI; from the palette it is the
 * active editor's, else the one visible beside the code): recorded as an outcome of the request
 * that produced it, for the model that answered.
 */
export function rateExplanation(ctx: CodeRouteContext, kind: 'thumbs-up' | 'thumbs-down', uri?: unknown): Outcome | undefined {
  const target = uri instanceof vscode.Uri ? uri : visibleExplanation();
  if (target?.scheme !== EXPLAIN_SCHEME) {
    void vscode.window.showInformationMessage('Open a CodeRoute explanation to rate it.');
    return undefined;
  }
  const requestId = target.query;
  const answered = ctx.history.all.find((a) => a.requestId === requestId && a.status === 'ok');
  if (!answered) {
    void vscode.window.showInformationMessage('This explanation has no finished answer to rate.');
    return undefined;
  }
  const outcome: Outcome = { requestId, task: answered.task, modelId: answered.modelId, kind, at: Date.now() };
  // A second rating of the same kind is the same signal; the opposite one is recorded too (a change of mind).
  ctx.outcomes.record(outcome);
  vscode.window.setStatusBarMessage(`CodeRoute: ${kind === 'thumbs-up' ? '👍' : '👎'} recorded for ${answered.modelId}`, 4000);
  return outcome;
}
