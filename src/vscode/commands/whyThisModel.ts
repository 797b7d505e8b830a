import * as vscode from 'vscode';
import type { DecisionRecord } from '../../core/route/decisionRecord';
import type { CodeRouteContext } from '../coderouteContext';

/**
 * CodeRoute: Why This Model? Shows the last routing decision for the active editor: the sentence,
 * the facts that mattered, every candidate with its score and estimated cost, the budget and the
 * fallback chain. Returns the decision as plain data (for tests and other commands).
 */
export async function whyThisModel(ctx: CodeRouteContext): Promise<DecisionRecord | undefined> {
  const editor = vscode.window.activeTextEditor;
  const key = editor?.document.uri.toString();
  const entry = key ? ctx.decisions.lastFor(key) : undefined;
  if (!key || !entry) {
    void vscode.window.showInformationMessage('No request has been routed from this editor yet. Run a CodeRoute action (for example Explain Selection) first.');
    return undefined;
  }
  // The `.md` path makes VS Code show it as Markdown, read-only.
  await vscode.window.showTextDocument(ctx.decisions.uriFor(key), { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true, preview: true });
  return entry.record;
}
