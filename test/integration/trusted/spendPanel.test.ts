import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { eventually } from '../vscodeHelpers';

/** CodeRoute: Show Spend in a real VS Code: the command opens the panel over the ledger (its page is tested in test/e2e). */
describe('Spend panel in a real VS Code', () => {
  const spendTabs = () =>
    vscode.window.tabGroups.all.flatMap((group) => group.tabs).filter((t) => t.input instanceof vscode.TabInputWebview && t.label === 'CodeRoute Spend');

  it('opens one panel, and shows it again rather than a second', async () => {
    await vscode.commands.executeCommand('coderoute.showSpend');
    await eventually(() => spendTabs().length === 1, 'the spend panel');
    await vscode.commands.executeCommand('coderoute.showSpend');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(spendTabs().length, 1);
    await vscode.window.tabGroups.close(spendTabs());
  });
});
