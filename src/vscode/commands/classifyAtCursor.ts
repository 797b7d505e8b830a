import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import type { Classification } from '../../core/classify/classification';
import type { CodeRouteContext } from '../coderouteContext';
import { requestContextFromEditor } from '../requestContextFromEditor';
import { OPEN_LOG, showUserError } from '../ui/userErrors';

/**
 * CodeRoute: Classify at Cursor — shows what CodeRoute reads from the code at the cursor (the task
 * the automatic action would pick, its difficulty and why), so routing is never a black box.
 */
export async function classifyAtCursor(ctx: CodeRouteContext): Promise<Classification | undefined> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage('Open a file and put the cursor in the code to classify.');
    return undefined;
  }
  try {
    const request = requestContextFromEditor(editor, undefined, randomUUID(), ctx.documentTexts);
    const result = await ctx.classifier.classify(request, 'auto');
    const line = `${result.task} (difficulty ${result.difficulty.toFixed(2)}, confidence ${result.confidence.toFixed(2)}) — ${result.reason}`;
    ctx.log.info(`classify: ${line}; parse ${result.timings.parseMs} ms, total ${result.timings.classifyMs} ms`);
    void vscode.window.showInformationMessage(`CodeRoute: ${line}`);
    return result;
  } catch (error) {
    ctx.log.error(`classify: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    showUserError('CodeRoute could not classify the code at the cursor.', OPEN_LOG);
    return undefined;
  }
}
