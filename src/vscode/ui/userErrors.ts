import * as vscode from 'vscode';
import type { SettingScope } from '../../core/config/settingOrigin';

export type ErrorAction =
  | { label: 'Open Settings'; query: string }
  | { label: 'Set API Key'; providerId: string }
  | { label: 'Open Log' }
  | { label: 'Open Walkthrough' }
  | { label: 'Add Provider' }
  | { label: 'Detect Models' }
  | { label: 'Open Workspace Settings' }
  | { label: 'Open Folder Settings' }
  | { label: 'Open User Settings' };

export const OPEN_LOG: ErrorAction = { label: 'Open Log' };
export const OPEN_WALKTHROUGH: ErrorAction = { label: 'Open Walkthrough' };

/** The walkthrough "Get started with CodeRoute", as VS Code names it: publisher.name#id. */
export const WALKTHROUGH_ID = 'coderoute.coderoute#coderoute.getStarted';

/** The action that opens the settings file a value came from; none for CodeRoute's defaults. */
export function openScopeAction(scope: SettingScope): ErrorAction | undefined {
  switch (scope) {
    case 'workspace':
      return { label: 'Open Workspace Settings' };
    case 'folder':
      return { label: 'Open Folder Settings' };
    case 'user':
      return { label: 'Open User Settings' };
    case 'default':
      return undefined;
  }
}

function run(action: ErrorAction): Thenable<unknown> {
  switch (action.label) {
    case 'Open Settings':
      return vscode.commands.executeCommand('workbench.action.openSettings', action.query);
    case 'Set API Key':
      return vscode.commands.executeCommand('coderoute.setApiKey', action.providerId);
    case 'Open Log':
      return vscode.commands.executeCommand('coderoute.showLog');
    case 'Add Provider':
      return vscode.commands.executeCommand('coderoute.addProvider');
    case 'Detect Models':
      return vscode.commands.executeCommand('coderoute.detectModels');
    case 'Open Walkthrough':
      return vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH_ID, false);
    case 'Open Workspace Settings':
      return vscode.commands.executeCommand('workbench.action.openWorkspaceSettingsFile');
    case 'Open Folder Settings':
      return vscode.commands.executeCommand('workbench.action.openFolderSettingsFile');
    case 'Open User Settings':
      return vscode.commands.executeCommand('workbench.action.openSettingsJson');
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
