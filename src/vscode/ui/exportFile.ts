import * as os from 'node:os';
import * as vscode from 'vscode';
import type { LogOutputChannel } from 'vscode';
import { OPEN_LOG, showUserError } from './userErrors';

export interface ExportRequest {
  /** A Uri passed by a script or a test: written without a dialog. */
  target: unknown;
  /** The dialog's title, e.g. "CodeRoute: Export Spend (CSV)". */
  title: string;
  /** The file name offered, in the first workspace folder (else the home folder). */
  defaultName: string;
  filters: Record<string, string[]>;
  /** What is exported, for the messages: "the spend", "the learning state". */
  what: string;
  /** The text to write, computed once the user has chosen where. */
  content: () => string | Promise<string>;
  /** A summary for the log and the message ("12 request(s)"), after the content was made. */
  detail?: () => string;
  log: LogOutputChannel;
}

/**
 * Writes an export to a file the user picks (or to `target`), reporting a failure with the log at
 * hand and a success with an "Open" action. The file written, or undefined when cancelled or failed.
 */
export async function exportToFile(request: ExportRequest): Promise<vscode.Uri | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir());
  const uri =
    request.target instanceof vscode.Uri
      ? request.target
      : await vscode.window.showSaveDialog({ title: request.title, defaultUri: vscode.Uri.joinPath(folder, request.defaultName), filters: request.filters, saveLabel: 'Export' });
  if (!uri) return undefined;
  try {
    await vscode.workspace.fs.writeFile(uri, Buffer.from(await request.content(), 'utf8'));
  } catch (error) {
    request.log.error(`export of ${request.what} to ${uri.toString()} failed: ${error instanceof Error ? error.message : String(error)}`);
    showUserError(`CodeRoute could not export ${request.what}.`, OPEN_LOG);
    return undefined;
  }
  const shown = uri.scheme === 'file' ? uri.fsPath : uri.toString();
  const detail = request.detail ? `${request.detail()} ` : '';
  request.log.info(`exported ${request.what}: ${detail}to ${shown}`);
  // Not awaited: the command is done when the file is written, whether or not the user clicks.
  void vscode.window.showInformationMessage(`Exported ${request.what}: ${detail}to ${shown}.`, 'Open').then((choice) => {
    if (choice === 'Open') void vscode.commands.executeCommand('vscode.open', uri);
  });
  return uri;
}
