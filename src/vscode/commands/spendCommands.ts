import * as os from 'node:os';
import * as vscode from 'vscode';
import { spendCsv, spendCsvFileName } from '../../core/spend/csvExport';
import type { SpendSource } from '../../core/spend/spendSource';
import type { CodeRouteContext } from '../coderouteContext';
import { OPEN_LOG, showUserError } from '../ui/userErrors';

/** A spend source, and the ledger's way to read what other windows appended, when it has one. */
export type ExportableSpend = SpendSource & { refresh?(): void };

/**
 * CodeRoute: Export Spend (CSV). Writes every settled request, with the user's last verdict on
 * it, to a file the user picks, or to `target` when a script or a test passes a Uri (no dialog).
 * The file written, or undefined when cancelled or failed.
 */
export async function exportSpend(ctx: CodeRouteContext, source: ExportableSpend, target?: unknown): Promise<vscode.Uri | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir());
  const uri =
    target instanceof vscode.Uri
      ? target
      : await vscode.window.showSaveDialog({
          title: 'CodeRoute: Export Spend (CSV)',
          defaultUri: vscode.Uri.joinPath(folder, spendCsvFileName(new Date())),
          filters: { CSV: ['csv'] },
          saveLabel: 'Export',
        });
  if (!uri) return undefined;
  source.refresh?.();
  const settled = source.settled();
  try {
    await vscode.workspace.fs.writeFile(uri, Buffer.from(spendCsv(settled, source.outcomes()), 'utf8'));
  } catch (error) {
    ctx.log.error(`spend: export to ${uri.toString()} failed: ${error instanceof Error ? error.message : String(error)}`);
    showUserError('CodeRoute could not export the spend.', OPEN_LOG);
    return undefined;
  }
  const shown = uri.scheme === 'file' ? uri.fsPath : uri.toString();
  ctx.log.info(`spend: exported ${settled.length} request(s) to ${shown}`);
  // Not awaited: the command is done when the file is written, whether or not the user clicks.
  void vscode.window.showInformationMessage(`Spend exported: ${settled.length} request(s) to ${shown}.`, 'Open').then((choice) => {
    if (choice === 'Open') void vscode.commands.executeCommand('vscode.open', uri);
  });
  return uri;
}

/**
 * The commands that read the spend ledger, registered at once (a command may be what activates
 * the extension); `source` may be a ledger that is still opening (undefined when it cannot open).
 * The caller owns the returned disposable.
 */
export function registerSpendCommands(ctx: CodeRouteContext, source: ExportableSpend | (() => PromiseLike<ExportableSpend | undefined>)): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.commands.registerCommand('coderoute.exportSpend', async (target?: unknown) => {
      const ledger = typeof source === 'function' ? await source() : source;
      if (!ledger) {
        showUserError('CodeRoute has no spend ledger in this window, so there is nothing to export.', OPEN_LOG);
        return undefined;
      }
      return exportSpend(ctx, ledger, target);
    }),
  );
}
