import { randomUUID } from 'node:crypto';
import { open as openFile, type FileHandle } from 'node:fs/promises';
import * as vscode from 'vscode';
import { classifyChatRequest, type ChatClassification, type ChatEditorContext } from '../../core/chat/chatClassifier';
import { AUTO_MODEL_ID, chatModelEntries, type ChatModelEntry } from '../../core/chat/chatModels';
import { chatPrivacy, type ChatFile } from '../../core/chat/chatPrivacy';
import { ChatTurns, requestKey, turnKey } from '../../core/chat/chatTurns';
import { readFileDirectives, DIRECTIVE_HEADER_LINES } from '../../core/policy/fileDirectives';
import { estimateMessagesTokens, type ChatMessage, type ToolSpec } from '../../core/providers/chatProvider';
import { decisionLogLine, decisionRecord } from '../../core/route/decisionRecord';
import { RouteError, type RouteDecision } from '../../core/route/routeDecision';
import { RouteRefusal, route, type RouteInput } from '../../core/route/router';
import { CachingTokenCounter } from '../../core/tokens/cachingTokenCounter';
import { callModel, errorFor } from '../actions/actionPipeline';
import type { CodeRouteContext } from '../coderouteContext';
import { requestContextFromEditor } from '../requestContextFromEditor';
import { chatProviderRegistration, type ChatModelInformation, type ChatModelProvider, type ChatModelRequestMessage, type ChatModelResponseOptions, type ChatModelResponsePart } from './chatModelApi';
import { fromChatRequestMessages, requestMessageText, toolsOf } from './chatMessages';

/** The vendor of CodeRoute's chat models, as `contributes.languageModelChatProviders` declares it. */
export const CHAT_VENDOR = 'coderoute';
/** Why This Model? keeps the chat's last decision under this key, beside the editors' documents. */
export const CHAT_DECISION_KEY = 'coderoute-chat:';
/** Files the messages reference whose first lines are read for `coderoute:` directives, at most. */
const MAX_REFERENCED_FILES = 32;
/** Bytes read of a referenced file that is not open, for its directives. */
const HEADER_BYTES = 8192;
/** Documents whose syntax tree can describe the request (not output channels or CodeRoute's own views). */
const EDITOR_SCHEMES = new Set(['file', 'untitled', 'vscode-remote', 'vscode-vfs']);

interface CodeRouteChatModel extends ChatModelInformation {
  readonly entry: ChatModelEntry;
}

/** What one chat request reports (to the log, and to tests through the last-request command). */
export interface ChatRequestReport {
  requestId: string;
  pickerModel: string;
  task: string;
  reason: string;
  modelId?: string;
  status: 'ok' | 'refused' | 'error' | 'cancelled';
  toolCalls: number;
}

function information(entry: ChatModelEntry): CodeRouteChatModel {
  return {
    id: entry.id,
    name: entry.name,
    family: entry.id === AUTO_MODEL_ID ? 'coderoute-auto' : `coderoute-${entry.tier ?? entry.id}`,
    version: '1',
    detail: entry.detail,
    tooltip: entry.tooltip,
    maxInputTokens: entry.maxInputTokens,
    maxOutputTokens: entry.maxOutputTokens,
    // Images are not carried to the models yet (the providers' requests hold text and tools only).
    capabilities: { toolCalling: entry.toolCalling, imageInput: false },
    entry,
  };
}

/**
 * CodeRoute's models in VS Code's chat model picker (CodeRoute Auto and one per configured tier),
 * answering through the same routing, budgets, fallbacks, ledger and learner as every other
 * request. Registered only where VS Code has the Language Model Chat Provider API (1.104 and later).
 */
export class CodeRouteChatModels implements ChatModelProvider<CodeRouteChatModel>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeLanguageModelChatInformation = this.changed.event;
  private readonly turns = new ChatTurns();
  private readonly counter: CachingTokenCounter;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private lastReport: ChatRequestReport | undefined;

  constructor(private readonly ctx: CodeRouteContext) {
    this.counter = new CachingTokenCounter(ctx.tokenCounter);
    // The list follows the settings and the repository policy (which may deny models).
    vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('coderoute') && this.changed.fire(), this, this.disposables);
    ctx.repoPolicy.onDidChange(() => this.changed.fire(), this, this.disposables);
  }

  /** Tells VS Code the list is ready to be asked for. */
  announce(): void {
    this.changed.fire();
  }

  /** The last chat request's report, for tests and the log. */
  get last(): ChatRequestReport | undefined {
    return this.lastReport;
  }

  provideLanguageModelChatInformation(): CodeRouteChatModel[] {
    const { settings } = this.ctx.settings.current;
    return chatModelEntries(this.ctx.policy(), settings.request.maxOutputTokens).map(information);
  }

  async provideTokenCount(_model: CodeRouteChatModel, text: string | ChatModelRequestMessage, token: vscode.CancellationToken): Promise<number> {
    const content = typeof text === 'string' ? text : requestMessageText(text);
    if (token.isCancellationRequested || content.length === 0) return 0;
    try {
      const [count] = await this.counter.count([content]);
      return count;
    } catch {
      // The tokenizer failed to start: the rough estimate, rather than no answer.
      return Math.ceil(content.length / 4);
    }
  }

  async provideLanguageModelChatResponse(
    model: CodeRouteChatModel,
    vsMessages: readonly ChatModelRequestMessage[],
    options: ChatModelResponseOptions,
    progress: vscode.Progress<ChatModelResponsePart>,
    token: vscode.CancellationToken,
  ): Promise<void> {
    const requestId = randomUUID();
    const report: ChatRequestReport = { requestId, pickerModel: model.name, task: 'chat', reason: '', status: 'error', toolCalls: 0 };
    this.lastReport = report;
    try {
      await this.answer(model, vsMessages, options, progress, token, report);
    } catch (error) {
      if (error instanceof vscode.CancellationError) report.status = 'cancelled';
      else if (error instanceof vscode.LanguageModelError) report.status = 'refused';
      else if (!(error instanceof ChatFailure)) {
        this.ctx.log.error(`chat: unexpected failure id=${requestId}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      }
      throw error instanceof ChatFailure ? new Error(error.message) : error;
    }
  }

  private async answer(
    model: CodeRouteChatModel,
    vsMessages: readonly ChatModelRequestMessage[],
    options: ChatModelResponseOptions,
    progress: vscode.Progress<ChatModelResponsePart>,
    token: vscode.CancellationToken,
    report: ChatRequestReport,
  ): Promise<void> {
    const { ctx } = this;
    const { requestId } = report;
    const { settings } = ctx.settings.current;
    const messages = fromChatRequestMessages(vsMessages);
    const { tools, toolMode } = toolsOf(options);
    const policy = ctx.policy();
    // The entry as the settings are now: the picker's list may be older than a settings change.
    const entry = chatModelEntries(policy, settings.request.maxOutputTokens).find((e) => e.id === model.id);
    if (!entry) throw vscode.LanguageModelError.NotFound(`${model.name} is no longer configured: no model in coderoute.models is of its tier.`);

    const editor = await this.editorContext(requestId);
    const classification = classifyChatRequest({ messages, toolCount: tools.length, editor: editor?.context });
    report.task = classification.task;
    report.reason = classification.reason;
    ctx.log.info(`chat (${model.name}): ${classification.reason}; difficulty ${classification.difficulty.toFixed(2)} id=${requestId}`);

    const files = await this.filesOf(classification, editor);
    const privacy = chatPrivacy(files, policy);
    if ('refused' in privacy) {
      report.status = 'refused';
      ctx.log.info(`chat: refused (no-ai): ${privacy.refused} id=${requestId}`);
      throw vscode.LanguageModelError.NoPermissions(privacy.refused);
    }

    // The same request again is a regenerate: the earlier answer was not wanted.
    const key = requestKey(messages, tools.map((t) => t.name));
    const regenerated = this.turns.takeRegenerated(key, Date.now());
    if (regenerated && settings.learning.enabled) {
      ctx.outcomes.record({ requestId: regenerated.requestId, task: regenerated.task, modelId: regenerated.modelId, kind: 'regenerated', at: Date.now(), detail: 'the same chat request was sent again' });
    }

    const turn = turnKey(messages);
    const decision = await this.decide(entry, classification, messages, tools, editor, privacy.privacy === 'local-only', turn, requestId);
    report.modelId = decision.chosen.model.id;
    ctx.decisions.remember(CHAT_DECISION_KEY, decision, `${classification.task} in the chat (${model.name})`);
    ctx.log.info(decisionLogLine(decisionRecord(decision)));
    const { provider } = decision.chosen;
    if (provider.auth === 'apiKey' && !(await ctx.apiKeys.get(provider.id))) {
      throw new ChatFailure(`No API key is set for ${provider.id}: run "CodeRoute: Set API Key" to add it.`);
    }

    const called = await callModel(ctx, decision, messages, '', (delta) => progress.report(new vscode.LanguageModelTextPart(delta)), {
      token,
      tools: tools.length > 0 ? tools : undefined,
      toolMode,
      maxOutputTokens: Math.min(settings.request.maxOutputTokens, model.maxOutputTokens),
    });
    if ('refused' in called) {
      report.status = 'refused';
      throw vscode.LanguageModelError.Blocked(called.refused);
    }
    const { outcome } = called;
    this.learnToolShape(called.decision, outcome.attempts);
    if (!outcome.result || !outcome.answeredBy) {
      if (token.isCancellationRequested || outcome.error?.kind === 'cancelled') throw new vscode.CancellationError();
      const error = outcome.error;
      if (!error) throw new ChatFailure('CodeRoute: no model of the chain could be called.');
      // VS Code's own models word their errors for the user; for the others, what to do, then what the service said.
      const viaVsCode = settings.providers.find((p) => p.id === called.last?.providerId)?.kind === 'vscode-lm';
      throw new ChatFailure(viaVsCode ? `CodeRoute: ${error.message}` : `CodeRoute: ${errorFor(error.kind, called.decision).message} (${error.message})`);
    }
    if (settings.chat.showRoutingNote && outcome.result.text) {
      progress.report(new vscode.LanguageModelTextPart(`\n\n_CodeRoute: ${outcome.answeredBy.model.id} answered. ${called.decision.reason}_`));
    }
    for (const call of outcome.result.toolCalls ?? []) progress.report(new vscode.LanguageModelToolCallPart(call.id, call.name, call.input));
    report.toolCalls = outcome.result.toolCalls?.length ?? 0;
    report.modelId = outcome.answeredBy.model.id;
    report.status = 'ok';
    // The rest of an agent turn stays on the model that answered this round (a fallback, if the chosen one failed).
    if (tools.length > 0) this.turns.rememberTurn(turn, outcome.answeredBy.model.id);
    this.turns.rememberAnswer(key, { requestId, task: classification.task, modelId: outcome.answeredBy.model.id, at: Date.now() });
  }

  /**
   * The routing decision: Auto routes by the classification under the policy; a tier entry keeps
   * to its tier. A later round of an agent turn goes first to the model that answered the turn so
   * far, with the usual chain behind it.
   */
  private async decide(
    entry: ChatModelEntry,
    classification: ChatClassification,
    messages: readonly ChatMessage[],
    tools: readonly ToolSpec[],
    editor: EditorFacts | undefined,
    localOnly: boolean,
    turn: string,
    requestId: string,
  ): Promise<RouteDecision> {
    const { ctx } = this;
    const { learning, request } = ctx.settings.current.settings;
    const about = classification.aboutActiveEditor ? editor : undefined;
    const base: RouteInput = {
      requestId,
      task: classification.task,
      classification: about?.classification,
      difficulty: classification.difficulty,
      languageId: about?.languageId ?? 'plaintext',
      path: editor?.path ?? '',
      directives: { noAi: false, localOnly },
      policy: ctx.policy(),
      budget: ctx.budgetState(),
      prices: ctx.prices,
      tokens: { input: estimateMessagesTokens(messages), output: Math.min(request.maxOutputTokens, 1000) },
      estimator: learning.enabled ? await ctx.learning.ready() : undefined,
      explore: learning.explore,
      features: classification.features,
      requires: tools.length > 0 ? ['tools'] : undefined,
      candidates: entry.tier ? { entries: [entry.tier], origin: `${entry.name} in the chat's model picker` } : undefined,
    };
    const routeOrThrow = (input: RouteInput): RouteDecision => {
      try {
        return route(input);
      } catch (error) {
        if (error instanceof RouteRefusal) throw vscode.LanguageModelError.NoPermissions(error.message);
        if (error instanceof RouteError) throw new ChatFailure(`${error.message} (${error.setting})`);
        throw error;
      }
    };
    const decision = routeOrThrow(base);
    const sticky = classification.toolRounds > 0 ? this.turns.modelOfTurn(turn) : undefined;
    if (!sticky || sticky === decision.chosen.model.id) return decision;
    try {
      const kept = route({ ...base, candidates: { entries: [sticky], origin: 'the model that answered this agent turn so far' }, explore: false });
      const chain = [decision.chosen, ...decision.fallbacks].filter((r) => r.model.id !== sticky);
      return { ...kept, fallbacks: chain.slice(0, 3) };
    } catch {
      // That model may no longer take the request (denied, over budget, settings changed): the usual choice.
      ctx.log.info(`chat: ${sticky} began this agent turn but may not continue it; ${decision.chosen.model.id} does id=${requestId}`);
      return decision;
    }
  }

  /** A tool call in the wrong shape is the model's failure: learned as one, whoever answered in the end. */
  private learnToolShape(decision: RouteDecision, attempts: readonly { modelId: string; errorKind?: string }[]): void {
    const { ctx } = this;
    if (!ctx.settings.current.settings.learning.enabled || !decision.estimateContext) return;
    for (const attempt of attempts) {
      if (attempt.errorKind !== 'bad-tool-call') continue;
      const id = `${decision.requestId}/${attempt.modelId}/tool-call`;
      ctx.learning.learner.record(id, attempt.modelId, decision.estimateContext);
      ctx.outcomes.record({ requestId: id, task: decision.task, modelId: attempt.modelId, kind: 'failed-tool-call', at: Date.now() });
    }
  }

  /** The active editor as the classifier and the privacy check see it, when there is one. */
  private async editorContext(requestId: string): Promise<EditorFacts | undefined> {
    const editor = vscode.window.activeTextEditor;
    if (!editor || !EDITOR_SCHEMES.has(editor.document.uri.scheme)) return undefined;
    const request = requestContextFromEditor(editor, undefined, requestId, this.ctx.documentTexts);
    const directives = await this.ctx.classifier.directives(request);
    // A no-AI file is refused before its tree is even read.
    if (directives.noAi) return { path: request.path, languageId: request.languageId, directives };
    const classification = await this.ctx.classifier.classify(request, 'auto');
    const context: ChatEditorContext = {
      path: request.path,
      languageId: request.languageId,
      selectionText: editor.document.getText(editor.selection),
      classification: { ...classification, task: classification.task as ChatEditorContext['classification']['task'] },
    };
    return { path: request.path, languageId: request.languageId, directives, classification, context };
  }

  /** The active editor's file and every file the messages reference, with their directives where readable. */
  private async filesOf(classification: ChatClassification, editor: EditorFacts | undefined): Promise<ChatFile[]> {
    const files: ChatFile[] = editor ? [{ path: editor.path, directives: editor.directives, active: true }] : [];
    const seen = new Set(files.map((f) => f.path));
    for (const reference of classification.referencedPaths.slice(0, MAX_REFERENCED_FILES)) {
      const uri = uriOf(reference);
      const path = uri ? vscode.workspace.asRelativePath(uri, false) : reference.replace(/^\.\//, '');
      if (seen.has(path)) continue;
      seen.add(path);
      const header = uri ? await headerOf(uri) : undefined;
      files.push({ path, directives: header === undefined ? undefined : readFileDirectives(header), active: false });
    }
    return files;
  }

  dispose(): void {
    vscode.Disposable.from(...this.disposables).dispose();
  }
}

interface EditorFacts {
  path: string;
  languageId: string;
  directives: { noAi: boolean; localOnly: boolean };
  classification?: NonNullable<RouteInput['classification']>;
  context?: ChatEditorContext;
}

/** A failure whose message is for the user as it is. */
class ChatFailure extends Error {}

/** The file a reference names: a URI, an absolute path, or a path relative to the first workspace folder. */
function uriOf(reference: string): vscode.Uri | undefined {
  try {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(reference)) return vscode.Uri.parse(reference, true);
    if (reference.startsWith('/') || /^[a-zA-Z]:[\\/]/.test(reference)) return vscode.Uri.file(reference);
    const folder = vscode.workspace.workspaceFolders?.[0];
    return folder ? vscode.Uri.joinPath(folder.uri, reference.replace(/^\.\//, '')) : undefined;
  } catch {
    return undefined;
  }
}

/** The first lines of a file, where its directives are: from the open document, else its first bytes on disk; undefined when unreadable. */
async function headerOf(uri: vscode.Uri): Promise<string | undefined> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open) return open.getText(new vscode.Range(0, 0, Math.min(DIRECTIVE_HEADER_LINES, open.lineCount), 0));
  if (uri.scheme !== 'file') return undefined;
  let handle: FileHandle | undefined;
  try {
    // Only the head: a referenced file may be huge.
    handle = await openFile(uri.fsPath, 'r');
    const buffer = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEADER_BYTES, 0);
    return buffer.subarray(0, bytesRead).toString('utf8').split('\n').slice(0, DIRECTIVE_HEADER_LINES).join('\n');
  } catch {
    return undefined;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Offers CodeRoute's models in the chat model picker where this VS Code can (1.104 and later);
 * undefined elsewhere, where the rest of CodeRoute works as before.
 */
export function registerChatModels(ctx: CodeRouteContext): CodeRouteChatModels | undefined {
  const register = chatProviderRegistration();
  if (!register) {
    ctx.log.info(`chat: VS Code ${vscode.version} has no Language Model Chat Provider API; CodeRoute's chat models are not offered`);
    return undefined;
  }
  const models = new CodeRouteChatModels(ctx);
  const registration = register(CHAT_VENDOR, models);
  // VS Code lists a provider's models in the picker only once something asks for them (Copilot Chat
  // does, when it runs; without an account it does not): say they are there, so they show anyway.
  models.announce();
  const dispose = models.dispose.bind(models);
  models.dispose = () => {
    registration.dispose();
    dispose();
  };
  return models;
}
