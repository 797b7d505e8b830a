import * as vscode from 'vscode';
import { DIRECTIVE_HEADER_LINES } from '../core/policy/fileDirectives';
import type { DiagnosticInfo, RequestContext, Task, TextRange } from '../core/context/requestContext';

/** Documents longer than this are sent to core as a window of lines around the selection. */
const MAX_WINDOW_LINES = 4000;

const SEVERITY: Record<vscode.DiagnosticSeverity, DiagnosticInfo['severity']> = {
  [vscode.DiagnosticSeverity.Error]: 'error',
  [vscode.DiagnosticSeverity.Warning]: 'warning',
  [vscode.DiagnosticSeverity.Information]: 'info',
  [vscode.DiagnosticSeverity.Hint]: 'hint',
};

function plainRange(range: vscode.Range): TextRange {
  return {
    start: { line: range.start.line, character: range.start.character },
    end: { line: range.end.line, character: range.end.character },
  };
}

/** Copies what core needs from the editor into plain data, bounded in size whatever the file. */
export function requestContextFromEditor(editor: vscode.TextEditor, command: Task, requestId: string): RequestContext {
  const { document, selection } = editor;
  const half = Math.floor(MAX_WINDOW_LINES / 2);
  const firstLine = Math.max(0, Math.min(selection.start.line - half, document.lineCount - MAX_WINDOW_LINES));
  const lastLine = Math.min(document.lineCount - 1, Math.max(selection.end.line + half, firstLine + MAX_WINDOW_LINES - 1));
  const window = new vscode.Range(firstLine, 0, lastLine, document.lineAt(lastLine).range.end.character);
  const diagnostics = vscode.languages
    .getDiagnostics(document.uri)
    .filter((d) => d.range.intersection(window))
    .map((d) => ({ range: plainRange(d.range), message: d.message, severity: SEVERITY[d.severity], source: d.source }));
  return {
    requestId,
    command,
    languageId: document.languageId,
    path: vscode.workspace.asRelativePath(document.uri, false),
    text: document.getText(window),
    textStartLine: firstLine,
    headerText: document.getText(new vscode.Range(0, 0, Math.min(DIRECTIVE_HEADER_LINES, document.lineCount), 0)),
    selection: { ...plainRange(selection), active: { line: selection.active.line, character: selection.active.character } },
    diagnostics,
    workspaceTrusted: vscode.workspace.isTrusted,
  };
}
