import type { ClassifiedTask, Classification } from '../classify/classification';
import type { Task } from '../context/requestContext';
import type { ModelCapability, ModelConfig, ProviderConfig, RoutingMode, RoutingRule } from '../config/settingsSchema';
import type { FileDirectives } from '../policy/fileDirectives';
import { firstMatch } from '../policy/pathGlobs';
import type { Policy } from '../policy/policy';
import { allowedFor, type PrivacyClass } from '../policy/privacy';
import { formatUsd } from '../format/formatUsd';
import { estimateCost, priceOf, type ModelPrice } from './pricing';
import { TIER_PRIOR_ESTIMATOR, type AcceptanceEstimate, type AcceptanceEstimator, type EstimateContext } from './estimates';
import { RouteError, expandEntries, resolveModel, type RouteCandidate, type RouteDecision, type RoutedModel } from './routeDecision';

export type PriceLookup = (model: ModelConfig, provider: ProviderConfig) => ModelPrice | undefined;

/** What has been spent against the budgets, and how far through the day and month we are. */
export interface BudgetState {
  spentTodayUsd: number;
  spentMonthUsd: number;
  /** 0..1 of the day (and month) elapsed: the pace a budget should be spent at. */
  dayElapsed: number;
  monthElapsed: number;
  /** Where the figures come from, for the explanation (for example "this session's requests"). */
  source: string;
}

export const NO_SPEND: BudgetState = { spentTodayUsd: 0, spentMonthUsd: 0, dayElapsed: 0.5, monthElapsed: 0.5, source: 'no spend recorded' };

export interface RouteInput {
  requestId: string;
  /** The action's task. */
  task: Task;
  /** The classifier's view of the request (its task refines `complete` into line / block / comment). */
  classification?: Pick<Classification, 'task' | 'difficulty' | 'features' | 'language'>;
  /** The request's difficulty, 0..1, when it is not the classification's (a chat request's comes from its messages too). */
  difficulty?: number;
  languageId: string;
  /** Workspace-relative, `/`-separated. */
  path: string;
  directives?: FileDirectives;
  policy: Policy;
  budget?: BudgetState;
  estimator?: AcceptanceEstimator;
  prices?: PriceLookup;
  /** Expected tokens of the request, for the cost estimate. */
  tokens?: { input: number; output: number };
  /** Models whose answers to this request were rejected: they are left out, and the estimates know it. */
  rejected?: readonly string[];
  /** Further context facts for the estimates; by default from the classification. */
  features?: readonly (readonly [string, string])[];
  /** Model calls the user may still make for this request (this one included): 2 or more lets the
   * score count what an escalation after a rejection would bring. */
  attemptsLeft?: number;
  /** Let an estimator that can sample explore (bounded); on unless turned off. */
  explore?: boolean;
  /**
   * Tiers or model ids added to the rule's (or task setting's) candidates, for an escalation: the
   * cheap models' answers keep being rejected in this context, so stronger ones may answer.
   */
  widen?: readonly string[];
  /**
   * Candidates given by the caller instead of the rule or task setting (a tier pinned in the chat
   * model picker, the model that began an agent turn), with the words that say where they came from.
   * Everything else (privacy, repository policy, budgets, capabilities, the score) applies as usual.
   */
  candidates?: { entries: readonly string[]; origin: string };
  /** What the request needs of a model beyond chat (tools for an agent turn, images): others are left out. */
  requires?: readonly ModelCapability[];
}

/**
 * Exploration picks a model whose expected score is at most this below the best, or more only
 * where the try is worth it over the requests to come (`explorationBound`).
 */
export const EXPLORATION_MAX_LOSS = 0.05;
/** ...and only a model with less evidence than this in the request's bucket: exploring ends once a model is known there. */
export const EXPLORATION_MAX_EVIDENCE = 30;
/**
 * Answers of a model the estimator must have seen (in any context) before its estimate decides
 * alone: until then the model answers when it is a candidate. Bounded: this many per model, once.
 */
export const WARM_UP_ANSWERS = 3;

/**
 * The expected loss a try may take: EXPLORATION_MAX_LOSS, or more where the context comes up often
 * and the model's estimate here is uncertain. One more answer of the model moves its estimate by
 * about as much as that answer resolves of its variance; what the move may gain over the best
 * score (the knowledge gradient), for as many requests again as this context has had, is what
 * the try is worth. So a model that failed its first answers in a busy context (bad luck, not a
 * bad model) is tried again there, and a model that is well known, or a rare context, is not.
 * `slope`: how much the model's score moves with its acceptance (less than 1 with retries left).
 */
function explorationBound(estimate: AcceptanceEstimate, loss: number, slope: number): number {
  const { p } = estimate;
  const horizon = estimate.contextSamples ?? 0;
  const sdOdds = p > 0 && p < 1 ? (estimate.sd ?? 0) / (p * (1 - p)) : 0;
  if (!(sdOdds > 0) || horizon <= 0 || loss <= EXPLORATION_MAX_LOSS) return EXPLORATION_MAX_LOSS;
  // In log-odds an answer carries p(1 − p) of precision: the spread of the estimate's move.
  const v = sdOdds * sdOdds;
  const h = p * (1 - p);
  const move = Math.sqrt((v * v * h) / (1 + v * h)) * h * Math.abs(slope);
  const z = loss / move;
  const gain = move * (Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI)) - loss * normalTail(z);
  return Math.max(EXPLORATION_MAX_LOSS, horizon * gain);
}

/** For a try past EXPLORATION_MAX_LOSS, why it is worth it. */
function widerTry(loss: number | undefined, estimate: AcceptanceEstimate): string {
  if (loss === undefined || loss <= EXPLORATION_MAX_LOSS) return '';
  const n = Math.round(estimate.contextSamples ?? 0);
  return `; worth an expected loss of ${loss.toFixed(2)} now: requests like this one came about ${n} time${n === 1 ? '' : 's'} lately, and its estimate here is uncertain`;
}

/** P(Z > z) for a standard normal Z (Abramowitz and Stegun 7.1.26, error below 1.5e-7). */
function normalTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/** The request may not be sent anywhere (no-AI), or nowhere it may go is configured. */
export class RouteRefusal extends Error {
  constructor(
    message: string,
    readonly reason: 'no-ai' | 'no-allowed-model',
    /** The setting or file that decides, for an "Open" action. */
    readonly setting: string,
  ) {
    super(message);
    this.name = 'RouteRefusal';
  }
}

const MAX_CHAIN = 4;
/** Attempts looked ahead at most (the work grows with the candidates to this power). */
const MAX_LOOKAHEAD = 3;
/** How many candidates the lookahead considers. */
const LOOKAHEAD_CANDIDATES = 5;
/** What one more round trip costs the user (waiting, reading, asking again), in acceptance points. */
export const ATTEMPT_PENALTY = 0.3;

/** Context facts for the estimates beyond task, language and difficulty. */
function contextFeatures(input: RouteInput): (readonly [string, string])[] {
  if (input.features) return [...input.features];
  const f = input.classification?.features;
  if (!f) return [];
  const errors = (f.syntaxErrors ?? 0) + (f.diagnosticErrors ?? 0);
  return [
    ['unit', f.unit?.kind ?? 'none'],
    ['errors', errors > 0 ? 'yes' : 'no'],
  ];
}
const DEFAULT_TOKENS = { input: 1500, output: 500 };

/** A model's price-list cost of a typical request (the router's default token estimate), when its price is known. */
export function typicalCostUsd(catalogue: { models: readonly ModelConfig[]; providers: readonly ProviderConfig[] }, modelId: string, prices: PriceLookup): number | undefined {
  const model = catalogue.models.find((m) => m.id === modelId);
  const provider = model && catalogue.providers.find((p) => p.id === model.provider);
  return model && provider ? costOf(prices(model, provider), DEFAULT_TOKENS) : undefined;
}

function costOf(price: ModelPrice | undefined, tokens: { input: number; output: number }): number | undefined {
  return price ? estimateCost(price, tokens.input, tokens.output) : undefined;
}

/** The price-list cost as the estimator has learned it runs here (a reasoning model spending 3× the tokens). */
function withFactor(listCost: number | undefined, estimate: AcceptanceEstimate): number | undefined {
  return listCost === undefined || estimate.costFactor === undefined ? listCost : listCost * estimate.costFactor;
}

function ruleMatches(rule: RoutingRule, task: Task, kind: ClassifiedTask | Task, input: RouteInput, difficulty: number, privacy: PrivacyClass): boolean {
  const { when } = rule;
  if (when.task && !when.task.some((t) => t === task || t === kind)) return false;
  if (when.language && !when.language.includes(input.languageId)) return false;
  if (when.path && !firstMatch(input.path, when.path)) return false;
  if (when.difficulty && (difficulty < when.difficulty[0] || difficulty > when.difficulty[1])) return false;
  if (when.privacy && when.privacy !== privacy) return false;
  return true;
}

/** The facts of the request that routing looked at, as short phrases. */
function featurePhrases(input: RouteInput, kind: ClassifiedTask | Task, difficulty: number): string[] {
  const f = input.classification?.features;
  const facts = [`task ${kind}`, `language ${input.languageId}`, `difficulty ${difficulty.toFixed(2)}`];
  if (f?.unit && f.unit.kind !== 'lines') facts.push(`${f.unit.lines}-line ${f.unit.kind.replace(/_/g, ' ')}${f.unit.name ? ` ${f.unit.name}` : ''}`);
  const errors = (f?.syntaxErrors ?? 0) + (f?.diagnosticErrors ?? 0);
  if (errors > 0) facts.push(`${errors} error${errors === 1 ? '' : 's'}`);
  return facts;
}

/** "debug in a 40-line rust function with 2 errors". */
function describeRequest(input: RouteInput, kind: ClassifiedTask | Task): string {
  const f = input.classification?.features;
  const unit = f?.unit && f.unit.kind !== 'lines' ? ` in a ${f.unit.lines}-line ${input.languageId} ${f.unit.kind.replace(/_/g, ' ')}` : ` in ${input.languageId}`;
  const errors = (f?.syntaxErrors ?? 0) + (f?.diagnosticErrors ?? 0);
  return `${kind}${unit}${errors > 0 ? ` with ${errors} error${errors === 1 ? '' : 's'}` : ''}`;
}

interface Scored {
  routed: RoutedModel;
  position: number;
  p: number;
  /** The expected cost: the price-list estimate times what the estimator learned of this model here. */
  cost: number | undefined;
  /** The price-list estimate alone. */
  listCost: number | undefined;
  score: number;
  price?: ModelPrice;
  excluded?: string;
  samples: number;
  source: 'prior' | 'learned';
  estimate: AcceptanceEstimate;
}

/**
 * The routing engine. From the request (task, classification, file, directives), the merged
 * policy, the budget state and the acceptance estimates, it decides which model answers, which
 * follow as fallbacks, and why, in a form a user can read and a test can check.
 *
 * - `task` mode: rules only. The first matching rule's list (else the task setting's) in order.
 * - `performance` mode: every allowed model; the highest acceptance − priceWeight × cost (relative
 *   to the dearest candidate) wins, within the latency target and the budget's pace; a learner
 *   may explore within a bounded loss, and says so.
 * - `hybrid` (default): the rule (or task setting) gives the candidates; the score picks among them.
 *
 * Fails closed: a no-AI file is refused; a local-only file never reaches a model not tagged
 * local, and when none is available the request is refused, naming what to change.
 */
export function route(input: RouteInput): RouteDecision {
  const { policy } = input;
  const kind: ClassifiedTask | Task = input.task === 'complete' && input.classification ? input.classification.task : input.task;
  const difficulty = input.difficulty ?? input.classification?.difficulty ?? 0.5;
  const prices = input.prices ?? priceOf;
  const estimator = input.estimator ?? TIER_PRIOR_ESTIMATOR;
  const budget = input.budget ?? NO_SPEND;
  const tokens = input.tokens ?? DEFAULT_TOKENS;

  // Privacy first: nothing else matters for a file that may not leave the editor.
  const noAiGlob = firstMatch(input.path, policy.privacy.noAi);
  if (input.directives?.noAi || noAiGlob) {
    const why = input.directives?.noAi ? 'is marked "coderoute: no-ai"' : `matches the no-AI path "${noAiGlob}"`;
    throw new RouteRefusal(`This file ${why}; nothing was sent.`, 'no-ai', noAiGlob ? 'coderoute.privacy.noAi' : 'file');
  }
  const localGlob = firstMatch(input.path, policy.privacy.localOnly);
  const privacy: PrivacyClass = input.directives?.localOnly || localGlob ? 'local-only' : 'any';
  const privacyWhy = input.directives?.localOnly ? 'marked "coderoute: local-only"' : localGlob ? `in the local-only path "${localGlob}"` : '';

  // Candidates: a rule, the task setting, or (performance mode) every model.
  const mode: RoutingMode = policy.mode;
  const given = input.candidates;
  const rule = mode === 'performance' || given ? undefined : policy.rules.find((r) => ruleMatches(r, input.task, kind, input, difficulty, privacy));
  const setting = rule ? `coderoute.routing.rules (${rule.id})` : `coderoute.tasks.${input.task}`;
  let entries = given ? [...given.entries] : rule ? rule.use : policy.tasks[input.task];
  let origin = given ? given.origin : rule ? `rule "${rule.id}"` : mode === 'performance' ? 'every allowed model' : `coderoute.tasks.${input.task}`;
  if (!rule && !given && kind === 'complete-block' && entries.length === 1 && entries[0] === 'cheap' && policy.models.some((m) => m.tags.includes('code'))) {
    // The default sends line completions to cheap models and block completions to code models
    // (only them: in hybrid mode the score would otherwise hand a cheaper model the block).
    entries = ['code'];
    origin = 'default "complete-block" (code models for blocks)';
  }
  const extra = mode === 'performance' || given ? [] : (input.widen ?? []).filter((e) => !entries.includes(e));
  if (extra.length > 0) {
    entries = [...entries, ...extra];
    origin = `${origin}, widened to ${extra.join(', ')} after rejections here`;
  }
  const ids = mode === 'performance' && !given ? policy.models.map((m) => m.id) : expandEntries(policy.models, entries);
  const routedModels: RoutedModel[] = [];
  const excludedNotes: RouteCandidate[] = [];
  for (const id of ids) {
    if (policy.deniedModels.includes(id)) {
      excludedNotes.push({ modelId: id, score: 0, note: 'excluded: denied by the repository policy', excluded: true });
      continue;
    }
    // A configured model that did not resolve (its provider is missing) throws with the setting to fix.
    const routed = catalogueOf(policy).get(id) ?? (policy.models.some((m) => m.id === id) ? resolveModel(policy, id, setting) : undefined);
    if (!routed) throw new RouteError(`Model "${id}" named by ${setting} is not in coderoute.models.`, setting.startsWith('coderoute.tasks') ? setting : 'coderoute.routing.rules');
    routedModels.push(routed);
  }

  // Unknown prices are charged as the dearest known model of the catalogue, in the score and against
  // the budget: never as free.
  let dearestCost: number | undefined;
  const dearest = () => (dearestCost ??= Math.max(0, ...[...catalogueOf(policy).values()].map((r) => costOf(prices(r.model, r.provider), tokens) ?? 0)));
  const rejected = input.rejected ?? [];
  const context: EstimateContext = { task: kind, language: input.languageId, difficulty, features: contextFeatures(input), rejected };
  const pin = policy.taskTiers[input.task];
  const paceFactor = budgetPace(policy, budget);
  let overBudget: 'daily' | 'monthly' | undefined;
  const scoreModel = (routed: RoutedModel, position: number): Scored => {
    const price = prices(routed.model, routed.provider);
    const estimate = estimator.estimate(routed.model, context);
    const listCost = costOf(price, tokens);
    const cost = withFactor(listCost, estimate);
    let excluded: string | undefined;
    let hit: 'daily' | 'monthly' | undefined;
    let missing: ModelCapability | undefined;
    if (!allowedFor(privacy, routed.model)) excluded = `not tagged local, and the file is ${privacyWhy}`;
    else if (pin && !routed.model.tags.includes(pin)) excluded = `the repository policy pins ${input.task} to ${pin} models`;
    else if (rejected.includes(routed.model.id)) excluded = 'its answer to this request was rejected';
    else if (!capable(routed.model, kind)) excluded = `cannot ${kind === 'complete-line' || kind === 'complete-block' || kind === 'complete-comment' ? 'complete code' : 'chat'}`;
    else if ((missing = input.requires?.find((c) => !routed.model.capabilities.includes(c)))) excluded = `cannot ${CAPABILITY_WORDS[missing]}`;
    else if ((hit = exceedsBudget(policy, budget, cost ?? dearest()))) {
      overBudget = hit;
      excluded = `its estimated ${formatUsd(cost)} would go past the remaining ${hit} budget`;
    }
    else if (policy.latencyTargetMs > 0 && estimate.latencyMs !== undefined && estimate.latencyMs > policy.latencyTargetMs) {
      excluded = `expected ${Math.round(estimate.latencyMs)} ms, over the ${policy.latencyTargetMs} ms target`;
    }
    return { routed, position, p: estimate.p, cost, listCost, score: 0, price, excluded, samples: estimate.samples, source: estimate.source, estimate };
  };
  const scored: Scored[] = routedModels.map(scoreModel);
  // A budget whose limit says "step down": when every candidate would pass it, any other allowed
  // model of the catalogue that fits may answer instead (a cheaper tier, a free local model).
  let steppedDown: string | undefined;
  if (overBudget && scored.every((s) => s.excluded) && policy.budget.onLimit?.[overBudget] === 'step-down') {
    const extra = [...catalogueOf(policy).values()].filter((r) => !ids.includes(r.model.id) && !policy.deniedModels.includes(r.model.id));
    const more = extra.map((r, i) => scoreModel(r, routedModels.length + i)).filter((s) => !s.excluded);
    if (more.length > 0) {
      scored.push(...more);
      steppedDown = overBudget;
    }
  }
  // Cost counts relative to the dearest candidate, so that one weight means the same for a pool of
  // cent-a-request models and for a pool of dollar-a-task agents: at weight w, the dearest model must
  // be w more likely to be accepted than a free one.
  const costForScore = (s: Scored) => s.cost ?? dearest();
  const reference = Math.max(0, ...scored.map(costForScore));
  const priceTermOf = (cost: number) => (reference > 0 ? (policy.priceWeight * paceFactor * cost) / reference : 0);
  const priceTerm = (s: Scored) => priceTermOf(costForScore(s));
  // With retries left, a model's value includes what a rejection leaves: the best next choice given
  // that this one was rejected (the learner's escalation estimates), and so on for the attempts left.
  const attemptsLeft = Math.max(1, Math.min(MAX_LOOKAHEAD, input.attemptsLeft ?? 1));
  // Only the best few by the immediate score are looked ahead (a model far behind does not win by
  // what a retry would bring), which keeps a decision over many models fast.
  const usable = scored
    .filter((s) => !s.excluded)
    .sort((a, b) => b.p - priceTerm(b) - (a.p - priceTerm(a)))
    .slice(0, LOOKAHEAD_CANDIDATES);
  const memo = new Map<string, number>();
  const valueAfter = (tried: readonly string[], left: number): number => {
    if (left <= 0) return 0;
    const key = `${left}:${[...tried].sort().join('+')}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let best = 0;
    const after: EstimateContext = { ...context, rejected: tried };
    for (const s of usable) {
      if (tried.includes(s.routed.model.id)) continue;
      // What this model costs and how often it is accepted once those before it were rejected here.
      const next = estimator.estimate(s.routed.model, after);
      const cost = withFactor(s.listCost, next) ?? dearest();
      best = Math.max(best, next.p - priceTermOf(cost) - ATTEMPT_PENALTY + (1 - next.p) * valueAfter([...tried, s.routed.model.id], left - 1));
    }
    memo.set(key, best);
    return best;
  };
  const scoreOf = (s: Scored, p: number) => p - priceTerm(s) + (attemptsLeft > 1 && usable.includes(s) ? (1 - p) * valueAfter([...rejected, s.routed.model.id], attemptsLeft - 1) : 0);
  for (const s of scored) s.score = mode === 'task' ? 1 - s.position / Math.max(1, routedModels.length) : scoreOf(s, s.p);

  const eligible = scored.filter((s) => !s.excluded);
  if (eligible.length === 0) {
    const why = scored.map((s) => `${s.routed.model.id} (${s.excluded})`).concat(excludedNotes.map((n) => `${n.modelId} (${n.note.replace(/^excluded: /, '')})`));
    if (privacy === 'local-only') {
      throw new RouteRefusal(
        `This file is ${privacyWhy}, and no model for ${input.task} is tagged local${why.length ? `: ${why.join('; ')}` : ''}. Nothing was sent.`,
        'no-allowed-model',
        setting.startsWith('coderoute.tasks') ? setting : 'coderoute.routing.rules',
      );
    }
    if (ids.length === 0) throw new RouteError(`No model is configured for ${input.task} (${origin}).`, setting);
    throw new RouteRefusal(`No model may take this ${input.task} request: ${why.join('; ')}. Nothing was sent.`, 'no-allowed-model', setting);
  }
  let ordered = mode === 'task' ? eligible : [...eligible].sort((a, b) => b.score - a.score || a.position - b.position);
  // Bounded exploration (Thompson sampling): a draw from each posterior may put another model
  // first, but only one whose expected score is within EXPLORATION_MAX_LOSS of the best, or within
  // what trying it is worth in a context that comes up often (`explorationBound`).
  let exploring: { best: Scored; drawn: number; loss?: number } | undefined;
  let warmingUp: number | undefined;
  // A model the estimator has seen fewer than WARM_UP_ANSWERS answers of, anywhere, answers first:
  // without them its estimate is only a prior, and a prior alone keeps a good model out for good.
  const cold = mode !== 'task' && input.explore !== false ? ordered.slice(1).find((s) => s.estimate.modelSamples !== undefined && Math.round(s.estimate.modelSamples) < WARM_UP_ANSWERS) : undefined;
  if (cold) {
    warmingUp = cold.estimate.modelSamples;
    exploring = { best: ordered[0], drawn: cold.p };
    ordered = [cold, ...ordered.filter((s) => s !== cold)];
  } else if (mode !== 'task' && input.explore !== false && estimator.sample && ordered.length > 1) {
    const draws = ordered.map((s) => ({ s, drawn: scoreOf(s, estimator.sample!(s.routed.model, context, s.estimate)) }));
    const top = draws.reduce((a, b) => (b.drawn > a.drawn ? b : a));
    const loss = ordered[0].score - top.s.score;
    if (top.s !== ordered[0] && top.s.samples < EXPLORATION_MAX_EVIDENCE && loss <= explorationBound(top.s.estimate, loss, scoreOf(top.s, 1) - scoreOf(top.s, 0))) {
      exploring = { best: ordered[0], drawn: top.drawn + (top.s.p - top.s.score), loss };
      ordered = [top.s, ...ordered.filter((s) => s !== top.s)];
    }
  }
  const [chosen, ...rest] = ordered;
  const fallbacks = rest.slice(0, MAX_CHAIN - 1);

  const decidedBy: RouteDecision['decidedBy'] = mode === 'task' || ordered.length === 1 ? (rule ? 'rule' : 'task-setting') : 'estimate';
  const evidence = `${chosen.source === 'learned' ? `learned from ${Math.round(chosen.samples)} signal${Math.round(chosen.samples) === 1 ? '' : 's'}` : 'by tier prior'}${learnedNotes(chosen.estimate)}`;
  const escalation = rejected.length > 0 ? `, after ${rejected.join(', ')} ${rejected.length === 1 ? 'was' : 'were'} rejected` : '';
  const candidatesFrom = origin ? `, candidates from ${origin}` : '';
  const how =
    decidedBy === 'estimate'
      ? warmingUp !== undefined
        ? `trying it: ${Math.round(warmingUp)} of the first ${WARM_UP_ANSWERS} answers of a model are in, and its estimate (${chosen.p.toFixed(2)}, ${evidence}) is not trusted alone before all are, over ${exploring?.best.routed.model.id} (expected ${exploring?.best.p.toFixed(2)})${escalation}${candidatesFrom}`
        : exploring
          ? `exploring: a posterior draw put its acceptance at ${exploring.drawn.toFixed(2)} (expected ${chosen.p.toFixed(2)}, ${evidence}) over ${exploring.best.routed.model.id} (expected ${exploring.best.p.toFixed(2)})${widerTry(exploring.loss, chosen.estimate)}${escalation}${candidatesFrom}`
          : `best score among ${eligible.length} (acceptance ${chosen.p.toFixed(2)} ${evidence}${escalation}${candidatesFrom})${runnerUp(ordered[1])}`
      : `${origin}${escalation}`;
  const priceNote = chosen.cost === undefined ? ' — no known price for this model: set its price in coderoute.models' : '';
  const stepNote = steppedDown ? ` Stepped down: every model for ${input.task} would go past the remaining ${steppedDown} budget, whose limit says step down.` : '';
  const tierNote = chosen.routed.model.tierNote ? ` Its tiers (${chosen.routed.model.tags.join(', ')}) were ${chosen.routed.model.tierNote}.` : '';
  const reason = `${describeRequest(input, kind)} → ${chosen.routed.model.id}: ${how}, est. ${formatUsd(chosen.cost)}${priceNote}.${stepNote}${tierNote}`;
  const candidates: RouteCandidate[] = [
    ...scored.map((s) => ({
      modelId: s.routed.model.id,
      score: s.excluded ? 0 : Math.round(s.score * 1000) / 1000,
      pAccept: Math.round(s.p * 1000) / 1000,
      estCostUsd: s.cost,
      listCostUsd: s.listCost !== s.cost ? s.listCost : undefined,
      note: s.excluded ? `excluded: ${s.excluded}` : s.cost === undefined ? 'price unknown (scored as the dearest known model)' : `${s.price?.source ?? ''} price`,
      excluded: s.excluded ? true : undefined,
    })),
    ...excludedNotes,
  ];
  return {
    requestId: input.requestId,
    task: input.task,
    kind,
    mode,
    privacy,
    chosen: chosen.routed,
    fallbacks: fallbacks.map((f) => f.routed),
    candidates,
    decidedBy,
    explored: exploring ? true : undefined,
    estimateContext: context,
    rejected: rejected.length > 0 ? [...rejected] : undefined,
    rule: rule?.id,
    features: featurePhrases(input, kind, difficulty),
    estimatedCostUsd: chosen.cost,
    budget: { ...budget, dailyUsd: policy.budget.dailyUsd, monthlyUsd: policy.budget.monthlyUsd },
    policyNotes: policy.notes,
    reason,
  };
}

/**
 * Every model of the policy resolved with its provider and deployments, by id. Kept per model list
 * (the same array while settings and the repository policy do not change), so that a decision does
 * not search the catalogue again for every candidate.
 */
const catalogues = new WeakMap<readonly ModelConfig[], Map<string, RoutedModel>>();

function catalogueOf(policy: Policy): Map<string, RoutedModel> {
  let catalogue = catalogues.get(policy.models);
  if (!catalogue) {
    catalogue = new Map();
    for (const model of policy.models) {
      // A model whose provider is missing was reported with the settings; it cannot be routed to.
      if (policy.providers.some((p) => p.id === model.provider)) catalogue.set(model.id, resolveModel(policy, model.id, 'coderoute.models'));
    }
    catalogues.set(policy.models, catalogue);
  }
  return catalogue;
}

/**
 * What else the estimate says it learned, as clauses: a context effect every model shares ("; this
 * repo=django is harder for every model") and a cost unlike the price list ("; 1.8× its list price
 * here, from 12 charges").
 */
function learnedNotes(estimate: AcceptanceEstimate): string {
  let notes = '';
  if (estimate.context) {
    const { bucket, shift } = estimate.context;
    const parts = bucket.split('|');
    const odds = `odds ×${Math.exp(shift).toFixed(2)}`;
    if (parts[0].startsWith('after=') || parts[0].startsWith('depth=')) {
      // After a rejection: what it says of the case for every model, or the model's own answers there.
      const depth = Number(parts[0].slice('depth='.length));
      const after = parts[0].startsWith('after=')
        ? `after ${parts[0].slice('after='.length).split('+').join(' and ')} ${parts[0].includes('+') ? 'were' : 'was'} rejected`
        : `after ${depth} rejection${depth === 1 ? '' : 's'}`;
      notes += estimate.context.everyModel
        ? `; ${after}, the other models' answers were ${shift < 0 ? 'accepted less often' : 'accepted more often'} than their first answers, which counts for every model (${odds})`
        : `; ${after}, its own answers were ${shift < 0 ? 'accepted less often' : 'accepted more often'} than its first answers (${odds})`;
    } else {
      notes += `; with ${parts[parts.length - 1]} it is ${shift < 0 ? 'harder' : 'easier'} for every model (${odds})`;
    }
  }
  if (estimate.costFactor !== undefined && estimate.costSamples && Math.abs(Math.log(estimate.costFactor)) >= Math.log(1.25)) {
    notes += `; costs ${estimate.costFactor.toFixed(1)}× its list price here, from ${Math.round(estimate.costSamples)} charge${Math.round(estimate.costSamples) === 1 ? '' : 's'}`;
  }
  return notes;
}

/** ", ahead of cheap (acceptance 0.21 learned from 8 signals)": what the choice was weighed against. */
function runnerUp(next: Scored | undefined): string {
  if (!next) return '';
  const n = Math.round(next.samples);
  return `, ahead of ${next.routed.model.id} (acceptance ${next.p.toFixed(2)} ${next.source === 'learned' ? `learned from ${n} signal${n === 1 ? '' : 's'}` : 'by tier prior'})`;
}

/** What a model without a capability cannot do, for the reason it was left out. */
const CAPABILITY_WORDS: Record<ModelCapability, string> = { chat: 'chat', fim: 'fill in the middle', tools: 'call tools (the request offers them)', images: 'read images (the request has some)' };

function capable(model: ModelConfig, kind: ClassifiedTask | Task): boolean {
  // Completions use fill-in-the-middle when the model has it, else a chat prompt.
  return model.capabilities.includes('chat') || (kind.startsWith('complete') && model.capabilities.includes('fim'));
}

/** > 1 when spending runs ahead of the budget's pace: cost then weighs more, steering to cheaper models. */
function budgetPace(policy: Policy, budget: BudgetState): number {
  const paces: number[] = [];
  if (policy.budget.dailyUsd > 0) paces.push(budget.spentTodayUsd / (policy.budget.dailyUsd * Math.max(0.05, budget.dayElapsed)));
  if (policy.budget.monthlyUsd > 0) paces.push(budget.spentMonthUsd / (policy.budget.monthlyUsd * Math.max(0.05, budget.monthElapsed)));
  const pace = Math.max(0, ...paces);
  return pace > 1 ? pace * pace : 1;
}

/** The budget the estimated cost would go past, if any; an unknown price counts once nothing is left. */
function exceedsBudget(policy: Policy, budget: BudgetState, cost: number | undefined): 'daily' | 'monthly' | undefined {
  const limits: ['daily' | 'monthly', number, number][] = [
    ['daily', policy.budget.dailyUsd, budget.spentTodayUsd],
    ['monthly', policy.budget.monthlyUsd, budget.spentMonthUsd],
  ];
  for (const [id, limit, spent] of limits) {
    if (limit <= 0) continue;
    const remaining = limit - spent;
    if (cost === undefined ? remaining <= 0 : cost > 0 && cost > remaining) return id;
  }
  return undefined;
}
