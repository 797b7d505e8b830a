import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { abortableSleep } from '../../core/actions/runChatAttempt';
import { CompletionCache } from '../../core/complete/completionCache';
import { CompletionEngine, type CompletionOutcome, type NoCompletionReason } from '../../core/complete/completionEngine';
import { AdaptiveDebouncer } from '../../core/complete/debouncer';
import { CompletionEscalation } from '../../core/complete/escalation';
import { completionsEnabledFor } from '../../core/config/settingsSchema';
import type { OutcomeKind } from '../../core/learn/outcomes';
import { decisionLogLine, decisionRecord } from '../../core/route/decisionRecord';
import type { CodeRouteContext } from '../coderouteContext';
import { chatProviderFor } from '../providers/chatProviderFor';
import { requestContextFor } from '../requestContextFromEditor';
import { reserveBudget } from '../spend/budgetGate';
import { missingKeyError, noModelError, settingError } from '../ui/setupErrors';
import { OPEN_LOG, WALKTHROUGH_ID, showUserError } from '../ui/userErrors';
import { CompletionStatus, completionsMenu, toggleCompletions } from './completionStatus';

/** A completion handed to VS Code as ghost text, waiting for what the user does with it. */
interface Shown {
  requestId: string;
  modelId: string;
  contextKey: string;
  documentUri: string;
  /** Where the rest of the completion would go (it moves as the user types through it). */
  offset: number;
  /** Where the completion started, and all of it. */
  startOffset: number;
  fullText: string;
  /** What is left of it. */
  rest: string;
  partial: boolean;
}

/** An accepted completion, for "accepted, then undone". */
interface Accepted {
  requestId: string;
  modelId: string;
  contextKey: string;
  documentUri: string;
  startOffset: number;
  length: number;
  at: number;
}

/** Counters for the state command and the log; nothing in them is code. */
export interface CompletionCounters {
  /** Calls VS Code made to the provider. */
  asked: number;
  /** Calls dropped because the user typed again within the debounce. */
  debounced: number;
  /** Requests sent to a model. */
  sent: number;
  cacheHits: number;
  shown: number;
  none: Partial<Record<NoCompletionReason, number>>;
  outcomes: Partial<Record<OutcomeKind, number>>;
}

export interface CompletionsState {
  enabled: boolean;
  counters: CompletionCounters;
  /** The last completion's decision: request, kind, chosen model and why. */
  last?: { requestId: string; kind: string; modelId: string; cached?: string; reason: string; escalated: boolean; timings: CompletionOutcome['timings'] };
  /** The completion shown now, waiting for the user's verdict. */
  pending?: { requestId: string; modelId: string };
}

/** How long after acceptance an undo counts against the completion. */
const UNDO_WINDOW_MS = 60_000;
/** Quiet moments after a keystroke and after the cursor moved, before the tree around it is brought up to date. */
const PREPARE_AFTER_KEYSTROKE_MS = 30;
const PREPARE_AFTER_MOVE_MS = 150;
/** A cursor move this soon after an edit of its document came from the edit. */
const PREPARE_AFTER_EDIT_MS = 100;
/** Global state: the providers whose missing key inline completions already pointed out. */
const KEY_PROMPTS = 'coderoute.completions.keyPrompts';
/** How many recent requests are remembered for a late "accepted" from VS Code. */
const RECENT_REQUESTS = 50;

/**
 * Inline completions (ghost text) in every language: the VS Code side of `CompletionEngine`.
 * It debounces (adaptively, per document), keeps one request in flight per document (a newer
 * keystroke cancels the older request), and turns what the user then does into signals: accepted
 * (the item's command), partially accepted (a word or line of it taken), ignored (typed past or
 * moved away), undone (an accepted completion undone within a minute). Signals go to the outcome
 * log, which feeds the learner and the ledger, and to the per-context escalation.
 */
export class InlineCompletions implements vscode.InlineCompletionItemProvider, vscode.Disposable {
  readonly cache = new CompletionCache();
  readonly escalation = new CompletionEscalation();
  private debouncer: AdaptiveDebouncer;
  private readonly engine: CompletionEngine;
  private readonly status: CompletionStatus;
  private readonly inFlight = new Map<string, AbortController>();
  private shown: Shown | undefined;
  private accepted: Accepted[] = [];
  private readonly recent = new Map<string, { modelId: string; contextKey: string }>();
  private readonly told = new Set<string>();
  private readonly counters: CompletionCounters = { asked: 0, debounced: 0, sent: 0, cacheHits: 0, shown: 0, none: {}, outcomes: {} };
  private last: CompletionsState['last'];
  private readonly disposables: vscode.Disposable[] = [];
  /** Per document, when it was last edited: a cursor move right after an edit is typing, not navigation. */
  private readonly lastEditAt = new Map<string, number>();
  private prepareTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly ctx: CodeRouteContext,
    /** Remembers which providers' missing keys were already pointed out (once, not in every window). */
    private readonly memento: vscode.Memento,
  ) {
    const { settings } = ctx;
    this.debouncer = new AdaptiveDebouncer({ minDelayMs: settings.current.settings.completions.debounceMs });
    this.status = new CompletionStatus(settings);
    this.disposables.push(this.status);
    this.engine = new CompletionEngine({
      classifier: ctx.classifier,
      settings: () => settings.current.settings,
      policy: () => ctx.policy(),
      budget: () => ctx.budgetState(),
      prices: ctx.prices,
      learner: () => ctx.learning.ready(),
      apiKey: async (id) => ctx.apiKeys.get(id),
      reserve: (decision, promptTokens, maxOutputTokens) => reserveBudget(ctx, decision, { tokens: promptTokens }, maxOutputTokens),
      chatProvider: (routed, key) => chatProviderFor(routed, key, settings.current.settings, ctx.providerClients),
      completionProvider: (routed, key) =>
        routed.provider.kind === 'openai'
          ? ctx.providerClients.completions(routed.provider, key, settings.current.settings.request)
          : undefined,
      parse: async (languageId, text) => (await ctx.treeSitter.parse(languageId, text, { timeCapMs: 20 }))?.tree,
      health: ctx.providerHealth,
      logger: ctx.log,
      tokens: ctx.tokenCounter,
      cache: this.cache,
      escalation: this.escalation,
      onAttempts: (attempts) => attempts.forEach((a) => ctx.history.record(a, Date.now())),
    });
    this.disposables.push(
      vscode.languages.registerInlineCompletionItemProvider({ pattern: '**' }, this),
      vscode.commands.registerCommand('coderoute.completionAccepted', (requestId?: unknown) => this.onAccepted(requestId)),
      vscode.commands.registerCommand('coderoute.toggleCompletions', (on?: unknown) => toggleCompletions(settings, typeof on === 'boolean' ? on : undefined)),
      vscode.commands.registerCommand('coderoute.completionsMenu', () => completionsMenu(settings)),
      vscode.commands.registerCommand('coderoute.completionsState', (): CompletionsState => this.state()),
    );
    vscode.workspace.onDidChangeTextDocument(this.onDocumentChange, this, this.disposables);
    vscode.window.onDidChangeTextEditorSelection(this.onSelectionChange, this, this.disposables);
    vscode.window.onDidChangeActiveTextEditor(() => this.resolveShown('ignored', 'editor changed'), this, this.disposables);
    vscode.workspace.onDidCloseTextDocument(
      (d) => {
        this.debouncer.forget(d.uri.toString());
        this.lastEditAt.delete(d.uri.toString());
      },
      this,
      this.disposables,
    );
    vscode.workspace.onDidChangeConfiguration(
      (e) => {
        // Another model list or template must not serve completions cached for the old one.
        if (e.affectsConfiguration('coderoute')) this.cache.clear();
        if (e.affectsConfiguration('coderoute.completions.debounceMs')) this.debouncer = new AdaptiveDebouncer({ minDelayMs: settings.current.settings.completions.debounceMs });
      },
      this,
      this.disposables,
    );
  }

  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    const { settings } = this.ctx.settings.current;
    if (!completionsEnabledFor(settings, document.languageId)) return undefined;
    // The suggest widget is open on an item: its choice comes first.
    if (context.selectedCompletionInfo) return undefined;
    this.counters.asked++;
    const documentUri = document.uri.toString();
    // One request in flight per document: the newer keystroke wins.
    this.inFlight.get(documentUri)?.abort();
    const controller = new AbortController();
    this.inFlight.set(documentUri, controller);
    const linked = token.onCancellationRequested(() => controller.abort());
    try {
      if (context.triggerKind === vscode.InlineCompletionTriggerKind.Automatic && !(await this.debounce(documentUri, controller.signal))) {
        this.counters.debounced++;
        return undefined;
      }
      const requestId = randomUUID();
      const request = requestContextFor(document, new vscode.Selection(position, position), 'complete', requestId, this.ctx.documentTexts);
      this.status.set({ kind: 'busy' });
      let outcome: CompletionOutcome;
      try {
        outcome = await this.engine.complete({ request, offset: document.offsetAt(position), signal: controller.signal });
      } catch (error) {
        this.ctx.log.error(`complete: unexpected failure id=${requestId}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        this.status.set({ kind: 'problem', message: 'an internal error; see the log' });
        return undefined;
      }
      if (outcome.status === 'none') {
        this.onNone(outcome);
        return undefined;
      }
      if (outcome.cached) this.counters.cacheHits++;
      else this.counters.sent++;
      this.status.set({ kind: 'idle' }, outcome.modelId);
      if (controller.signal.aborted) return undefined;
      return [this.itemFor(document, position, outcome)];
    } finally {
      linked.dispose();
      if (this.inFlight.get(documentUri) === controller) this.inFlight.delete(documentUri);
    }
  }

  /** Waits out the debounce; false when the user typed again (or the request was cancelled) meanwhile. */
  private async debounce(documentUri: string, signal: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal.aborted) return false;
      const decision = this.debouncer.decide(documentUri, Date.now());
      if (decision.action === 'request') return true;
      await abortableSleep(decision.retryInMs, signal);
    }
  }

  private itemFor(document: vscode.TextDocument, position: vscode.Position, outcome: Extract<CompletionOutcome, { status: 'completion' }>): vscode.InlineCompletionItem {
    const documentUri = document.uri.toString();
    const offset = document.offsetAt(position);
    const previous = this.shown;
    // The same completion, still being typed through (or asked again at the same spot): one request, one verdict.
    const same = previous && previous.documentUri === documentUri && previous.offset === offset && previous.rest === outcome.text;
    let requestId = outcome.requestId;
    if (same) {
      requestId = previous.requestId;
    } else {
      this.resolveShown('ignored', 'replaced by a newer completion');
      this.shown = { requestId, modelId: outcome.modelId, contextKey: outcome.contextKey, documentUri, offset, startOffset: offset, fullText: outcome.text, rest: outcome.text, partial: false };
      this.remember(requestId, outcome.modelId, outcome.contextKey);
      this.counters.shown++;
      const { decision } = outcome;
      this.last = {
        requestId,
        kind: outcome.kind,
        modelId: outcome.modelId,
        cached: outcome.cached,
        reason: decision.reason,
        escalated: (decision.rejected?.length ?? 0) > 0,
        timings: outcome.timings,
      };
      this.ctx.decisions.remember(documentUri, decision, `${outcome.kind} in ${vscode.workspace.asRelativePath(document.uri, false)}`);
      if (!outcome.cached) this.ctx.log.info(decisionLogLine(decisionRecord(decision)));
      this.ctx.log.debug(`complete: ${outcome.kind} from ${outcome.modelId}${outcome.cached ? ` (cache, ${outcome.cached})` : ''} in ${Math.round(outcome.timings.totalMs)} ms id=${requestId}`);
    }
    return new vscode.InlineCompletionItem(outcome.text, new vscode.Range(position, position), {
      command: 'coderoute.completionAccepted',
      title: 'Inline completion accepted',
      arguments: [requestId],
    });
  }

  /** Nothing to show: say why where the user can act on it, once; otherwise only in the status item and the log. */
  private onNone(outcome: Extract<CompletionOutcome, { status: 'none' }>): void {
    this.counters.none[outcome.why] = (this.counters.none[outcome.why] ?? 0) + 1;
    const message = outcome.message ?? '';
    switch (outcome.why) {
      case 'missing-key': {
        this.status.set({ kind: 'problem', message });
        // Asked once per provider, ever: after that the status item says it.
        const asked = this.memento.get<string[]>(KEY_PROMPTS, []);
        if (!outcome.subject || asked.includes(outcome.subject)) return;
        void this.memento.update(KEY_PROMPTS, [...asked, outcome.subject]);
        const explained = outcome.decision ? missingKeyError('complete', outcome.decision) : undefined;
        const text = explained?.message ?? `Inline completions need an API key for ${outcome.subject}.`;
        const choices = ['Set API Key', ...(explained?.providerIsDefault ? ['Open Walkthrough'] : []), 'Turn Off Completions'];
        void vscode.window.showWarningMessage(text, ...choices).then((choice) => {
          if (choice === 'Set API Key') void vscode.commands.executeCommand('coderoute.setApiKey', outcome.subject);
          if (choice === 'Open Walkthrough') void vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH_ID, false);
          if (choice === 'Turn Off Completions') void toggleCompletions(this.ctx.settings, false);
        });
        return;
      }
      case 'config':
        if (this.ctx.settings.current.settings.models.length === 0) {
          // A new user with no model yet: the first-run offer and the first action's message say
          // what to do; ghost text does not pop up an error of its own at every pause in typing.
          this.status.set({ kind: 'problem', message: noModelError('complete').message });
          return;
        }
        this.status.set({ kind: 'problem', message });
        this.once(`config:${message}`, () => {
          const shown = settingError(message, outcome.subject ?? 'coderoute.tasks.complete');
          showUserError(`Inline completions: ${shown.message}`, ...shown.actions);
        });
        return;
      case 'failed':
        this.status.set({ kind: 'problem', message: `the model call failed (${message}).` });
        this.once(`failed:${outcome.subject}`, () => showUserError(`Inline completions: ${outcome.subject ?? 'the provider'} failed (${message}).`, OPEN_LOG));
        return;
      case 'budget':
        this.status.set({ kind: 'held', message });
        this.ctx.log.info(`complete: ${message} id=${outcome.requestId}`);
        return;
      case 'no-ai':
      case 'no-allowed-model':
        this.status.set({ kind: 'held', message });
        this.once(`privacy:${message}`, () => this.ctx.log.info(`complete: ${message}`));
        return;
      default:
        this.status.set({ kind: 'idle' });
    }
  }

  private once(key: string, act: () => void): void {
    if (this.told.has(key)) return;
    this.told.add(key);
    act();
  }

  private onAccepted(requestId: unknown): boolean {
    if (typeof requestId !== 'string') return false;
    const shown = this.shown?.requestId === requestId ? this.shown : undefined;
    const known = shown ?? this.recent.get(requestId);
    if (!known) return false;
    if (shown) {
      this.shown = undefined;
      const at = Date.now();
      this.accepted = this.accepted.filter((a) => at - a.at < UNDO_WINDOW_MS);
      this.accepted.push({ requestId, modelId: shown.modelId, contextKey: shown.contextKey, documentUri: shown.documentUri, startOffset: shown.startOffset, length: shown.fullText.length, at });
    }
    this.signal(requestId, known.modelId, known.contextKey, 'accepted');
    return true;
  }

  private onDocumentChange(e: vscode.TextDocumentChangeEvent): void {
    if (e.contentChanges.length === 0) return;
    const documentUri = e.document.uri.toString();
    this.lastEditAt.set(documentUri, Date.now());
    if (e.reason === vscode.TextDocumentChangeReason.Undo) this.checkUndo(documentUri, e.contentChanges);
    else if (e.reason !== vscode.TextDocumentChangeReason.Redo) this.debouncer.keystroke(documentUri, Date.now());
    if (e.document === vscode.window.activeTextEditor?.document) this.schedulePrepare(e.document, PREPARE_AFTER_KEYSTROKE_MS);
    const shown = this.shown;
    if (!shown || shown.documentUri !== documentUri) return;
    const [change] = e.contentChanges;
    if (e.contentChanges.length === 1 && change.rangeLength === 0 && change.rangeOffset === shown.offset && change.text.length > 0 && shown.rest.startsWith(change.text)) {
      // Typed (or taken) the next part of the completion: it goes on showing the rest.
      if (change.text.length < shown.rest.length && change.text.length >= 2 && !shown.partial) {
        // More than a keystroke of it at once: a word or a line accepted.
        shown.partial = true;
        this.signal(shown.requestId, shown.modelId, shown.contextKey, 'partially-accepted');
      }
      shown.offset += change.text.length;
      shown.rest = shown.rest.slice(change.text.length);
      // All of it typed by hand: as good as accepted (Tab's command records it otherwise).
      if (shown.rest.length === 0 && change.text.length === 1) this.onAccepted(shown.requestId);
      return;
    }
    this.resolveShown('ignored', 'typed past');
  }

  private onSelectionChange(e: vscode.TextEditorSelectionChangeEvent): void {
    const { document } = e.textEditor;
    if (Date.now() - (this.lastEditAt.get(document.uri.toString()) ?? 0) > PREPARE_AFTER_EDIT_MS) this.schedulePrepare(document, PREPARE_AFTER_MOVE_MS);
    const shown = this.shown;
    if (!shown || e.textEditor.document.uri.toString() !== shown.documentUri) return;
    const [selection] = e.selections;
    if (selection && selection.isEmpty && e.textEditor.document.offsetAt(selection.active) === shown.offset) return;
    this.resolveShown('ignored', 'moved away');
  }

  /**
   * Keeps the syntax tree around the cursor current while nobody waits for it: shortly after a
   * keystroke (before the debounce ends and a request needs it), and after the cursor moves without
   * an edit (a click, the arrows, Go to Definition). The request's classification then reuses the
   * tree instead of parsing on the critical path.
   */
  private schedulePrepare(document: vscode.TextDocument, delayMs: number): void {
    if (!completionsEnabledFor(this.ctx.settings.current.settings, document.languageId)) return;
    clearTimeout(this.prepareTimer);
    this.prepareTimer = setTimeout(() => {
      const editor = vscode.window.activeTextEditor;
      if (editor?.document !== document || document.isClosed || this.inFlight.has(document.uri.toString())) return;
      const request = requestContextFor(document, editor.selection, 'complete', 'prepare', this.ctx.documentTexts);
      void this.engine.prepare(request);
    }, delayMs);
  }

  private checkUndo(documentUri: string, changes: readonly vscode.TextDocumentContentChangeEvent[]): void {
    const now = Date.now();
    this.accepted = this.accepted.filter((a) => now - a.at < UNDO_WINDOW_MS);
    const undone = this.accepted.filter(
      (a) => a.documentUri === documentUri && changes.some((c) => c.rangeOffset < a.startOffset + a.length && c.rangeOffset + c.rangeLength > a.startOffset),
    );
    for (const a of undone) this.signal(a.requestId, a.modelId, a.contextKey, 'undone');
    this.accepted = this.accepted.filter((a) => !undone.includes(a));
  }

  /** The shown completion was passed over; a partly taken one keeps its "partially accepted". */
  private resolveShown(kind: 'ignored', detail: string): void {
    const shown = this.shown;
    if (!shown) return;
    this.shown = undefined;
    if (!shown.partial) this.signal(shown.requestId, shown.modelId, shown.contextKey, kind, detail);
  }

  private signal(requestId: string, modelId: string, contextKey: string, kind: OutcomeKind, detail?: string): void {
    const recorded = this.ctx.outcomes.record({ requestId, task: 'complete', modelId, kind, at: Date.now(), detail });
    if (!recorded) return;
    this.ctx.log.debug(`complete: ${kind} ${modelId}${detail ? ` (${detail})` : ''} ctx=${JSON.stringify(contextKey)} id=${requestId}`);
    this.counters.outcomes[kind] = (this.counters.outcomes[kind] ?? 0) + 1;
    if (kind === 'accepted' || kind === 'partially-accepted') this.escalation.accept(contextKey, modelId, Date.now());
    else this.escalation.reject(contextKey, modelId, Date.now());
  }

  private remember(requestId: string, modelId: string, contextKey: string): void {
    this.recent.set(requestId, { modelId, contextKey });
    while (this.recent.size > RECENT_REQUESTS) this.recent.delete(this.recent.keys().next().value as string);
  }

  state(): CompletionsState {
    return {
      enabled: this.ctx.settings.current.settings.completions.enabled,
      counters: structuredClone(this.counters),
      last: this.last && { ...this.last, timings: { ...this.last.timings } },
      pending: this.shown && { requestId: this.shown.requestId, modelId: this.shown.modelId },
    };
  }

  dispose(): void {
    clearTimeout(this.prepareTimer);
    this.inFlight.forEach((c) => c.abort());
    vscode.Disposable.from(...this.disposables).dispose();
  }
}
