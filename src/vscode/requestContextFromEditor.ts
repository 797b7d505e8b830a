import * as vscode from 'vscode';
import { DIRECTIVE_HEADER_LINES } from '../core/policy/fileDirectives';
import type { DocumentTexts } from './documentTexts';
import type { DiagnosticInfo, RequestContext, Task, TextRange } from '../core/context/requestContext';

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

/**
 * Copies what core needs from the editor into plain data. The text is the whole document (one
 * string per version, shared with the classifier's trees); core bounds its own work.
 */
export function requestContextFromEditor(
  editor: vscode.TextEditor,
  command: Task | undefined,
  requestId: string,
  texts: DocumentTexts,
): RequestContext {
  return requestContextFor(editor.document, editor.selection, command, requestId, texts);
}

/** The same for a document and a selection (or a cursor) without an editor: an inline completion request. */
export function requestContextFor(
  document: vscode.TextDocument,
  selection: vscode.Selection,
  command: Task | undefined,
  requestId: string,
  texts: DocumentTexts,
): RequestContext {
  const diagnostics = vscode.languages
    .getDiagnostics(document.uri)
    .map((d) => ({ range: plainRange(d.range), message: d.message, severity: SEVERITY[d.severity], source: d.source }));
  return {
    requestId,
    command,
    languageId: document.languageId,
    path: vscode.workspace.asRelativePath(document.uri, false),
    text: texts.get(document),
    textStartLine: 0,
    headerText: document.getText(new vscode.Range(0, 0, Math.min(DIRECTIVE_HEADER_LINES, document.lineCount), 0)),
    selection: { ...plainRange(selection), active: { line: selection.active.line, character: selection.active.character } },
    diagnostics,
    workspaceTrusted: vscode.workspace.isTrusted,
  };
}
