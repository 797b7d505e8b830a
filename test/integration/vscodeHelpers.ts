import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ExplainCommandResult } from '../../src/vscode/commands/explainSelection';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function workspaceRoot(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the tests run with the sample workspace open');
  return folder.uri;
}

export async function openFixture(relative: string): Promise<vscode.TextEditor> {
  const document = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(workspaceRoot(), relative));
  return vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One, preview: false });
}

/** Selects the first occurrence of `text` in the editor's document. */
export function select(editor: vscode.TextEditor, text: string): void {
  const offset = editor.document.getText().indexOf(text);
  assert.ok(offset >= 0, `"${text}" is in ${editor.document.fileName}`);
  const start = editor.document.positionAt(offset);
  editor.selection = new vscode.Selection(start, editor.document.positionAt(offset + text.length));
}

/** Puts an empty selection (a cursor) just after the first occurrence of `text`. */
export function placeCursorAfter(editor: vscode.TextEditor, text: string): void {
  const offset = editor.document.getText().indexOf(text);
  assert.ok(offset >= 0, `"${text}" is in ${editor.document.fileName}`);
  const position = editor.document.positionAt(offset + text.length);
  editor.selection = new vscode.Selection(position, position);
}

export function openDocument(uri: string | undefined): vscode.TextDocument {
  assert.ok(uri, 'the command reports the document it opened');
  const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
  assert.ok(document, `${uri} is open`);
  return document;
}

/** Waits until `check` (which may ask a command) holds: VS Code updates documents and settings asynchronously. */
export async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * The user's (global) values of some coderoute settings, kept so that a suite can change them
 * and put them back as they were.
 */
export function userSettings(keys: readonly string[]): { set(key: string, value: unknown): Thenable<void>; restore(): Promise<void> } {
  const config = () => vscode.workspace.getConfiguration('coderoute');
  const saved = new Map(keys.map((key) => [key, config().inspect(key)?.globalValue]));
  return {
    set: (key, value) => config().update(key, value, vscode.ConfigurationTarget.Global),
    restore: async () => {
      for (const [key, value] of saved) await config().update(key, value, vscode.ConfigurationTarget.Global);
    },
  };
}

/** Explain Selection on one line of the sample workspace's greeter: the same kind of request every time. */
export async function explainGreeterLine(): Promise<ExplainCommandResult> {
  const editor = await openFixture('src/greeter.ts');
  select(editor, 'const out: string[] = [];');
  return vscode.commands.executeCommand<ExplainCommandResult>('coderoute.explainSelection');
}
