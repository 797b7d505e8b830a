import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { createCodeRoutePanel } from './webviewPanel';
import type { AttemptHistory } from '../../core/actions/attemptHistory';
import { fromWebviewSchema, toWebviewSchema, type ToWebview } from '../../webview/protocol';
import { requestsPanelPage } from '../../webview/requestsPanel/page';

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
    const panel = createCodeRoutePanel(this.extensionUri, 'coderoute.requests', 'CodeRoute Requests');
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
    const asset = (...segments: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...segments)).toString();
    return requestsPanelPage({
      cspSource: webview.cspSource,
      nonce: randomBytes(16).toString('base64'),
      scriptUri: asset('dist', 'webview', 'requestsPanel.js'),
      styleUri: asset('media', 'requestsPanel.css'),
    });
  }

  dispose(): void {
    this.panel?.dispose();
    vscode.Disposable.from(...this.disposables).dispose();
  }
}
