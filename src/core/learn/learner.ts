import { z } from 'zod';
import type { ModelConfig } from '../config/settingsSchema';
import { tierPrior, type AcceptanceEstimate, type AcceptanceEstimator, type EstimateContext } from '../route/estimates';
import type { OutcomeKind } from './outcomes';
import { JointFit, leafKeys, logistic } from './jointFit';
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
  /**
   * Observations' worth of prior a model's offset gets, and a bucket after a rejection; a
   * context's effect and a model's record there start from a prior as wide, and their spread per
   * level is then learned, held to that prior by as many values' worth.
   */
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
  context?: AcceptanceEstimate['context'];
}

/** A model's answers after a set of rejections in one context, and its first-answer log-odds there. */
interface AnswersAfter {
  model: string;
  base: number;
  s: number;
  n: number;
}

/** How long a cached estimate stands without changes (time discounts evidence, slowly). */
const LEARNED_TTL_MS = 3_600_000;

function logit(p: number): number {
  const q = Math.min(1 - 1e-6, Math.max(1e-6, p));
  return Math.log(q / (1 - q));
}

/** Whether a bucket is of answers after a rejection (`depth=N`, `after=…`): those are not in the fit of first answers. */
function isAfterRejection(key: string): boolean {
  return key.startsWith('after=') || key.startsWith('depth=');
}

/** The first-answer path of the same facts as an after-rejection path. */
function firstAnswerPath(path: readonly string[]): string[] {
  return ['*', ...path.slice(3).map((key) => key.slice(key.indexOf('|') + 1))];
}

/** The first-answer bucket one fact coarser (for a bucket other than `*`). */
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
/** The buckets that hold each of a model's answers once: first ones, then after 1… MAX_DEPTH rejections. */
const ANSWER_KEYS = ['*', ...Array.from({ length: MAX_DEPTH }, (_, i) => `depth=${i + 1}`)];

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
  /** 1: acceptance only; 2 adds the learned cost; 3 adds the leaves (all are read). */
  version: z.union([z.literal(1), z.literal(2), z.literal(3)]),
  savedAt: z.string(),
  /** model id → bucket → [successes, observations, last update ms], and in version 2 [sum of log cost factors, charges]. */
  models: z.record(z.string(), z.record(z.string(), countsSchema)),
  /** Version 3: model id → leaf → the same counts, of first answers whose finest bucket is that leaf (each answer once). */
  leaves: z.record(z.string(), z.record(z.string(), countsSchema)).optional(),
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
 * difficulty, further features; after a rejection, the same facts after it), and each first
 * answer also counts once in its leaf, the finest bucket of its request. A first-answer estimate
 * comes from one fit over the leaves (`JointFit`): the model's offset from its tier prior (held
 * to what the pool of models expects of it), each fact's effect on every model (once the fact has
 * varied: a second language, a second task), and the model's
 * own record in each bucket of the path, the last two held to 0 by a spread per level learned
 * from the data. So a rare context leans on what is known of the model and of the context, and a
 * busy one speaks for itself, and no answer is counted twice. After a rejection, a
 * model starts from its first-answer estimate in the same context, lowered by what the other
 * models' answers after the same rejection say of such cases (`rejectionShift`), and is judged by
 * its own answers after that rejection (a model that often succeeds first-hand can be a poor
 * second choice when the same cases defeat both). Cost is learned the same way as acceptance, as
 * a log factor on the price-list estimate. The fit is brought up to date lazily (or by
 * `refresh`), from where it was.
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
  private readonly listeners = new Set<() => void>();
  /** Bucket paths of the contexts being decided (one decision asks for many models with the same context). */
  private readonly paths = new WeakMap<EstimateContext, string[]>();
  /** For a path after a rejection, the first-answer path of the same facts. */
  private readonly firstPaths = new WeakMap<readonly string[], string[]>();
  /** Per model, its first answers' counts by leaf (the finest bucket of their request): the fit's rows. */
  private readonly leaves = new Map<string, Map<string, Counts>>();
  /** Per model, its answers after rejections by their finest bucket (each once), for what a rejection says of every model. */
  private readonly afterLeaves = new Map<string, Map<string, Counts>>();
  /** Per bucket, the answers of every model there (how often a context comes up), while the statistics do not change. */
  private readonly totals = new Map<string, number>();
  /** Per model and rejected set, the shift a rejection brings (see `rejectionShift`), while the statistics do not change. */
  private readonly shifts = new Map<string, number>();
  private after?: Map<string, AnswersAfter[]>;
  /** The models last asked about, for their tier priors in the fit. */
  private readonly models = new Map<string, ModelConfig>();
  /** The fit of first answers over the leaves; kept across changes to start the next fit from. */
  private readonly joint: JointFit;
  /** What is learned per model and finest bucket, while the statistics do not change. */
  private readonly learned = new Map<string, Map<string, LearnedPart>>();
  private cachedParts = 0;
  /** Per model, its answers in any context (first ones and after rejections), while the statistics do not change. */
  private readonly answers = new Map<string, { at: number; n: number }>();

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
    this.joint = new JointFit({ tau: this.tau(), costPrior: COST_PRIOR_STRENGTH, listCost: options.listCost });
  }

  estimate(model: ModelConfig, context: EstimateContext): AcceptanceEstimate {
    const seen = this.models.get(model.id);
    if (seen !== model) {
      this.models.set(model.id, model);
      // A model's tiers are its prior in the fit: its rows (read before its tiers were known, or
      // with other tiers) take the new prior.
      if ((seen ?? untagged(model.id)).tags.join() !== model.tags.join() && this.leaves.has(model.id)) {
        for (const [leaf, c] of this.leaves.get(model.id)!) this.joint.setRow(model.id, leaf, c, this.rowPrior(model.id, leaf));
        this.clearCache();
      }
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
      // After a rejection: the model's first answers here, lowered by what the rejection says of
      // the case for every model (`rejectionShift`), then its own answers after that many
      // rejections, after exactly those, and after those here, each bucket borrowing
      // `priorStrength` observations from the estimate before it.
      const k = this.options.priorStrength;
      const counts = this.buckets.get(model.id);
      const now = this.now();
      const shift = this.rejectionShift(path[1], path[2], model.id);
      if (shift !== 0) {
        p = logistic(logit(p) + shift);
        if (Math.abs(shift) >= NOTABLE_SHIFT) moved = { bucket: path[2], shift, everyModel: true };
      }
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
      contextSamples: this.answersIn(path[path.length - 1]),
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
    const now = this.now();
    let parts = this.learned.get(modelId);
    const known = parts?.get(key);
    if (known && now - known.at < LEARNED_TTL_MS) return known;
    if (this.joint.stale) this.joint.fit();
    const fitted = this.joint.value(modelId, path);
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
    const cached = this.answers.get(modelId);
    let answered = cached && now - cached.at < LEARNED_TTL_MS ? cached.n : undefined;
    if (answered === undefined) {
      answered = 0;
      for (const key of ANSWER_KEYS) {
        const c = counts?.get(key);
        if (c) answered += this.decayed(c, now).n;
      }
      this.answers.set(modelId, { at: now, n: answered });
    }
    // The fact of the context whose effect on every model is largest, when it matters.
    const strongest = fitted.strongest;
    const part: LearnedPart = {
      at: now,
      odds: fitted.odds,
      logCost: fitted.logCost,
      sdOdds: Math.sqrt(fitted.variance),
      samples: round2(samples),
      costSamples: round2(costSamples),
      answered: round2(answered),
      context: strongest && Math.abs(strongest.shift) >= NOTABLE_SHIFT ? strongest : undefined,
    };
    if (this.cachedParts > 20_000) this.clearCache();
    if (!parts) {
      parts = new Map();
      this.learned.set(modelId, parts);
    }
    parts.set(key, part);
    this.cachedParts++;
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
      const factor = Math.log(cost.actualUsd / cost.estimatedUsd);
      const d = this.options.decayPerUpdate;
      this.update(pending, (c) => ({ ...c, lc: c.lc * d + factor, cn: c.cn * d + 1 }));
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
    const d = this.options.decayPerUpdate;
    const earlier = pending.reward;
    this.update(pending, (c, fresh) =>
      earlier === undefined || fresh
        ? { ...c, s: c.s * d + reward, n: c.n * d + 1 }
        : // A correction moves the earlier observation from one side to the other.
          { ...c, s: Math.min(c.n, Math.max(0, c.s + reward - earlier)) },
    );
    pending.reward = reward;
    return earlier === undefined ? 'applied' : 'changed';
  }

  /**
   * Brings the fit up to date with the statistics now, so that the next estimate does not pay
   * for it (a host calls this off its critical path after signals; estimates do it when needed).
   */
  refresh(): void {
    if (this.joint.stale) this.joint.fit();
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
    this.forget();
    this.changed();
  }

  /** The versioned form that is saved and exported. */
  toJSON(): LearningState {
    const serialise = (byModel: Map<string, Map<string, Counts>>) => {
      const out: LearningState['models'] = {};
      for (const [modelId, counts] of byModel) {
        out[modelId] = Object.fromEntries([...counts].map(([key, c]) => [key, [round(c.s), round(c.n), c.t, round(c.lc), round(c.cn)]]));
      }
      return out;
    };
    return {
      format: 'coderoute-learning',
      version: 3,
      savedAt: new Date(this.now()).toISOString(),
      models: serialise(this.buckets),
      leaves: serialise(this.leaves),
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
    this.forget();
    const read = (counts: Record<string, LearningState['models'][string][string]>) => {
      const map = new Map<string, Counts>();
      for (const [key, [s, n, t, lc, cn]] of Object.entries(counts)) map.set(key, { s: Math.min(s, n), n, t, lc: lc ?? 0, cn: cn ?? 0 });
      return map;
    };
    for (const [modelId, counts] of Object.entries(parsed.data.models)) this.buckets.set(modelId, read(counts));
    if (parsed.data.leaves) {
      for (const [modelId, counts] of Object.entries(parsed.data.leaves)) this.leaves.set(modelId, read(counts));
    } else {
      // Before version 3 only the nested buckets were kept: a leaf's own answers are its bucket's
      // less those of the buckets one fact finer (near, as buckets decay with their own updates).
      for (const [modelId, counts] of this.buckets) {
        const leaves = ownAnswers(counts, (key) => key !== '*' && !isAfterRejection(key));
        if (leaves.size > 0) this.leaves.set(modelId, leaves);
      }
    }
    for (const [modelId, leaves] of this.leaves) for (const [leaf, c] of leaves) this.joint.setRow(modelId, leaf, c, this.rowPrior(modelId, leaf));
    // Answers after rejections are not saved by leaf: each is its bucket's less the buckets one fact finer.
    for (const [modelId, counts] of this.buckets) {
      const after = ownAnswers(counts, (key) => key.startsWith('after=') && key.includes('|'));
      if (after.size > 0) this.afterLeaves.set(modelId, after);
    }
    // A request saved before its cost was learned is not charged again after a restart: its cost went in with it.
    for (const [id, modelId, keys, reward] of parsed.data.requests) this.requests.set(id, { modelId, keys, reward: reward ?? undefined, costed: true });
    this.changed();
  }

  /**
   * Changes a request's counts: in each bucket it updates, and for a first answer in its leaf
   * (`fresh`: the bucket had no counts for the model yet). The leaf's row of the fit follows.
   */
  private update(pending: PendingRequest, change: (c: Counts, fresh: boolean) => Counts): void {
    const now = this.now();
    const apply = (counts: Map<string, Counts>, key: string) => {
      const c = counts.get(key);
      const next = { ...change(c ? this.decayed(c, now) : { s: 0, n: 0, t: now, lc: 0, cn: 0 }, !c), t: now };
      counts.set(key, next);
      return next;
    };
    const buckets = this.countsOf(this.buckets, pending.modelId);
    for (const key of pending.keys) apply(buckets, key);
    const leaf = pending.keys[pending.keys.length - 1];
    if (pending.keys[0] === '*') {
      const c = apply(this.countsOf(this.leaves, pending.modelId), leaf);
      this.joint.setRow(pending.modelId, leaf, c, this.rowPrior(pending.modelId, leaf));
    } else {
      apply(this.countsOf(this.afterLeaves, pending.modelId), leaf);
    }
    this.changed();
  }

  /**
   * How much a rejection lowers every model's log-odds, from the other models' answers after the
   * same rejections against their first-answer estimates in the same contexts: cases that defeat
   * one model often defeat the next (after GPT-5 mini fails on SWE-bench, every other model's odds
   * fall about ×0.27), whichever model answers next. After exactly these rejections, held to the
   * shift after as many rejections (of any models), held to none.
   */
  private rejectionShift(depthKey: string, afterKey: string, exclude: string): number {
    const id = `${exclude}\u0000${afterKey}`;
    let shift = this.shifts.get(id);
    if (shift === undefined) {
      const index = this.answersAfterRejections();
      const tau = this.tau();
      const depth = this.fitShift(index.get(depthKey) ?? [], exclude, 0, tau);
      shift = this.fitShift(index.get(afterKey) ?? [], exclude, depth, tau);
      this.shifts.set(id, shift);
    }
    return shift;
  }

  /**
   * Every model's answers after rejections, each once at its finest bucket, with the log-odds its
   * first answers there would have: by rejected set (`after=…`) and by number of rejections (`depth=N`).
   */
  private answersAfterRejections(): Map<string, AnswersAfter[]> {
    if (this.after) return this.after;
    const index = new Map<string, AnswersAfter[]>();
    const now = this.now();
    for (const [modelId, leaves] of this.afterLeaves) {
      const model = this.models.get(modelId) ?? untagged(modelId);
      for (const [key, raw] of leaves) {
        const c = this.decayed(raw, now);
        if (c.n < 0.1) continue;
        const cut = key.indexOf('|');
        const rejected = key.slice(0, cut);
        const leaf = key.slice(cut + 1);
        const base = logit(this.prior(model, contextOfBucket(leaf)).p) + this.learnedPart(modelId, ['*', ...leafKeys(leaf)]).odds;
        const row: AnswersAfter = { model: modelId, base, s: Math.min(c.n, c.s), n: c.n };
        for (const group of [rejected, `depth=${rejected.split('+').length}`]) {
          const rows = index.get(group);
          if (rows) rows.push(row);
          else index.set(group, [row]);
        }
      }
    }
    this.after = index;
    return index;
  }

  /** The common log-odds shift of answers against their first-answer log-odds, but `exclude`'s (prior mean and precision). */
  private fitShift(rows: readonly AnswersAfter[], exclude: string, mean: number, precision: number): number {
    let delta = mean;
    for (let i = 0; i < 8; i++) {
      let g = -precision * (delta - mean);
      let h = precision;
      for (const r of rows) {
        if (r.model === exclude) continue;
        const q = logistic(r.base + delta);
        g += r.s - r.n * q;
        h += r.n * q * (1 - q);
      }
      const step = Math.max(-2, Math.min(2, g / h));
      delta += step;
      if (Math.abs(step) < 1e-4) break;
    }
    return delta;
  }

  /** How many answers, of every model, a bucket has (how often its context comes up). */
  private answersIn(key: string): number {
    let total = this.totals.get(key);
    if (total === undefined) {
      total = 0;
      for (const counts of this.buckets.values()) total += counts.get(key)?.n ?? 0;
      total = round2(total);
      this.totals.set(key, total);
    }
    return total;
  }

  /** The log-odds of a model's tier prior in a leaf's context, for its row of the fit. */
  private rowPrior(modelId: string, leaf: string): number {
    return logit(this.prior(this.models.get(modelId) ?? untagged(modelId), contextOfBucket(leaf)).p);
  }

  /** After the statistics changed: the estimates are derived again (and the fit brought up to date) when next asked for. */
  private changed(): void {
    this.clearCache();
    this.listeners.forEach((l) => l());
  }

  /** Empties the statistics, the remembered decisions and the fit (the caller announces the change). */
  private forget(): void {
    this.buckets.clear();
    this.leaves.clear();
    this.afterLeaves.clear();
    this.requests.clear();
    this.joint.clear();
  }

  /** Forgets what was derived from the statistics (estimates, answer counts, context totals). */
  private clearCache(): void {
    this.learned.clear();
    this.cachedParts = 0;
    this.answers.clear();
    this.totals.clear();
    this.shifts.clear();
    this.after = undefined;
  }

  /** Precision of a prior worth `priorStrength` observations at even odds. */
  private tau(): number {
    return this.options.priorStrength / 4;
  }

  private countsOf(byModel: Map<string, Map<string, Counts>>, modelId: string): Map<string, Counts> {
    let counts = byModel.get(modelId);
    if (!counts) {
      counts = new Map();
      byModel.set(modelId, counts);
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

/**
 * A model's answers by their finest bucket, from its nested bucket counts, among the buckets
 * `which` takes: a bucket's counts less those of the buckets one fact finer, where that leaves any
 * (exact without discounting, near with it, as buckets decay with their own updates).
 */
function ownAnswers(buckets: ReadonlyMap<string, Counts>, which: (key: string) => boolean): Map<string, Counts> {
  const own = new Map<string, Counts>();
  for (const [key, c] of buckets) if (which(key)) own.set(key, { ...c });
  for (const [key, c] of buckets) {
    if (!own.has(key)) continue;
    const parent = own.get(parentOf(key));
    if (!parent) continue;
    parent.s -= c.s;
    parent.n -= c.n;
    parent.lc -= c.lc;
    parent.cn -= c.cn;
  }
  const leaves = new Map<string, Counts>();
  for (const [key, c] of own) {
    // Below a tenth of an answer, what is left is the buckets' different discounts, not answers.
    if (c.n < 0.1 && c.cn < 0.1) continue;
    const n = Math.max(0, c.n);
    const cn = Math.max(0, c.cn);
    leaves.set(key, { s: Math.min(n, Math.max(0, c.s)), n, t: c.t, lc: cn > 0 ? c.lc : 0, cn });
  }
  return leaves;
}

/** A model known only by its id (from a saved state): no tiers, so the untagged prior. */
function untagged(id: string): ModelConfig {
  return { id, provider: '', name: id, tags: [], balance: 'round-robin', capabilities: ['chat'] };
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
