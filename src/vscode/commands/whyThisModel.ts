import * as vscode from 'vscode';
import type { DecisionRecord } from '../../core/route/decisionRecord';
import { CHAT_DECISION_KEY } from '../chat/chatModelProvider';
import type { CodeRouteContext } from '../coderouteContext';

/**
 * CodeRoute: Why This Model? Shows the last routing decision for the active editor (or, when none
 * was routed from it or `which` is "chat", the chat's last one): the sentence, the facts that
 * mattered, every candidate with its score and estimated cost, the budget and the fallback chain.
 * Returns the decision as plain data (for tests and other commands).
 */
export async function whyThisModel(ctx: CodeRouteContext, which?: unknown): Promise<DecisionRecord | undefined> {
  const editor = vscode.window.activeTextEditor;
  const editorKey = which === 'chat' ? undefined : editor?.document.uri.toString();
  const key = editorKey && ctx.decisions.lastFor(editorKey) ? editorKey : ctx.decisions.lastFor(CHAT_DECISION_KEY) ? CHAT_DECISION_KEY : undefined;
  const entry = key ? ctx.decisions.lastFor(key) : undefined;
  if (!key || !entry) {
    void vscode.window.showInformationMessage('No request has been routed from this editor or the chat yet. Run a CodeRoute action (for example Explain Selection) or ask CodeRoute Auto in the chat first.');
    return undefined;
  }
  // The `.md` path makes VS Code show it as Markdown, read-only.
  await vscode.window.showTextDocument(ctx.decisions.uriFor(key), { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true, preview: true });
  return entry.record;
}
