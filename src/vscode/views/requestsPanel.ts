import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { AttemptHistory } from '../../core/actions/attemptHistory';
import { fromWebviewSchema, toWebviewSchema, type ToWebview } from '../../webview/protocol';

/**
 * CodeRoute: Show Requests — a webview listing this session's model calls (task, model, tokens,
 * latency, status). One panel at a time; it updates live.
 */
export class RequestsPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly history: AttemptHistory,
  ) {
    const unsubscribe = history.subscribe(() => this.push());
    this.disposables.push({ dispose: unsubscribe });
  }

  show(): void {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    const roots = [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(this.extensionUri, 'media')];
    const panel = vscode.window.createWebviewPanel('coderoute.requests', 'CodeRoute Requests', vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: roots,
    });
    this.panel = panel;
    this.ready = false;
    panel.webview.html = this.html(panel.webview);
    panel.webview.onDidReceiveMessage((raw) => this.receive(raw), this, this.disposables);
    panel.onDidDispose(() => (this.panel = undefined), this, this.disposables);
  }

  private receive(raw: unknown): void {
    const parsed = fromWebviewSchema.safeParse(raw);
    if (!parsed.success) return;
    if (parsed.data.type === 'ready') {
      this.ready = true;
      this.push();
    } else if (parsed.data.type === 'openLog') {
      void vscode.commands.executeCommand('coderoute.showLog');
    }
  }

  private push(): void {
    if (!this.panel || !this.ready) return;
    const message: ToWebview = toWebviewSchema.parse({ type: 'attempts', attempts: [...this.history.all] });
    void this.panel.webview.postMessage(message);
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview', 'requestsPanel.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'requestsPanel.css'));
    const csp = [
      "default-src 'none'",
      `style-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
      `font-src ${webview.cspSource}`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>CodeRoute Requests</title>
</head>
<body>
<header><h2>Requests this session</h2><button id="open-log" type="button">Open Log</button></header>
<p id="empty">No requests yet. Try <b>CodeRoute: Explain Selection</b>.</p>
<table>
<thead><tr><th>Time</th><th>Task</th><th>Model</th><th>Tokens in / out</th><th>Latency</th><th>Status</th></tr></thead>
<tbody id="rows"></tbody>
</table>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
  }

  dispose(): void {
    this.panel?.dispose();
    vscode.Disposable.from(...this.disposables).dispose();
  }
}
