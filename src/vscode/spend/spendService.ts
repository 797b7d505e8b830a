import { watch, type FSWatcher } from 'node:fs';
import * as vscode from 'vscode';
import type { Settings } from '../../core/config/settingsSchema';
import { Ledger, LEDGER_FILE, type BudgetLimits, type BudgetWarning } from '../../core/spend/ledger';
import { formatUsd } from '../../core/format/formatUsd';
import type { BudgetState } from '../../core/route/router';
import type { Policy } from '../../core/policy/policy';
import { STATUS_COMMANDS, statusView } from '../../core/spend/statusText';

/** The budgets the ledger enforces: the user's settings tightened by the approved repository policy. */
export function limitsFrom(settings: Settings, policy: Pick<Policy, 'budget'>): BudgetLimits {
  const perTask: Record<string, number> = {};
  for (const [task, usd] of Object.entries(policy.budget.perTaskDailyUsd ?? settings.budget.perTaskDailyUsd)) if (usd && usd > 0) perTask[task] = usd;
  return {
    dailyUsd: policy.budget.dailyUsd,
    monthlyUsd: policy.budget.monthlyUsd,
    perTaskDailyUsd: perTask,
    onLimit: { daily: settings.budget.onLimit.daily, monthly: settings.budget.onLimit.monthly, task: settings.budget.onLimit.perTask },
    warnAt: settings.budget.warnAt.map((p) => p / 100),
  };
}

/**
 * The extension's side of the spend ledger: opens it in global storage (shared by every window),
 * shows today's spend in the status bar, warns at budget thresholds, and follows what other
 * windows write (a file watch: nothing runs while nobody spends).
 */
export class SpendService implements vscode.Disposable {
  private ledger: Ledger | undefined;
  private opening: Promise<Ledger | undefined> | undefined;
  private readonly item: vscode.StatusBarItem;
  private watcher: FSWatcher | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly globalStorage: vscode.Uri,
    private readonly limits: () => BudgetLimits,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.item = vscode.window.createStatusBarItem('coderoute.spend', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'CodeRoute Spend';
    this.item.command = 'coderoute.showSpend';
    this.disposables.push(this.item);
  }

  /** The ledger, opened on first use; undefined when global storage is not on the local disk. */
  ready(): Promise<Ledger | undefined> {
    this.opening ??= this.open();
    return this.opening;
  }

  /** The ledger if it is open (for views that must not wait). */
  get current(): Ledger | undefined {
    return this.ledger;
  }

  /** Spend today and this month, calls in flight included, for the router's budget pace. */
  budgetState(): BudgetState | undefined {
    return this.ledger?.spendState();
  }

  /** Redraws the status bar item (after a settle, a settings change, or another window's write). */
  update(): void {
    const ledger = this.ledger;
    if (!ledger) return;
    const now = Date.now();
    const view = statusView(ledger.today(now), ledger.budgets(now), this.limits().warnAt, ledger.writeProblem && `The spend ledger cannot be written (${ledger.writeProblem}); new requests wait until it can.`);
    this.item.text = view.text;
    const tooltip = new vscode.MarkdownString(view.tooltip, true);
    tooltip.isTrusted = { enabledCommands: [...STATUS_COMMANDS] };
    this.item.tooltip = tooltip;
    this.item.accessibilityInformation = { label: view.accessibility, role: 'button' };
    this.item.backgroundColor = view.severity === 'normal' ? undefined : new vscode.ThemeColor(view.severity === 'error' ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground');
    this.item.show();
  }

  /** What the status bar shows, for tests. */
  statusSnapshot(): { text: string; tooltip: string; background?: string } {
    const tooltip = this.item.tooltip;
    const background = this.item.backgroundColor as (vscode.ThemeColor & { id?: string }) | undefined;
    return { text: this.item.text, tooltip: typeof tooltip === 'string' ? tooltip : (tooltip?.value ?? ''), background: background?.id };
  }

  private async open(): Promise<Ledger | undefined> {
    if (this.globalStorage.scheme !== 'file') {
      this.log.warn('spend: global storage is not on the local disk; spend is not recorded and budgets cannot be enforced across windows');
      return undefined;
    }
    const dir = vscode.Uri.joinPath(this.globalStorage, 'spend').fsPath;
    try {
      const ledger = await Ledger.open({
        dir,
        limits: this.limits,
        logger: {
          trace: () => undefined,
          debug: (m) => this.log.debug(m),
          info: (m) => this.log.info(m),
          warn: (m) => this.log.warn(m),
          error: (m) => this.log.error(m),
        },
      });
      this.ledger = ledger;
      const stopChange = ledger.onDidChange(() => this.update());
      const stopWarning = ledger.onWarning((w) => this.warn(w));
      this.disposables.push({ dispose: () => (stopChange(), stopWarning()) });
      if (ledger.quarantined > 0) {
        void vscode.window.showWarningMessage(`CodeRoute set ${ledger.quarantined} unreadable line(s) of its spend ledger aside (ledger.quarantine.jsonl); every readable record is kept.`, 'Show Log').then((c) => c && this.log.show());
      }
      this.follow(dir);
      this.update();
      this.log.info(`spend: ledger ${ledger.path} (${ledger.settled().length} settled records)`);
      return ledger;
    } catch (error) {
      this.log.error(`spend: could not open the ledger in ${dir}: ${error instanceof Error ? error.message : String(error)}`);
      void vscode.window.showErrorMessage(`CodeRoute could not open its spend ledger (${error instanceof Error ? error.message : String(error)}); requests are sent without budget checks across windows.`, 'Show Log').then((c) => c && this.log.show());
      return undefined;
    }
  }

  /** Other windows append to the same file: read their lines when it changes (debounced). */
  private follow(dir: string): void {
    try {
      this.watcher = watch(dir, (_event, name) => {
        if (name !== LEDGER_FILE) return;
        if (this.refreshTimer) return;
        this.refreshTimer = setTimeout(() => {
          this.refreshTimer = undefined;
          // New lines from another window notify the ledger's listeners (this item, the panel).
          this.ledger?.refresh();
        }, 250);
      });
    } catch (error) {
      this.log.debug(`spend: cannot watch ${dir} (${error instanceof Error ? error.message : String(error)}); other windows' spend shows after the next request`);
    }
  }

  private warn(w: BudgetWarning): void {
    const { budget } = w;
    const at = budget.level >= 1 ? 'is used up' : `is ${Math.round(budget.share * 100)}% used`;
    const then = budget.onLimit === 'stop' ? 'At the limit CodeRoute sends nothing more.' : 'At the limit CodeRoute steps down to models that fit what is left.';
    void vscode.window
      .showWarningMessage(`CodeRoute: the ${budget.label.toLowerCase()} budget ${at} (${formatUsd(budget.spentUsd + budget.reservedUsd)} of ${formatUsd(budget.limitUsd)}). ${then}`, 'Show Spend', 'Budget Settings')
      .then((choice) => {
        if (choice === 'Show Spend') void vscode.commands.executeCommand('coderoute.showSpend');
        if (choice === 'Budget Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'coderoute.budget');
      });
  }

  dispose(): void {
    this.watcher?.close();
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    vscode.Disposable.from(...this.disposables).dispose();
  }
}
