import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { createCodeRoutePanel } from './webviewPanel';
import type { LearningState } from '../../core/learn/learner';
import type { Logger } from '../../core/log/logger';
import { learnedPicks } from '../../core/spend/learnedPicks';
import type { SpendSource } from '../../core/spend/spendSource';
import { summarizeSpend } from '../../core/spend/spendSummary';
import { fromSpendWebviewSchema, toSpendWebviewSchema, type SpendView, type ToSpendWebview } from '../../webview/protocol';
import { spendPanelPage } from '../../webview/spendPanel/page';
import type { RecentDecision } from './decisionDocuments';

/** What the panel shows besides the ledger. */
export interface SpendPanelInputs {
  /** The learner: its statistics give the picks per bucket. */
  learner: { toJSON(): LearningState; onDidChange(listener: () => void): () => void };
  /** This window's routing decisions. */
  decisions: { recent(limit?: number): RecentDecision[]; onDidChange: vscode.Event<unknown> };
  /** Writes the ledger as CSV; without it the panel offers no export. */
  exportCsv?: () => unknown;
}

const DECISIONS_SHOWN = 20;
const PICKS_SHOWN = 30;
/** Bursts of settlements and verdicts become one update. */
const COALESCE_MS = 100;

/**
 * CodeRoute: Show Spend — today / this week / this month against the budgets, spend over time by
 * model or task, what routing saved against always using the strongest model of each chain,
 * acceptance per model and task, the recent decisions and what the learner picks. One panel at a
 * time; it follows the ledger live.
 */
export class SpendPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The chart's period and split, kept while the window lives. */
  private view: SpendView = { granularity: 'day', groupBy: 'model' };
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly spend: SpendSource,
    private readonly inputs: SpendPanelInputs,
    private readonly log: Logger,
  ) {
    const schedule = () => this.schedule();
    this.disposables.push(
      { dispose: spend.onDidChange(schedule) },
      { dispose: inputs.learner.onDidChange(schedule) },
      inputs.decisions.onDidChange(schedule),
      { dispose: () => clearTimeout(this.timer) },
    );
  }

  show(): void {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    // Only the folders the page loads from: the bundle with uPlot's and the codicons' files, and the stylesheet.
    const panel = createCodeRoutePanel(this.extensionUri, 'coderoute.spend', 'CodeRoute Spend');
    this.panel = panel;
    this.ready = false;
    panel.webview.html = this.html(panel.webview);
    panel.webview.onDidReceiveMessage((raw) => this.receive(raw), this, this.disposables);
    // A hidden webview is torn down; it says `ready` again when shown.
    panel.onDidChangeViewState(
      () => {
        if (!panel.visible) this.ready = false;
      },
      this,
      this.disposables,
    );
    panel.onDidDispose(() => (this.panel = undefined), this, this.disposables);
  }

  private receive(raw: unknown): void {
    const parsed = fromSpendWebviewSchema.safeParse(raw);
    if (!parsed.success) return;
    const message = parsed.data;
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.push();
        break;
      case 'openLog':
        void vscode.commands.executeCommand('coderoute.showLog');
        break;
      case 'exportCsv':
        void Promise.resolve(this.inputs.exportCsv?.()).catch((error: unknown) => this.log.warn(`spend: CSV export failed: ${String(error)}`));
        break;
      case 'setView':
        this.view = message.view;
        break;
    }
  }

  private schedule(): void {
    if (!this.panel || !this.ready || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.push();
    }, COALESCE_MS);
  }

  private push(): void {
    if (!this.panel || !this.ready || !this.panel.visible) return;
    try {
      void this.panel.webview.postMessage(this.message());
    } catch (error) {
      // A record the protocol rejects (a NaN cost…) must not break the panel for good: the next change retries.
      this.log.warn(`spend: the panel could not be updated: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private message(): ToSpendWebview {
    const now = Date.now();
    const summary = summarizeSpend(this.spend.settled(), this.spend.outcomes(), this.spend.budgets(now), now);
    const decisions = this.inputs.decisions.recent(DECISIONS_SHOWN).map(({ record, at }) => ({
      requestId: record.requestId,
      at,
      task: record.kind,
      model: record.chosen.model,
      reason: record.reason,
    }));
    const picks = learnedPicks(this.inputs.learner.toJSON()).slice(0, PICKS_SHOWN);
    return toSpendWebviewSchema.parse({
      type: 'spendSummary',
      summary,
      decisions,
      picks,
      view: this.view,
      canExportCsv: this.inputs.exportCsv !== undefined,
    } satisfies ToSpendWebview);
  }

  private html(webview: vscode.Webview): string {
    const asset = (...segments: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...segments)).toString();
    return spendPanelPage({
      cspSource: webview.cspSource,
      nonce: randomBytes(16).toString('base64'),
      scriptUri: asset('dist', 'webview', 'spendPanel.js'),
      styleUri: asset('media', 'spendPanel.css'),
      chartStyleUri: asset('dist', 'webview', 'uPlot.min.css'),
      codiconStyleUri: asset('dist', 'webview', 'codicons', 'codicon.css'),
    });
  }

  dispose(): void {
    this.panel?.dispose();
    vscode.Disposable.from(...this.disposables).dispose();
  }
}
