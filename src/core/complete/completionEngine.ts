import { costSampleFor } from '../spend/charges';
import { runChat, type Attempt, type ChatRunResult } from '../actions/runChatAttempt';
import type { Classification, InlineKind } from '../classify/classification';
import type { Settings } from '../config/settingsSchema';
import type { RequestContext } from '../context/requestContext';
import type { Learner } from '../learn/learner';
import type { Logger } from '../log/logger';
import type { FileDirectives } from '../policy/fileDirectives';
import type { Policy } from '../policy/policy';
import type { ChatMessage, ChatProvider, CompletionProvider } from '../providers/chatProvider';
import type { ProviderHealth } from '../providers/health/providerHealth';
import type { RetryPolicy } from '../providers/retryPolicy';
import { RouteError, type RouteDecision, type RoutedModel } from '../route/routeDecision';
import { RouteRefusal, route, type BudgetState, type PriceLookup } from '../route/router';
import type { TokenCounter } from '../tokens/tokenCounter';
import type { CompletionCache } from './completionCache';
import { CompletionEscalation, ESCALATION_TIERS } from './escalation';
import { buildFimPrompt, roughTokens, type FimPrompt } from './fimPrompt';
import { postprocessCompletion } from './postprocess';
import { stopAtSyntaxError, type ParseText } from './syntaxStop';

/**
 * One inline completion, end to end, on the same core as every other request: classify the spot
 * (`none` asks nothing), route task `complete` (privacy fails closed, budgets and escalation
 * apply), look in the cache, hold the budget, call the chain with a fill-in-the-middle or chat
 * prompt built for each model it reaches, post-process, cache. No `vscode` here: the extension's
 * inline provider, the benchmark and the tests drive it alike.
 */

/** Money held for one call (the extension's budget gate); `settle` writes what it cost exactly once. */
export interface CompletionReservation {
  decision: RouteDecision;
  settle(run: ChatRunResult): Promise<void>;
  release(): Promise<void>;
}

export interface CompletionEngineDeps {
  classifier: {
    classify(request: RequestContext, mode: 'inline'): Promise<Classification>;
    /** Brings the tree `classify` would use up to date, without classifying. */
    prepare(request: RequestContext, mode: 'inline'): Promise<void>;
    directives(request: RequestContext): Promise<FileDirectives>;
  };
  settings(): Settings;
  policy(): Policy;
  budget(): BudgetState;
  prices: PriceLookup;
  /** The learner when learning is on (its estimates route; it is told who answered). */
  learner(): Promise<Learner | undefined>;
  apiKey(providerId: string): Promise<string | undefined>;
  /** Holds the most the call can cost against the budgets, or says why not (nothing is sent then). */
  reserve(decision: RouteDecision, promptTokens: number, maxOutputTokens: number): Promise<CompletionReservation | { refused: string }>;
  /** Clients for one model of the chain (the deployment picked for this attempt). */
  chatProvider(routed: RoutedModel, apiKey: string | undefined): ChatProvider;
  /** The `/completions` client, for an OpenAI-compatible provider; undefined for the others. */
  completionProvider(routed: RoutedModel, apiKey: string | undefined): CompletionProvider | undefined;
  health: ProviderHealth;
  logger: Logger;
  /** Counts tokens the provider did not report. */
  tokens?: TokenCounter;
  cache: CompletionCache;
  escalation: CompletionEscalation;
  now?: () => number;
  /** Tree-sitter, for the syntax check of multi-line completions; without it only indentation and brackets stop them. */
  parse?: ParseText;
  /** Every provider attempt, as it settles (for the requests view and spend before the ledger opens). */
  onAttempts?(attempts: readonly Attempt[]): void;
}

export interface CompletionInput {
  request: RequestContext;
  /** The cursor, as an offset into `request.text`. */
  offset: number;
  signal: AbortSignal;
}

export type NoCompletionReason =
  /** The classifier says nothing should be asked here (inside a string, a blank file, a minified line…). */
  | 'kind-none'
  | 'no-ai'
  | 'no-allowed-model'
  | 'config'
  | 'missing-key'
  | 'budget'
  | 'cancelled'
  | 'failed'
  /** The model answered, but nothing useful was left after post-processing. */
  | 'empty';

export interface CompletionTimings {
  classifyMs: number;
  routeMs: number;
  /** The provider call(s), 0 for a cache hit. */
  callMs: number;
  totalMs: number;
}

export type CompletionOutcome =
  | {
      status: 'completion';
      requestId: string;
      text: string;
      kind: Exclude<InlineKind, 'none'>;
      decision: RouteDecision;
      /** The model whose text this is (a fallback when the chosen one failed). */
      modelId: string;
      /** Set when the cache answered: no model was called. */
      cached?: 'exact' | 'typed-through';
      /** Where rejections of this completion count (see `CompletionEscalation`). */
      contextKey: string;
      timings: CompletionTimings;
    }
  | {
      status: 'none';
      requestId: string;
      why: NoCompletionReason;
      /** For the user, where there is something to do (a key to set, a setting to fix). */
      message?: string;
      /** The provider or setting the message is about. */
      subject?: string;
      decision?: RouteDecision;
      timings: CompletionTimings;
    };

/** Text around the cursor given to the prompt builder, which trims it further to its token budget. */
const PREFIX_WINDOW = 24_000;
const SUFFIX_WINDOW = 8_000;
/** A line completion needs little output; a block may use the whole allowance. */
const LINE_OUTPUT_TOKENS = 128;
/** Completions are worth nothing late: one try per model, then the next model of the chain. */
const COMPLETION_RETRY: RetryPolicy = { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, maxTotalWaitMs: 0 };
const TEMPERATURE = 0.2;

/** Whether a model is asked through `/completions` (fill-in-the-middle) or through chat. */
export function completionApi(routed: RoutedModel): 'completions' | 'chat' {
  const { model, provider } = routed;
  return model.capabilities.includes('fim') && provider.kind === 'openai' && model.fimTemplate !== 'chat' ? 'completions' : 'chat';
}

export class CompletionEngine {
  private readonly now: () => number;

  constructor(private readonly deps: CompletionEngineDeps) {
    this.now = deps.now ?? (() => performance.now());
  }

  /**
   * Gets the syntax tree around a spot ready before anyone waits for it: called when the cursor
   * moves to another part of a file, so that the first completion there reparses a few lines
   * instead of parsing the window afresh.
   */
  async prepare(request: RequestContext): Promise<void> {
    try {
      await this.deps.classifier.prepare(request, 'inline');
    } catch (error) {
      this.deps.logger.debug(`complete: preparing the tree failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  async complete(input: CompletionInput): Promise<CompletionOutcome> {
    const { deps } = this;
    const { request, offset, signal } = input;
    const { requestId } = request;
    const started = this.now();
    const timings: CompletionTimings = { classifyMs: 0, routeMs: 0, callMs: 0, totalMs: 0 };
    const none = (why: NoCompletionReason, extra: { message?: string; subject?: string; decision?: RouteDecision } = {}): CompletionOutcome => {
      timings.totalMs = this.now() - started;
      return { status: 'none', requestId, why, timings, ...extra };
    };

    const [directives, classification] = await Promise.all([deps.classifier.directives(request), deps.classifier.classify(request, 'inline')]);
    timings.classifyMs = this.now() - started;
    const kind = classification.task;
    if (kind === 'none' || !isInlineKind(kind)) return none('kind-none');
    if (signal.aborted) return none('cancelled');

    const settings = deps.settings();
    const routeStarted = this.now();
    const contextKey = CompletionEscalation.contextKey(request.path, classification, request.selection.active.line);
    const escalated = deps.escalation.rejectedIn(contextKey, Date.now());
    const learner = settings.learning.enabled ? await deps.learner() : undefined;
    const maxOutputTokens = kind === 'complete-line' ? Math.min(LINE_OUTPUT_TOKENS, settings.completions.maxOutputTokens) : settings.completions.maxOutputTokens;
    const prefix = request.text.slice(Math.max(0, offset - PREFIX_WINDOW), offset);
    const suffix = request.text.slice(offset, offset + SUFFIX_WINDOW);
    const routeWith = (rejected: readonly string[]) =>
      route({
        requestId,
        task: 'complete',
        classification,
        languageId: request.languageId,
        path: request.path,
        directives,
        policy: deps.policy(),
        budget: deps.budget(),
        prices: deps.prices,
        tokens: { input: Math.min(roughTokens(prefix) + roughTokens(suffix), 2_200), output: Math.min(maxOutputTokens, 64) },
        estimator: learner,
        explore: settings.learning.explore,
        rejected,
        widen: rejected.length > 0 ? ESCALATION_TIERS : undefined,
        attemptsLeft: 1,
      });
    let decision: RouteDecision;
    try {
      try {
        decision = routeWith(escalated);
      } catch (error) {
        // Every model that could answer was rejected here: better one of them than none.
        if (!(error instanceof RouteRefusal && error.reason === 'no-allowed-model' && escalated.length > 0)) throw error;
        decision = routeWith([]);
      }
    } catch (error) {
      timings.routeMs = this.now() - routeStarted;
      if (error instanceof RouteRefusal) return none(error.reason, { message: error.message, subject: error.setting });
      if (error instanceof RouteError) return none('config', { message: error.message, subject: error.setting });
      throw error;
    }
    timings.routeMs = this.now() - routeStarted;

    // The cache: the same spot (or one typed into the completion) with the same model costs nothing.
    const lookup = { prefix, suffix, languageId: request.languageId, modelId: decision.chosen.model.id };
    const hit = deps.cache.get(lookup);
    if (hit && hit.completion.length > 0) {
      if (learner && decision.estimateContext) learner.record(requestId, decision.chosen.model.id, decision.estimateContext);
      timings.totalMs = this.now() - started;
      return { status: 'completion', requestId, text: hit.completion, kind, decision, modelId: decision.chosen.model.id, cached: hit.kind, contextKey, timings };
    }

    const { provider } = decision.chosen;
    const key = provider.auth === 'apiKey' ? await deps.apiKey(provider.id) : undefined;
    if (provider.auth === 'apiKey' && !key) return none('missing-key', { message: `No API key is set for ${provider.id}.`, subject: provider.id, decision });
    if (signal.aborted) return none('cancelled', { decision });

    const promptFor = (routed: RoutedModel, api = completionApi(routed)): FimPrompt =>
      buildFimPrompt({
        prefix,
        suffix,
        model: routed.model.name,
        template: routed.model.fimTemplate,
        api,
        path: request.path,
        languageId: request.languageId,
      });
    const firstPrompt = promptFor(decision.chosen);
    const promptMessages = messagesOf(firstPrompt);
    const reservation = await deps
      .reserve(decision, promptMessages.reduce((n, m) => n + roughTokens(m.content), 0), maxOutputTokens)
      .catch((error: unknown) => ({ refused: `CodeRoute could not check the budgets (${error instanceof Error ? error.message : String(error)}); nothing was sent.` }));
    if ('refused' in reservation) return none('budget', { message: reservation.refused, decision });
    const chain = reservation.decision;
    if (signal.aborted) {
      await reservation.release();
      return none('cancelled', { decision: chain });
    }

    // Keys of every provider the chain may reach, read once.
    const keys = new Map<string, string | undefined>([[provider.id, key]]);
    for (const routed of chain.fallbacks) {
      if (!keys.has(routed.provider.id)) keys.set(routed.provider.id, routed.provider.auth === 'apiKey' ? await deps.apiKey(routed.provider.id) : undefined);
    }
    let answeredPrompt: FimPrompt = firstPrompt;
    const providerFor = (target: RoutedModel): ChatProvider => {
      const apiKey = keys.get(target.provider.id);
      let prompt = promptFor(target);
      const fim = prompt.kind === 'chat' ? undefined : deps.completionProvider(target, apiKey);
      // A provider without a `/completions` endpoint is asked through chat.
      if (!fim) prompt = promptFor(target, 'chat');
      answeredPrompt = prompt;
      if (prompt.kind === 'chat' || !fim) {
        const chat = deps.chatProvider(target, apiKey);
        const messages = prompt.kind === 'chat' ? prompt.messages : [];
        return { streamChat: (req, onText, s) => chat.streamChat({ ...req, messages, temperature: TEMPERATURE }, onText, s) };
      }
      return {
        streamChat: (req, onText, s) =>
          fim.streamCompletion(
            {
              model: req.model,
              prompt: prompt.prompt,
              suffix: prompt.kind === 'fim-suffix' ? prompt.suffix : undefined,
              maxOutputTokens: req.maxOutputTokens,
              temperature: TEMPERATURE,
              stop: prompt.kind === 'fim-tokens' ? prompt.stop : undefined,
            },
            onText,
            s,
          ),
      };
    };
    const callStarted = this.now();
    let run: ChatRunResult;
    try {
      run = await runChat({
        decision: chain,
        messages: promptMessages,
        maxOutputTokens,
        providerFor,
        onText: () => undefined,
        signal,
        logger: deps.logger,
        health: deps.health,
        tokens: deps.tokens,
        policy: COMPLETION_RETRY,
      });
    } catch (error) {
      await reservation.release();
      throw error;
    }
    timings.callMs = this.now() - callStarted;
    // Written after this turn of the event loop, once the completion is on its way to the editor:
    // the ledger's write (a lock file and an fsync, synchronous) need not delay the ghost text.
    setImmediate(() => void reservation.settle(run));
    deps.onAttempts?.(run.attempts);
    if (!run.result || !run.answeredBy) return none(signal.aborted || run.error?.kind === 'cancelled' ? 'cancelled' : 'failed', { message: run.error?.message, subject: chain.chosen.provider.id, decision: chain });
    if (learner && chain.estimateContext) {
      const cost = costSampleFor(chain, run, { prices: deps.prices, catalogue: settings, unknown: settings.budget.unknownPrice });
      learner.record(requestId, run.answeredBy.model.id, chain.estimateContext, cost);
    }

    let text = postprocessCompletion({
      completion: run.result.text,
      prefix,
      suffix,
      mode: kind === 'complete-block' ? 'complete-block' : 'complete-line',
      languageId: request.languageId,
      fromChat: answeredPrompt.kind === 'chat',
      marker: answeredPrompt.kind === 'chat' ? answeredPrompt.marker : undefined,
    });
    if (text.includes('\n') && deps.parse) {
      text = (await stopAtSyntaxError({ completion: text, prefix, suffix, languageId: request.languageId, parse: deps.parse })).text;
    }
    if (!text.trim()) return none('empty', { decision: chain });
    deps.cache.set({ ...lookup, modelId: run.answeredBy.model.id }, text);
    timings.totalMs = this.now() - started;
    return { status: 'completion', requestId, text, kind, decision: chain, modelId: run.answeredBy.model.id, contextKey, timings };
  }
}

function isInlineKind(task: string): task is Exclude<InlineKind, 'none'> {
  return task === 'complete-line' || task === 'complete-block' || task === 'complete-comment';
}

/** The prompt as messages, for the budget's token estimate and the tokenizer's recount. */
function messagesOf(prompt: FimPrompt): ChatMessage[] {
  if (prompt.kind === 'chat') return prompt.messages;
  return [{ role: 'user', content: prompt.kind === 'fim-suffix' ? prompt.prompt + prompt.suffix : prompt.prompt }];
}
