import * as vscode from 'vscode';
import { AttemptHistory } from '../core/actions/attemptHistory';
import { Classifier } from '../core/classify/classifier';
import { OutcomeLog, type Outcome } from '../core/learn/outcomes';
import { TreeSitterLoader } from '../core/classify/treeSitterLoader';
import { ProviderHealth } from '../core/providers/health/providerHealth';
import { HttpProviderClients } from '../core/providers/providerFactory';
import { WorkerTokenCounter } from '../core/tokens/workerTokenCounter';
import type { Policy } from '../core/policy/policy';
import { budgetFromAttempts } from '../core/route/budgetState';
import { priceOf } from '../core/route/pricing';
import { typicalCostUsd, type BudgetState, type PriceLookup } from '../core/route/router';
import { DocumentTexts } from './documentTexts';
import { ProposalController, proposalFrom, type ProposeEditArgs } from './actions/proposals';
import { OutcomeFile } from './learn/outcomeFile';
import { LearningStore } from './learn/learningStore';
import { SpendService, limitsFrom } from './spend/spendService';
import { clearApiKey, setApiKey } from './commands/apiKeyCommands';
import { classifyAtCursor } from './commands/classifyAtCursor';
import { explainSelection } from './commands/explainSelection';
import { whyThisModel } from './commands/whyThisModel';
import { doWhatIMean, retryStronger, type LastAction } from './commands/doWhatIMean';
import { runEditAction } from './commands/editActions';
import { rateExplanation } from './commands/feedback';
import { exportLearning, learningState, resetLearning } from './commands/learningCommands';
import { registerSpendCommands } from './commands/spendCommands';
import { clearOtlpToken, setOtlpToken } from './commands/telemetryCommands';
import { DecisionDocuments } from './views/decisionDocuments';
import { RepoPolicyWatcher } from './policy/repoPolicy';
import { ApiKeyStore } from './secrets/apiKeyStore';
import { SettingsReader } from './settings/settingsReader';
import { startTelemetry } from './telemetry/otlpTelemetry';
import { ExplainDocumentProvider } from './views/explainDocuments';
import { RequestsPanel } from './views/requestsPanel';
import { SpendPanel } from './views/spendPanel';
import { OPEN_LOG, showUserError } from './ui/userErrors';
import { InlineCompletions } from './complete/inlineCompletions';
import { registerChatModels, type CodeRouteChatModels } from './chat/chatModelProvider';
import { detectModels, startDiscovery } from './discovery/detectModels';
import { addProvider } from './commands/addProvider';
import { manageModels } from './commands/manageModels';

/**
 * Everything the extension holds while active, built once in `activate` and disposed as one.
 * Commands receive it instead of reaching for globals.
 */
export class CodeRouteContext implements vscode.Disposable {
  readonly settings: SettingsReader;
  readonly apiKeys: ApiKeyStore;
  readonly treeSitter: TreeSitterLoader;
  /** The real tokenizer, in a worker thread, for usage a provider did not report. */
  readonly tokenCounter: WorkerTokenCounter;
  readonly classifier: Classifier;
  readonly documentTexts = new DocumentTexts();
  readonly history = new AttemptHistory();
  /** Endpoint health and load, shared by every request of this window. */
  readonly providerHealth = new ProviderHealth();
  /** SDK clients kept between requests, per provider, key and timeouts. */
  readonly providerClients = new HttpProviderClients();
  readonly explainDocuments: ExplainDocumentProvider;
  /** The last routing decision per editor, for "Why This Model?". */
  readonly decisions: DecisionDocuments;
  /** Model prices: the settings override, else the pricing library. */
  readonly prices: PriceLookup = priceOf;
  /** `.vscode/coderoute.json`: trusted, valid and approved, it tightens the user's policy. */
  readonly repoPolicy: RepoPolicyWatcher;
  /** What the user did with results (accepted, discarded, undone…), also appended to `outcomes.jsonl`. */
  readonly outcomes: OutcomeLog;
  /** What was learned from those outcomes: per model and kind of request, the chance of acceptance. */
  readonly learning: LearningStore;
  /** The spend ledger shared by every window, the budgets it enforces, and the status bar item. */
  readonly spend: SpendService;
  /** The one edit waiting for Accept or Discard, shown as a diff. */
  readonly proposals: ProposalController;
  /** Inline completions (ghost text), their status bar item and their signals. */
  readonly completions: InlineCompletions;
  /** CodeRoute's models in VS Code's chat model picker; undefined in a VS Code without the API (before 1.104). */
  readonly chatModels: CodeRouteChatModels | undefined;
  private readonly requestsPanel: RequestsPanel;
  /** Made on first use, once the ledger it reads is open. */
  private spendPanel: SpendPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private last: LastAction | undefined;
  /** Model calls in progress, each cancellable (CodeRoute: Cancel Running Requests). */
  readonly running = new Set<vscode.CancellationTokenSource>();
  /** The user's global state: answers given once (the first-run model offer). */
  readonly globalState: vscode.Memento;

  constructor(
    extension: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
  ) {
    this.globalState = extension.globalState;
    this.settings = this.own(new SettingsReader(log));
    this.apiKeys = new ApiKeyStore(extension.secrets);
    // Grammars load from the extension's own folder, only when a language is first parsed.
    this.treeSitter = new TreeSitterLoader(vscode.Uri.joinPath(extension.extensionUri, 'dist', 'wasm').fsPath, log);
    this.classifier = new Classifier(this.treeSitter, log);
    this.own({ dispose: () => (this.classifier.dispose(), this.treeSitter.dispose()) });
    this.tokenCounter = this.own(new WorkerTokenCounter({ script: vscode.Uri.joinPath(extension.extensionUri, 'dist', 'tokenizerWorker.js').fsPath, logger: log }));
    this.explainDocuments = this.own(new ExplainDocumentProvider());
    this.decisions = this.own(new DecisionDocuments());
    this.requestsPanel = this.own(new RequestsPanel(extension.extensionUri, this.history));
    this.repoPolicy = this.own(new RepoPolicyWatcher(extension.workspaceState, () => this.settings.current.settings, log));
    this.outcomes = new OutcomeLog({ sink: OutcomeFile.in(extension.globalStorageUri), logger: log });
    this.proposals = this.own(new ProposalController(this.outcomes));
    this.learning = this.own(new LearningStore(extension, this.settings, log, (modelId) => typicalCostUsd(this.settings.current.settings, modelId, this.prices)));
    this.spend = this.own(new SpendService(extension.globalStorageUri, () => limitsFrom(this.settings.current.settings, this.policy()), log));
    // The status bar shows today's spend from the start; the ledger opens in the background.
    void this.spend.ready();
    // Verdicts go to the ledger too, for acceptance rates per model and task.
    this.own({ dispose: this.outcomes.subscribe((items) => items[0] && void this.spend.current?.recordOutcome(items[0].requestId, items[0].kind)) });
    this.own(vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('coderoute.budget') && this.spend.update()));
    // Every outcome, from whichever command recorded it, is a signal for the learner.
    this.own({ dispose: this.outcomes.subscribe((items) => this.learnFrom(items[0])) });
    if (this.settings.current.settings.learning.enabled) void this.learning.ready();

    this.command('coderoute.explainSelection', () => explainSelection(this));
    this.command('coderoute.whyThisModel', (which?: unknown) => whyThisModel(this, which));
    this.command('coderoute.formatSelection', () => runEditAction(this, 'format'));
    this.command('coderoute.generate', (instruction?: unknown) => runEditAction(this, 'generate', { instruction: typeof instruction === 'string' ? instruction : undefined }));
    this.command('coderoute.debugFix', () => runEditAction(this, 'debug'));
    this.command('coderoute.doWhatIMean', () => doWhatIMean(this));
    this.command('coderoute.retryStronger', () => retryStronger(this));
    this.command('coderoute.thumbsUp', (uri?: unknown) => rateExplanation(this, 'thumbs-up', uri));
    this.command('coderoute.thumbsDown', (uri?: unknown) => rateExplanation(this, 'thumbs-down', uri));
    this.command('coderoute.cancelRequests', () => {
      const count = this.running.size;
      this.running.forEach((source) => source.cancel());
      return count;
    });
    this.command('coderoute.setApiKey', (providerId?: unknown, key?: unknown) => setApiKey(this, providerId, key));
    this.command('coderoute.clearApiKey', (providerId?: unknown) => clearApiKey(this, providerId));
    this.command('coderoute.classifyAtCursor', () => classifyAtCursor(this));
    this.command('coderoute.showLog', () => log.show());
    this.command('coderoute.showRequests', () => this.requestsPanel.show());
    this.command('coderoute.showSpend', () => this.showSpend(extension.extensionUri));
    this.command('coderoute.reviewRepoPolicy', (action?: unknown) => this.repoPolicy.review(action));
    this.command('coderoute.repoPolicyState', () => this.repoPolicy.settled().then(() => this.repoPolicy.status()));
    this.command('coderoute.acceptProposal', () => this.proposals.accept());
    this.command('coderoute.discardProposal', () => this.proposals.discard());
    this.command('coderoute.proposeEdit', (args: ProposeEditArgs) => this.proposals.propose(proposalFrom(args)));
    this.command('coderoute.outcomes', () => this.outcomes.flushed().then(() => this.outcomes.all));
    this.command('coderoute.resetLearning', (options?: unknown) => resetLearning(this, options));
    this.command('coderoute.exportLearning', (target?: unknown) => exportLearning(this, target));
    this.command('coderoute.learningState', () => learningState(this));
    this.command('coderoute.spendStatus', async () => {
      const ledger = await this.spend.ready();
      return { ...this.spend.statusSnapshot(), file: ledger?.path, budgets: ledger?.budgets(), settled: ledger?.settled().length ?? 0 };
    });
    this.command('coderoute.setOtlpToken', (token?: unknown) => setOtlpToken(this, token));
    this.command('coderoute.clearOtlpToken', () => clearOtlpToken(this));
    this.own(registerSpendCommands(this, () => this.spend.ready()));
    // Off unless coderoute.telemetry.otlpEndpoint is set; follows the setting.
    this.own(startTelemetry(this, this.spend.ready()));
    this.completions = this.own(new InlineCompletions(this, extension.globalState));
    const registering = performance.now();
    const chatModels = registerChatModels(this);
    this.chatModels = chatModels && this.own(chatModels);
    if (chatModels) log.info(`chat: CodeRoute's models are offered to the chat model picker (registered in ${(performance.now() - registering).toFixed(1)} ms)`);
    this.command('coderoute.chatState', () => ({ available: !!this.chatModels, last: this.chatModels?.last }));
    this.command('coderoute.detectModels', () => detectModels(this, 'command'));
    this.command('coderoute.addProvider', (args?: unknown) => addProvider(this, args));
    this.command('coderoute.manageModels', (args?: unknown) => manageModels(this, args));
    const firstRun = startDiscovery(this, this.disposables);
    this.command('coderoute.discoveryState', () => firstRun.then((start) => ({ start })));
  }

  /** The last action of this window, for Retry with a Stronger Model. */
  get lastAction(): LastAction | undefined {
    return this.last;
  }

  rememberAction(action: LastAction): void {
    this.last = action;
  }

  /** What routing obeys: the user's settings, tightened by the repository policy when it applies. */
  policy(): Policy {
    return this.repoPolicy.current(this.settings.current.settings);
  }

  /** Spend against the budgets: the ledger of every window, calls in flight included (this window's requests until it is open). */
  budgetState(): BudgetState {
    const fromLedger = this.spend.budgetState();
    if (fromLedger) return fromLedger;
    const { settings } = this.settings.current;
    return budgetFromAttempts(this.history.all, settings, this.prices, new Date(), "this window's requests");
  }

  /** CodeRoute: Show Spend — the panel over the ledger (opened first if this is the first use of it). */
  private async showSpend(extensionUri: vscode.Uri): Promise<void> {
    const ledger = await this.spend.ready();
    if (!ledger) {
      showUserError('CodeRoute has no spend ledger in this window: its storage is not on this machine or could not be opened.', OPEN_LOG);
      return;
    }
    this.spendPanel ??= this.own(
      new SpendPanel(extensionUri, ledger, { learner: this.learning.learner, decisions: this.decisions, exportCsv: () => vscode.commands.executeCommand('coderoute.exportSpend') }, this.log),
    );
    this.spendPanel.show();
  }

  /** Hands a user's signal to the learner, when learning is on. */
  private learnFrom(outcome: Outcome | undefined): void {
    if (!outcome || !this.settings.current.settings.learning.enabled) return;
    const result = this.learning.learner.observe(outcome.requestId, outcome.kind);
    // A request routed before a reset, a switch of storage, or while learning was off.
    if (result === 'unknown-request') this.log.debug(`learning: no decision recorded for ${outcome.kind} id=${outcome.requestId}`);
    else this.log.debug(`learning: ${outcome.kind} for ${outcome.modelId} ${result} id=${outcome.requestId}`);
  }

  private own<T extends vscode.Disposable>(disposable: T): T {
    this.disposables.push(disposable);
    return disposable;
  }

  private command(id: string, handler: (...args: never[]) => unknown): void {
    this.own(vscode.commands.registerCommand(id, handler));
  }

  dispose(): void {
    vscode.Disposable.from(...this.disposables.reverse()).dispose();
  }
}
