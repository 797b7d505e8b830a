import * as vscode from 'vscode';

/**
 * A CodeRoute webview panel: scripts on, and local resources limited to the folders the pages load
 * from (the webview bundles with their libraries' files, and the stylesheets).
 */
export function createCodeRoutePanel(extensionUri: vscode.Uri, viewType: string, title: string): vscode.WebviewPanel {
  return vscode.window.createWebviewPanel(viewType, title, vscode.ViewColumn.Active, {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
  });
}
