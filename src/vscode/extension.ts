import * as vscode from 'vscode';
import { CodeRouteContext } from './coderouteContext';

export function activate(extension: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('CodeRoute', { log: true });
  extension.subscriptions.push(log);
  try {
    const started = performance.now();
    extension.subscriptions.push(new CodeRouteContext(extension, log));
    log.info(`CodeRoute ${String(extension.extension.packageJSON.version)} active in VS Code ${vscode.version} (activation took ${(performance.now() - started).toFixed(1)} ms)`);
  } catch (error) {
    log.error(`activation failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    void vscode.window.showErrorMessage('CodeRoute failed to start.', 'Open Log').then((choice) => {
      if (choice) log.show();
    });
    throw error;
  }
}

export function deactivate(): void {
  // Everything is disposed through the extension context's subscriptions.
}
