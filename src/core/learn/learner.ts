import { z } from 'zod';
import type { ModelConfig } from '../config/settingsSchema';
import { tierPrior, type AcceptanceEstimate, type AcceptanceEstimator, type EstimateContext } from '../route/estimates';
import type { OutcomeKind } from './outcomes';
import { sampleNormal, type Random } from './random';

/**
 * How much each signal says the answer was accepted (1) or not (0). The last signal for a request
 * decides: accepted then undone is a rejection; discarded then thumbs-up is an acceptance.
 */
export const SIGNAL_REWARD: Readonly<Record<OutcomeKind, number>> = {
  accepted: 1,
  'thumbs-up': 1,
  'partially-accepted': 0.7,
  discarded: 0,
  'thumbs-down': 0,
  'retried-stronger': 0,
  undone: 0,
  ignored: 0,
  regenerated: 0,
  'failed-tool-call': 0,
};

export interface LearnerOptions {
  /** Observations' worth of prior each learned value gets (a model's offset, a context's effect, a model's record there, a bucket after a rejection). */
  priorStrength?: number;
  /** Each update of a bucket first multiplies its counts by this: the last ~1/(1 − d) observations count. */
  decayPerUpdate?: number;
  /** Evidence loses half its weight in this many days without updates (a model update, a new codebase). */
  halfLifeDays?: number;
  /** How many decisions are remembered for signals that arrive later. */
  maxRequests?: number;
  now?: () => number;
  /** The generator of posterior draws (seed it for a repeatable replay or test). */
  random?: Random;
  /** The cold-start estimate; the tier priors by default. */
  prior?: (model: ModelConfig, context: EstimateContext) => AcceptanceEstimate;
  /**
   * A model's price-list cost of a typical request, when known: the pool's expectation of a model
   * it has seen little of leans on how price goes with acceptance among the models it knows.
   */
  listCost?: (modelId: string) => number | undefined;
}

const DEFAULTS = { priorStrength: 8, decayPerUpdate: 0.995, halfLifeDays: 30, maxRequests: 2000 };
/**
 * Requests' worth of evidence the price-list cost counts for. One charge says more about a
 * model's cost than one verdict says about its acceptance (reasoning models spend several times
 * the tokens a price list assumes), so few are needed before the charges speak.
 */
const COST_PRIOR_STRENGTH = 2;
/** A shared context effect this large (log-odds) is named in the decision's reason. */
const NOTABLE_SHIFT = 0.25;
const DAY_MS = 86_400_000;

/**
 * Successes and observations in one bucket for one model, discounted; `t` is the last update time.
 * `lc` and `cn`: the sum of log(actual cost / estimated cost) over `cn` charged requests (also
 * discounted), so that cost is learned per context as a factor on the price-list estimate.
 */
interface Counts {
  s: number;
  n: number;
  t: number;
  lc: number;
  cn: number;
}

/** A model's cost as seen on one request: what the router estimated and what it came to. */
export interface CostSample {
  estimatedUsd: number;
  actualUsd: number;
}

interface PendingRequest {
  modelId: string;
  /** The buckets the request's signal updates. */
  keys: string[];
  /** The reward applied so far, if a signal arrived. */
  reward?: number;
  /** Whether the request's cost was learned (once). */
  costed?: boolean;
}

/** What the answer to `observe` was. */
export type ObserveResult = 'applied' | 'changed' | 'duplicate' | 'unknown-request';

/**
 * The model fitted over the buckets of one level (buckets naming as many facts), a two-way table
 * of model × context in log-odds: per model, its offset from its tier prior; per bucket, its effect
 * on every model; per model and bucket, what that model does there beyond both (its cell). Each
 * model is compared with itself across contexts, so a model tried only on hard requests is not
 * taken for a weak one, and a context hard for the models tried there is taken to be hard for the
 * others. Answers after a rejection are not in the fits (see `Learner.estimate`). The log cost
 * factor is fitted the same way. Each value comes with its precision (how well the fit knows it).
 */
interface LevelFit {
  /** What the pool expects of a model's offset before its own answers (see `fitPool`). */
  pool: { mean: number; slope: number; logCost: number };
  model: Map<string, number>;
  modelInfo: Map<string, number>;
  modelCost: Map<string, number>;
  bucket: Map<string, number>;
  bucketInfo: Map<string, number>;
  bucketCost: Map<string, number>;
  cell: Map<string, number>;
  cellInfo: Map<string, number>;
  cellCost: Map<string, number>;
}

/** The cells of one level, kept between whole fits so that a change updates only its own. */
interface LevelCells {
  byModel: Map<string, FitCell[]>;
  byKey: Map<string, FitCell[]>;
  byId: Map<string, FitCell>;
}

function addCell(cells: LevelCells, cell: FitCell): void {
  cells.byId.set(cell.id, cell);
  (cells.byModel.get(cell.model) ?? cells.byModel.set(cell.model, []).get(cell.model)!).push(cell);
  (cells.byKey.get(cell.key) ?? cells.byKey.set(cell.key, []).get(cell.key)!).push(cell);
}

/** One model's counts in one bucket of a level, as the fit reads them. */
interface FitCell {
  id: string;
  model: string;
  key: string;
  s: number;
  n: number;
  lc: number;
  cn: number;
  /** Log-odds of the model's tier prior in the bucket's context. */
  prior: number;
  /** Where the cell starts: the model's cell in the parent bucket (log-odds, log cost factor). */
  mean: number;
  meanCost: number;
}

type Value = { value: number; variance: number };

/** What the learner knows of a model in one bucket, apart from the tier prior (see `learnedPart`). */
interface LearnedPart {
  at: number;
  /** Log-odds added to the tier prior: the model's offset, the context's effect, the model's record there. */
  odds: number;
  logCost: number;
  sdOdds: number;
  samples: number;
  costSamples: number;
  answered: number;
  context?: { bucket: string; shift: number };
}

/** How long a cached estimate stands without changes (time discounts evidence, slowly). */
const LEARNED_TTL_MS = 3_600_000;

function cellKey(model: string, key: string): string {
  return `${model}\u0000${key}`;
}

/**
 * A Newton step, at most MAX_STEP in log-odds: where the fit's current odds are saturated, the
 * curvature is near zero and a full step would overshoot (300 accepts, then 300 rejects).
 */
function clip(step: number): number {
  return Math.max(-MAX_STEP, Math.min(MAX_STEP, step));
}
const MAX_STEP = 2;

function logistic(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function logit(p: number): number {
  const q = Math.min(1 - 1e-6, Math.max(1e-6, p));
  return Math.log(q / (1 - q));
}

/** Whether a bucket is of answers after a rejection (`depth=N`, `after=…`): those are not in the fits. */
function isAfterRejection(key: string): boolean {
  return key.startsWith('after=') || key.startsWith('depth=');
}

/** The first-answer path of the same facts as an after-rejection path. */
function firstAnswerPath(path: readonly string[]): string[] {
  return ['*', ...path.slice(3).map((key) => key.slice(key.indexOf('|') + 1))];
}

/** The level of a first-answer bucket: how many facts it names. */
function levelOf(key: string): number {
  if (key === '*') return 0;
  let level = 1;
  for (let i = key.indexOf('|'); i >= 0; i = key.indexOf('|', i + 1)) level++;
  return level;
}

/** The first-answer bucket one fact coarser (for a bucket of level 1 or more). */
function parentOf(key: string): string {
  const cut = key.lastIndexOf('|');
  return cut < 0 ? '*' : key.slice(0, cut);
}

/** The context a bucket stands for, as far as its facts say (for the tier prior of its cells). */
function contextOfBucket(key: string): EstimateContext {
  let task = 'generate';
  let difficulty = 0.5;
  for (const fact of key === '*' ? [] : key.split('|')) {
    const at = fact.indexOf('=');
    const [name, value] = [fact.slice(0, at), fact.slice(at + 1)];
    if (name === 'task') task = value;
    // The classifier's difficulty bucket is a digit; a matrix's own `difficulty` column is a word.
    else if (name === 'difficulty' && /^[0-3]$/.test(value)) difficulty = (Number(value) + 0.5) / 4;
  }
  return { task: task as EstimateContext['task'], language: '', difficulty };
}

/** Rejections of one request the learner tells apart (the router looks at most this far ahead). */
const MAX_DEPTH = 4;

/** Changes after which every fit is fitted whole again (in between, only what a change touched moves). */
const FULL_FIT_EVERY = 64;

/** Rounds of a whole fit at most, and the largest move (log-odds) of a round that ends it. */
const FIT_ROUNDS = 8;
const FIT_TOLERANCE = 0.01;

export function difficultyBucket(difficulty: number): number {
  return Math.min(3, Math.max(0, Math.floor(difficulty * 4)));
}

/**
 * The buckets of a request, coarse to fine. Without rejections: every model's overall bucket,
 * then task, language, difficulty and further features, each refining the one before. After
 * rejections ("escalation"): the statistics of answers given after that many, then after exactly
 * those rejections, refined by the same facts — a model that often succeeds first-hand can be a
 * poor second choice when the same cases defeat both.
 */
export function bucketPath(context: EstimateContext): string[] {
  const facts = [`task=${context.task}`, `lang=${context.language}`, `difficulty=${difficultyBucket(context.difficulty)}`];
  for (const [name, value] of context.features ?? []) facts.push(`${name}=${value}`);
  const refinements = facts.map((_, i) => facts.slice(0, i + 1).join('|'));
  const rejected = [...new Set(context.rejected ?? [])].sort();
  if (rejected.length === 0) return ['*', ...refinements];
  const after = `after=${rejected.join('+')}`;
  return ['*', `depth=${rejected.length}`, after, ...refinements.map((r) => `${after}|${r}`)];
}

/** The buckets an observation updates: an answer after a rejection does not count for first answers. */
function updatedBuckets(context: EstimateContext): string[] {
  const path = bucketPath(context);
  return context.rejected?.length ? path.slice(1) : path;
}

const countsSchema = z.union([
  z.tuple([z.number().min(0), z.number().min(0), z.number()]),
  z.tuple([z.number().min(0), z.number().min(0), z.number(), z.number(), z.number().min(0)]),
]);
export const learningStateSchema = z.object({
  format: z.literal('coderoute-learning'),
  /** 1: acceptance only; 2 adds the learned cost (both are read). */
  version: z.union([z.literal(1), z.literal(2)]),
  savedAt: z.string(),
  /** model id → bucket → [successes, observations, last update ms], and in version 2 [sum of log cost factors, charges]. */
  models: z.record(z.string(), z.record(z.string(), countsSchema)),
  /** Recent decisions, oldest first, for late signals: [request id, model id, buckets, reward or null]. */
  requests: z.array(z.tuple([z.string(), z.string(), z.array(z.string()), z.number().min(0).max(1).nullable()])),
});
export type LearningState = z.infer<typeof learningStateSchema>;

/** A learning state that cannot be read; the caller sets the file aside rather than emptying it. */
export class LearningStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LearningStateError';
  }
}

/**
 * Learns, per model and context, the probability that an answer is accepted and what it costs,
 * from the users' signals and the settled charges.
 *
 * Each bucket holds discounted Beta counts per model (`bucketPath`: overall, task, language,
 * difficulty, further features; after a rejection, the same facts after it). An estimate comes
 * from the fit of the request's finest level (`LevelFit`): the model's offset from its tier prior,
 * the context's effect on every model, and the model's own record in that context, each held to
 * what is known a level coarser (and the offset to what the pool of models expects, see
 * `fitPool`) by `priorStrength` observations' worth of prior. So a rare context leans on what is
 * known of the model and of the context, and a busy one speaks for itself. After a rejection, a
 * model starts from its first-answer estimate in the same context and is judged by its own answers
 * after that rejection (a model that often succeeds first-hand can be a poor second choice when
 * the same cases defeat both). Cost is learned the same way as acceptance, as a log factor on the
 * price-list estimate. Fits are brought up to date lazily (or by `refresh`), touching only what a
 * change touched, with a whole refit every FULL_FIT_EVERY changes.
 *
 * The router reads posterior means (`estimate`) and draws (`sample`, Thompson sampling) through
 * the AcceptanceEstimator interface; the same code runs in the extension and in `coderoute replay`.
 */
export class Learner implements AcceptanceEstimator {
  private readonly buckets = new Map<string, Map<string, Counts>>();
  private readonly requests = new Map<string, PendingRequest>();
  private readonly options: Required<Omit<LearnerOptions, 'now' | 'random' | 'prior' | 'listCost'>>;
  private readonly now: () => number;
  private readonly random: Random;
  private readonly prior: (model: ModelConfig, context: EstimateContext) => AcceptanceEstimate;
  private readonly listCost?: (modelId: string) => number | undefined;
  private readonly listeners = new Set<() => void>();
  /** Bucket paths of the contexts being decided (one decision asks for many models with the same context). */
  private readonly paths = new WeakMap<EstimateContext, string[]>();
  /** For a path after a rejection, the first-answer path of the same facts. */
  private readonly firstPaths = new WeakMap<readonly string[], string[]>();
  /** Buckets by level, over every model. */
  private readonly levels: Set<string>[] = [];
  /** The models last asked about, for their tier priors in the fits. */
  private readonly models = new Map<string, ModelConfig>();
  /** The fit of each level; kept across changes to start the next fit from. */
  private readonly fits: LevelFit[] = [];
  /** Which fits are up to date with the statistics. */
  private readonly fresh = new Set<number>();
  /** Per level, the cells the last whole fit read, kept up to date by changes. */
  private readonly cells: LevelCells[] = [];
  /** Per level, the models and buckets a change touched since the level was last brought up to date. */
  private readonly touched: Map<string, Set<string>>[] = [];
  /** Changes since the fits were last fitted whole. */
  private changes = 0;
  /** What is learned per model and finest bucket, while the statistics do not change. */
  private readonly learned = new Map<string, LearnedPart>();

  constructor(options: LearnerOptions = {}) {
    this.options = {
      priorStrength: options.priorStrength ?? DEFAULTS.priorStrength,
      decayPerUpdate: options.decayPerUpdate ?? DEFAULTS.decayPerUpdate,
      halfLifeDays: options.halfLifeDays ?? DEFAULTS.halfLifeDays,
      maxRequests: options.maxRequests ?? DEFAULTS.maxRequests,
    };
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.prior = options.prior ?? tierPrior;
    this.listCost = options.listCost;
  }

  estimate(model: ModelConfig, context: EstimateContext): AcceptanceEstimate {
    const seen = this.models.get(model.id);
    if (seen !== model) {
      // A model's tiers are its prior in the fits: new tiers, a new fit.
      if (seen && seen.tags.join() !== model.tags.join()) {
        this.fresh.clear();
        this.learned.clear();
      }
      this.models.set(model.id, model);
    }
    const prior = this.prior(model, context);
    let path = this.paths.get(context);
    if (!path) {
      path = bucketPath(context);
      this.paths.set(context, path);
    }
    const after = path.length > 1 && path[1].startsWith('depth=');
    let first = path;
    if (after) {
      first = this.firstPaths.get(path) ?? firstAnswerPath(path);
      this.firstPaths.set(path, first);
    }
    const learned = this.learnedPart(model.id, first);
    let p = logistic(logit(prior.p) + learned.odds);
    let samples = learned.samples;
    let sdOdds = learned.sdOdds;
    let moved = learned.context;
    if (after) {
      // After a rejection: the model's first answers here, then its own answers after that many
      // rejections, after exactly those, and after those here, each bucket borrowing
      // `priorStrength` observations from the estimate before it. What a rejection reveals is
      // the model's own: a cheap model failing where another failed says little of a strong one.
      const k = this.options.priorStrength;
      const counts = this.buckets.get(model.id);
      const now = this.now();
      let parent: Counts | undefined;
      let own = 0;
      for (const key of path.slice(1)) {
        const raw = counts?.get(key);
        const c = raw && this.decayed(raw, now);
        const same = c && parent && Math.abs(parent.n - c.n) < 1e-9 && Math.abs(parent.s - c.s) < 1e-9;
        if (c && !same && c.n > 1e-6) {
          const before = p;
          p = (c.s + k * p) / (c.n + k);
          samples = c.n;
          own = c.n;
          if (Math.abs(logit(p) - logit(before)) >= NOTABLE_SHIFT) moved = { bucket: key, shift: logit(p) - logit(before) };
        }
        parent = c;
      }
      sdOdds = Math.sqrt(1 / (1 / (sdOdds * sdOdds + 1 / this.tau()) + own * p * (1 - p)));
    }
    const estimate: AcceptanceEstimate = {
      p,
      samples,
      source: samples > 0 ? 'learned' : 'prior',
      sd: p * (1 - p) * sdOdds,
      modelSamples: learned.answered,
      latencyMs: prior.latencyMs,
    };
    if (Math.abs(learned.logCost) > 1e-9) {
      estimate.costFactor = Math.exp(learned.logCost);
      estimate.costSamples = learned.costSamples;
    }
    if (moved) estimate.context = moved;
    return estimate;
  }

  /**
   * Everything learned of a model in the request's finest bucket (all but the tier prior, which
   * moves with the request's exact difficulty), kept until the statistics change: a decision asks
   * for every model, and the lookahead for the same contexts again.
   */
  private learnedPart(modelId: string, path: readonly string[]): LearnedPart {
    const key = path[path.length - 1];
    const id = cellKey(modelId, key);
    const now = this.now();
    const known = this.learned.get(id);
    if (known && now - known.at < LEARNED_TTL_MS) return known;
    const level = levelOf(key);
    const fit = this.fitOf(level);
    const offset = fit.model.get(modelId) ?? this.poolExpectation(fit, modelId);
    const effect = this.effect(key, level);
    const cell = this.cellValue(modelId, key, level, 'cell');
    const logCost = (fit.modelCost.get(modelId) ?? 0) + this.costEffect(key, level) + this.cellValue(modelId, key, level, 'cellCost').value;
    // The model's own evidence: its finest bucket on the path with any.
    const counts = this.buckets.get(modelId);
    let samples = 0;
    let costSamples = 0;
    for (let i = path.length - 1; i >= 0 && (samples === 0 || costSamples === 0); i--) {
      const raw = counts?.get(path[i]);
      const c = raw && this.decayed(raw, now);
      if (!c) continue;
      if (samples === 0 && c.n > 1e-6) samples = c.n;
      if (costSamples === 0 && c.cn > 1e-6) costSamples = c.cn;
    }
    // Every answer of the model counts once: a first one under `*`, one after N rejections under `depth=N`.
    let answered = 0;
    for (let depth = 0; depth <= MAX_DEPTH; depth++) {
      const c = counts?.get(depth === 0 ? '*' : `depth=${depth}`);
      if (c) answered += this.decayed(c, now).n;
    }
    const modelVariance = 1 / (fit.modelInfo.get(modelId) ?? this.tau());
    // The fact of the context whose effect on every model is largest, when it matters.
    let strongest: { bucket: string; shift: number } | undefined;
    let before = this.effect('*', 0).value;
    for (let i = 1; i < path.length; i++) {
      const here = i === path.length - 1 ? effect.value : this.effect(path[i], i).value;
      if (!strongest || Math.abs(here - before) > Math.abs(strongest.shift)) strongest = { bucket: path[i], shift: here - before };
      before = here;
    }
    const part: LearnedPart = {
      at: now,
      odds: offset + effect.value + cell.value,
      logCost,
      sdOdds: Math.sqrt(modelVariance + effect.variance + cell.variance),
      samples: round2(samples),
      costSamples: round2(costSamples),
      answered: round2(answered),
      context: strongest && Math.abs(strongest.shift) >= NOTABLE_SHIFT ? strongest : undefined,
    };
    if (this.learned.size > 20_000) this.learned.clear();
    this.learned.set(id, part);
    return part;
  }

  /** A posterior draw: normal in log-odds around the estimate, as wide as what is known of the model here. */
  sample(model: ModelConfig, context: EstimateContext, known?: AcceptanceEstimate): number {
    const { p, sd } = known ?? this.estimate(model, context);
    const sdOdds = sd !== undefined && p > 0 && p < 1 ? sd / (p * (1 - p)) : 2;
    return logistic(logit(p) + sdOdds * sampleNormal(this.random));
  }

  /**
   * Remembers a decision so that the signals for it, even late ones, reach the right buckets.
   * `cost`, when the charge is known, is learned at once (a request's cost does not wait for the
   * user's verdict, and counts once however often the decision is recorded).
   */
  record(requestId: string, modelId: string, context: EstimateContext, cost?: CostSample): void {
    const known = this.requests.get(requestId);
    this.requests.delete(requestId);
    const pending: PendingRequest = known && known.modelId === modelId ? known : { modelId, keys: updatedBuckets(context) };
    this.requests.set(requestId, pending);
    if (cost && !pending.costed && cost.estimatedUsd > 0 && cost.actualUsd > 0 && Number.isFinite(cost.actualUsd / cost.estimatedUsd)) {
      pending.costed = true;
      const now = this.now();
      const factor = Math.log(cost.actualUsd / cost.estimatedUsd);
      const d = this.options.decayPerUpdate;
      const counts = this.modelBuckets(modelId);
      for (const key of pending.keys) {
        const next = this.bucketFor(counts, key, now);
        counts.set(key, { ...next, t: now, lc: next.lc * d + factor, cn: next.cn * d + 1 });
      }
      this.changed(modelId, pending.keys);
    }
    while (this.requests.size > this.options.maxRequests) {
      const oldest = this.requests.keys().next().value;
      if (oldest === undefined) break;
      this.requests.delete(oldest);
    }
  }

  /**
   * Applies a user's signal to the decision it is about. The first signal adds an observation;
   * a later, different one corrects it (accepted then undone becomes a rejection); the same
   * reward again changes nothing; a request that was never recorded (or forgotten) is ignored.
   */
  observe(requestId: string, kind: OutcomeKind): ObserveResult {
    const pending = this.requests.get(requestId);
    if (!pending) return 'unknown-request';
    const reward = SIGNAL_REWARD[kind];
    if (pending.reward === reward) return 'duplicate';
    const now = this.now();
    const counts = this.modelBuckets(pending.modelId);
    const d = this.options.decayPerUpdate;
    for (const key of pending.keys) {
      const c = counts.get(key);
      if (pending.reward === undefined || !c) {
        const next = this.bucketFor(counts, key, now);
        counts.set(key, { ...next, s: next.s * d + reward, n: next.n * d + 1, t: now });
      } else {
        // A correction moves the earlier observation from one side to the other.
        counts.set(key, { ...c, s: Math.min(c.n, Math.max(0, c.s + reward - pending.reward)) });
      }
    }
    const result: ObserveResult = pending.reward === undefined ? 'applied' : 'changed';
    pending.reward = reward;
    this.changed(pending.modelId, pending.keys);
    return result;
  }

  /**
   * Brings every fit up to date with the statistics now, so that the next estimate does not pay
   * for it (a host calls this off its critical path after signals; estimates do it when needed).
   */
  refresh(): void {
    for (let level = 0; level < this.levels.length; level++) this.fitOf(level);
  }

  /** How many decisions are waiting for (or have had) a signal. */
  get rememberedRequests(): number {
    return this.requests.size;
  }

  /** Calls `listener` after every change of the statistics; returns the unsubscribe function. */
  onDidChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Forgets everything learned. */
  reset(): void {
    this.buckets.clear();
    this.requests.clear();
    this.levels.length = 0;
    this.fits.length = 0;
    this.touched.length = 0;
    this.cells.length = 0;
    this.changed();
  }

  /** The versioned form that is saved and exported. */
  toJSON(): LearningState {
    const models: LearningState['models'] = {};
    for (const [modelId, counts] of this.buckets) {
      models[modelId] = Object.fromEntries([...counts].map(([key, c]) => [key, [round(c.s), round(c.n), c.t, round(c.lc), round(c.cn)]]));
    }
    return {
      format: 'coderoute-learning',
      version: 2,
      savedAt: new Date(this.now()).toISOString(),
      models,
      requests: [...this.requests].map(([id, r]) => [id, r.modelId, r.keys, r.reward ?? null]),
    };
  }

  /** Replaces the state with a saved one; throws LearningStateError (changing nothing) when it is not one. */
  load(data: unknown): void {
    const parsed = learningStateSchema.safeParse(data);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new LearningStateError(`not a CodeRoute learning state (${first ? `${first.path.join('.') || 'top level'}: ${first.message}` : 'invalid'})`);
    }
    this.buckets.clear();
    this.requests.clear();
    this.levels.length = 0;
    this.fits.length = 0;
    this.touched.length = 0;
    this.cells.length = 0;
    for (const [modelId, counts] of Object.entries(parsed.data.models)) {
      const map = new Map<string, Counts>();
      for (const [key, [s, n, t, lc, cn]] of Object.entries(counts)) {
        map.set(key, { s: Math.min(s, n), n, t, lc: lc ?? 0, cn: cn ?? 0 });
        this.noteBucket(key);
      }
      this.buckets.set(modelId, map);
    }
    // A request saved before its cost was learned is not charged again after a restart: its cost went in with it.
    for (const [id, modelId, keys, reward] of parsed.data.requests) this.requests.set(id, { modelId, keys, reward: reward ?? undefined, costed: true });
    this.changed();
  }

  /**
   * After the statistics changed: what a model's answer touched is refitted at the next estimate
   * (everything, when `modelId` is not given, and every FULL_FIT_EVERY changes).
   */
  private changed(modelId?: string, keys?: readonly string[]): void {
    this.learned.clear();
    if (modelId === undefined || keys === undefined || ++this.changes >= FULL_FIT_EVERY) {
      this.changes = 0;
      this.fresh.clear();
    } else {
      for (const key of keys) {
        if (isAfterRejection(key)) continue;
        const level = levelOf(key);
        const touched = (this.touched[level] ??= new Map());
        (touched.get(modelId) ?? touched.set(modelId, new Set()).get(modelId)!).add(key);
      }
    }
    this.listeners.forEach((l) => l());
  }

  /** Precision of a prior worth `priorStrength` observations at even odds. */
  private tau(): number {
    return this.options.priorStrength / 4;
  }

  /**
   * A bucket's effect on every model (log-odds): its fitted one, or, where no model has answered
   * in it yet, what it is expected to be (`effectMean`), a prior's worth less sure.
   */
  private effect(key: string, level: number): Value {
    const fit = this.fitOf(level);
    const own = fit.bucket.get(key);
    if (own !== undefined) return { value: own, variance: 1 / (fit.bucketInfo.get(key) ?? this.tau()) };
    return this.effectMean(key, level);
  }

  /** What a bucket's effect is expected to be before its own evidence: its parent's at the level above (none at the top). */
  private effectMean(key: string, level: number): Value {
    if (level === 0) return { value: 0, variance: 0 };
    const up = this.effect(parentOf(key), level - 1);
    return { value: up.value, variance: up.variance + 1 / this.tau() };
  }

  private costEffect(key: string, level: number): number {
    return this.fitOf(level).bucketCost.get(key) ?? this.costMean(key, level);
  }

  /** A model's record in a bucket beyond its offset and the bucket's effect: its fitted one, or its parent bucket's, a prior's worth less sure. */
  private cellValue(model: string, key: string, level: number, kind: 'cell' | 'cellCost'): Value {
    const fit = this.fitOf(level);
    const id = cellKey(model, key);
    const own = fit[kind].get(id);
    if (own !== undefined) return { value: own, variance: 1 / (fit.cellInfo.get(id) ?? this.tau()) };
    return this.cellMean(model, key, level, kind);
  }

  private cellMean(model: string, key: string, level: number, kind: 'cell' | 'cellCost'): Value {
    if (level === 0) return { value: 0, variance: 1 / this.tau() };
    const up = this.cellValue(model, parentOf(key), level - 1, kind);
    return { value: up.value, variance: up.variance + 1 / this.tau() };
  }

  /** What the pool expects of a model's offset before its own answers (see `fitPool`). */
  private poolExpectation(fit: LevelFit, model: string): number {
    const cost = this.listCost?.(model);
    return fit.pool.mean + (cost !== undefined && cost > 0 ? fit.pool.slope * (Math.log(cost) - fit.pool.logCost) : 0);
  }

  /**
   * The pool's expectation of a model: a weighted least-squares line through the models' offsets
   * against their log prices (each model one measurement, weighted by how sure its offset is; the
   * line held to no offset and no slope by a prior worth one model each), or their mean where no
   * price is known. A model barely tried is expected to be like the models known, and dearer where dearer
   * models have done better (in this pool, on this work) — not by a rule fixed in advance.
   */
  private fitPool(fit: LevelFit, byModel: Map<string, FitCell[]>, logCosts: Map<string, number>): void {
    const tau = this.tau();
    let sw = tau;
    let sx = 0;
    let sy = 0;
    let sxx = tau;
    let sxy = 0;
    for (const [model, own] of byModel) {
      const a = fit.model.get(model);
      if (a === undefined) continue;
      // Each model is one measurement of what the pool's models are like, however many answers
      // it has (random effects): its weight is at most a prior's, less while its offset is unsure.
      const info = fit.modelInfo.get(model) ?? tau + own.reduce((sum, c) => sum + c.n, 0) / 4;
      const w = 1 / (1 / tau + 1 / info);
      const x = (logCosts.get(model) ?? fit.pool.logCost) - fit.pool.logCost;
      sw += w;
      sx += w * x;
      sy += w * a;
      sxx += w * x * x;
      sxy += w * x * a;
    }
    const det = sw * sxx - sx * sx;
    fit.pool.mean = (sxx * sy - sx * sxy) / det;
    fit.pool.slope = (sw * sxy - sx * sy) / det;
  }

  /**
   * The fit of one level, brought up to date with the statistics. The first time (and after a
   * load, a reset, new tiers, or every FULL_FIT_EVERY changes) it is fitted whole: a few rounds of
   * Newton steps on the penalised log-likelihood of every model's counts in the level's buckets,
   * alternating over model offsets, bucket effects and cells, each held to its expectation
   * (`poolExpectation`, `effectMean`, `cellMean`) by `priorStrength` observations' worth of prior;
   * the cost factor likewise by least squares on the log factors. In between, a change moves only
   * what it touches: the answering model's offset, the buckets it answered in and its cells there,
   * one step each from where they were, so that a decision right after a signal stays fast.
   */
  private fitOf(level: number): LevelFit {
    let fit = this.fits[level];
    if (!fit) {
      fit = {
        pool: { mean: 0, slope: 0, logCost: 0 },
        model: new Map(),
        modelInfo: new Map(),
        modelCost: new Map(),
        bucket: new Map(),
        bucketInfo: new Map(),
        bucketCost: new Map(),
        cell: new Map(),
        cellInfo: new Map(),
        cellCost: new Map(),
      };
      this.fits[level] = fit;
    }
    const touched = this.touched[level];
    const cells = (this.cells[level] ??= { byModel: new Map(), byKey: new Map(), byId: new Map() });
    if (this.fresh.has(level) && !touched?.size) return fit;
    if (this.fresh.has(level) && touched) {
      this.touched[level] = new Map();
      for (const [model, keys] of touched) {
        for (const key of keys) this.refreshCell(cells, model, key, level);
        const own = cells.byModel.get(model) ?? [];
        // Where the model's cells start moved with the level above.
        for (const cell of own) {
          cell.mean = this.cellMean(model, cell.key, level, 'cell').value;
          cell.meanCost = this.cellMean(model, cell.key, level, 'cellCost').value;
        }
        // The model's offset moves with its new answers, so its other cells are stepped too
        // (a context where it kept failing stays low when it starts to succeed elsewhere).
        const logCosts = this.logCostsOf(cells.byModel.keys());
        fit.pool.logCost = meanOf(logCosts.values());
        for (let round = 0; round < FIT_ROUNDS; round++) {
          this.fitPool(fit, cells.byModel, logCosts);
          let moved = this.stepModel(fit, model, own, level);
          for (const key of keys) moved = Math.max(moved, this.stepBucket(fit, key, cells.byKey.get(key) ?? [], level));
          for (const cell of own) moved = Math.max(moved, this.stepCell(fit, cell, level));
          if (moved < FIT_TOLERANCE) break;
        }
      }
      return fit;
    }
    this.fresh.add(level);
    this.touched[level] = new Map();
    const keys = [...(this.levels[level] ?? [])];
    cells.byModel.clear();
    cells.byKey.clear();
    cells.byId.clear();
    if (keys.length === 0) return fit;
    for (const modelId of this.buckets.keys()) {
      for (const cell of this.cellsOfModel(modelId, level)) addCell(cells, cell);
    }
    const logCosts = this.logCostsOf(cells.byModel.keys());
    fit.pool.logCost = meanOf(logCosts.values());
    // Rounds until nothing moves by more than FIT_TOLERANCE (from the last fit, which is near, often one).
    for (let round = 0; round < FIT_ROUNDS; round++) {
      this.fitPool(fit, cells.byModel, logCosts);
      let moved = 0;
      for (const [model, own] of cells.byModel) moved = Math.max(moved, this.stepModel(fit, model, own, level));
      for (const key of keys) moved = Math.max(moved, this.stepBucket(fit, key, cells.byKey.get(key) ?? [], level));
      for (const own of cells.byModel.values()) for (const cell of own) moved = Math.max(moved, this.stepCell(fit, cell, level));
      if (moved < FIT_TOLERANCE) break;
    }
    return fit;
  }

  /** The log list prices of the models that have them. */
  private logCostsOf(models: Iterable<string>): Map<string, number> {
    const logCosts = new Map<string, number>();
    for (const model of models) {
      const cost = this.listCost?.(model);
      if (cost !== undefined && cost > 0) logCosts.set(model, Math.log(cost));
    }
    return logCosts;
  }

  /** Brings one model's cell in a bucket up to date with its counts (or adds it, new). */
  private refreshCell(cells: LevelCells, modelId: string, key: string, level: number): void {
    const c = this.buckets.get(modelId)?.get(key);
    if (!c) return;
    const known = cells.byId.get(cellKey(modelId, key));
    if (known) {
      known.s = Math.min(c.s, c.n);
      known.n = c.n;
      known.lc = c.lc;
      known.cn = c.cn;
      return;
    }
    addCell(cells, this.cellOf(modelId, key, level, c));
  }

  /** The model's counts in each bucket of a level, as the fit reads them. */
  private cellsOfModel(modelId: string, level: number): FitCell[] {
    const counts = this.buckets.get(modelId);
    const keys = this.levels[level];
    if (!counts || !keys) return [];
    const cells: FitCell[] = [];
    // The smaller of the two sets is walked.
    const source = counts.size < keys.size ? counts.keys() : keys.values();
    for (const key of source) {
      const c = counts.get(key);
      if (c && levelOf(key) === level && (c.n >= 1e-6 || c.cn >= 1e-6)) cells.push(this.cellOf(modelId, key, level, c));
    }
    return cells;
  }

  private cellOf(modelId: string, key: string, level: number, c: Counts): FitCell {
    const model = this.models.get(modelId) ?? untagged(modelId);
    return {
      id: cellKey(modelId, key),
      model: modelId,
      key,
      s: Math.min(c.s, c.n),
      n: c.n,
      lc: c.lc,
      cn: c.cn,
      prior: logit(this.prior(model, contextOfBucket(key)).p),
      mean: this.cellMean(modelId, key, level, 'cell').value,
      meanCost: this.cellMean(modelId, key, level, 'cellCost').value,
    };
  }

  /** The log-odds the fit gives a cell, and its log cost factor. */
  private cellOdds(fit: LevelFit, c: FitCell, level: number): number {
    const bucket = fit.bucket.get(c.key) ?? this.effectMean(c.key, level).value;
    return c.prior + (fit.model.get(c.model) ?? 0) + bucket + (fit.cell.get(c.id) ?? c.mean);
  }

  private cellCost(fit: LevelFit, c: FitCell, level: number, without: 'model' | 'bucket' | 'cell'): number {
    const model = without === 'model' ? 0 : (fit.modelCost.get(c.model) ?? 0);
    const bucket = without === 'bucket' ? 0 : (fit.bucketCost.get(c.key) ?? this.costMean(c.key, level));
    const cell = without === 'cell' ? 0 : (fit.cellCost.get(c.id) ?? c.meanCost);
    return model + bucket + cell;
  }

  /**
   * What some cells say of one shared value (a model's offset, a bucket's effect): the gradient and
   * curvature of their log-likelihood, and their log cost factors less the rest of the fit's.
   */
  private evidenceOf(fit: LevelFit, cells: readonly FitCell[], level: number, shared: 'model' | 'bucket'): { g: number; h: number; lc: number; cn: number } {
    let g = 0;
    let h = 0;
    let lc = 0;
    let cn = 0;
    for (const c of cells) {
      const q = logistic(this.cellOdds(fit, c, level));
      g += c.s - c.n * q;
      h += c.n * q * (1 - q);
      lc += c.lc - c.cn * this.cellCost(fit, c, level, shared);
      cn += c.cn;
    }
    return { g, h, lc, cn };
  }

  /** One Newton step for a model's offset (and its cost factor's least-squares value). */
  private stepModel(fit: LevelFit, model: string, own: readonly FitCell[], level: number): number {
    const tau = this.tau();
    const mean = this.poolExpectation(fit, model);
    const a = fit.model.get(model) ?? mean;
    const { g, h, lc, cn } = this.evidenceOf(fit, own, level, 'model');
    const step = clip((g - tau * (a - mean)) / (h + tau));
    fit.model.set(model, a + step);
    fit.modelInfo.set(model, h + tau);
    fit.modelCost.set(model, lc / (cn + COST_PRIOR_STRENGTH));
    return Math.abs(step);
  }

  /** One Newton step for a bucket's effect on every model (and its cost effect). */
  private stepBucket(fit: LevelFit, key: string, here: readonly FitCell[], level: number): number {
    const tau = this.tau();
    const kc = COST_PRIOR_STRENGTH;
    const mean = this.effectMean(key, level).value;
    const b = fit.bucket.get(key) ?? mean;
    const { g, h, lc, cn } = this.evidenceOf(fit, here, level, 'bucket');
    const step = clip((g - tau * (b - mean)) / (h + tau));
    fit.bucket.set(key, b + step);
    fit.bucketInfo.set(key, h + tau);
    fit.bucketCost.set(key, (lc + kc * this.costMean(key, level)) / (cn + kc));
    return Math.abs(step);
  }

  /** One Newton step for a model's cell in a bucket (and its cost). */
  private stepCell(fit: LevelFit, c: FitCell, level: number): number {
    const tau = this.tau();
    const v = fit.cell.get(c.id) ?? c.mean;
    const q = logistic(this.cellOdds(fit, c, level));
    const h = tau + c.n * q * (1 - q);
    const step = clip((c.s - c.n * q - tau * (v - c.mean)) / h);
    fit.cell.set(c.id, v + step);
    fit.cellInfo.set(c.id, h);
    fit.cellCost.set(c.id, (c.lc - c.cn * this.cellCost(fit, c, level, 'cell') + COST_PRIOR_STRENGTH * c.meanCost) / (c.cn + COST_PRIOR_STRENGTH));
    return Math.abs(step);
  }

  /** What a bucket's cost effect is expected to be before its own charges: its parent's (none at the top). */
  private costMean(key: string, level: number): number {
    return level === 0 ? 0 : this.costEffect(parentOf(key), level - 1);
  }

  /** Notes a bucket at its level, for the fits. */
  private noteBucket(key: string): void {
    if (isAfterRejection(key)) return;
    (this.levels[levelOf(key)] ??= new Set()).add(key);
  }

  /** The bucket's counts decayed to now, or new empty ones (noted for the fits). */
  private bucketFor(counts: Map<string, Counts>, key: string, now: number): Counts {
    const c = counts.get(key);
    if (c) return this.decayed(c, now);
    this.noteBucket(key);
    return { s: 0, n: 0, t: now, lc: 0, cn: 0 };
  }

  private modelBuckets(modelId: string): Map<string, Counts> {
    let counts = this.buckets.get(modelId);
    if (!counts) {
      counts = new Map();
      this.buckets.set(modelId, counts);
    }
    return counts;
  }

  private decayed(c: Counts, now: number): Counts {
    // Within a minute the discount is below one part in forty thousand: not worth a power.
    if (now - c.t < 60_000) return c;
    const days = (now - c.t) / DAY_MS;
    const f = Math.pow(0.5, days / this.options.halfLifeDays);
    return { s: c.s * f, n: c.n * f, t: c.t, lc: c.lc * f, cn: c.cn * f };
  }
}

/** A model known only by its id (from a saved state): no tiers, so the untagged prior. */
function untagged(id: string): ModelConfig {
  return { id, provider: '', name: id, tags: [], balance: 'round-robin', capabilities: ['chat'] };
}

function meanOf(values: Iterable<number>): number {
  let sum = 0;
  let count = 0;
  for (const v of values) {
    sum += v;
    count++;
  }
  return count > 0 ? sum / count : 0;
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
