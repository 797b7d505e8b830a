import * as vscode from 'vscode';
import { spendCsv, spendCsvFileName } from '../../core/spend/csvExport';
import { exportToFile } from '../ui/exportFile';
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
  let count = 0;
  return exportToFile({
    target,
    title: 'CodeRoute: Export Spend (CSV)',
    defaultName: spendCsvFileName(new Date()),
    filters: { CSV: ['csv'] },
    what: 'the spend',
    content: () => {
      source.refresh?.();
      const settled = source.settled();
      count = settled.length;
      return spendCsv(settled, source.outcomes());
    },
    detail: () => `${count} request(s)`,
    log: ctx.log,
  });
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
