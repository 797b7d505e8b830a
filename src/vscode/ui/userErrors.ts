import * as vscode from 'vscode';

export type ErrorAction =
  | { label: 'Open Settings'; query: string }
  | { label: 'Set API Key'; providerId: string }
  | { label: 'Open Log' };

export const OPEN_LOG: ErrorAction = { label: 'Open Log' };

function run(action: ErrorAction): Thenable<unknown> {
  switch (action.label) {
    case 'Open Settings':
      return vscode.commands.executeCommand('workbench.action.openSettings', action.query);
    case 'Set API Key':
      return vscode.commands.executeCommand('coderoute.setApiKey', action.providerId);
    case 'Open Log':
      return vscode.commands.executeCommand('coderoute.showLog');
  }
}

/**
 * Shows one short sentence with its actions and returns at once: a command must not wait for the
 * user to dismiss a notification before it finishes.
 */
export function showUserError(message: string, ...actions: ErrorAction[]): void {
  void vscode.window.showErrorMessage(message, ...actions.map((a) => a.label)).then((picked) => {
    const action = actions.find((a) => a.label === picked);
    if (action) void run(action);
  });
}
