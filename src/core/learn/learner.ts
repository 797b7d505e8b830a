import { z } from 'zod';
import type { ModelConfig } from '../config/settingsSchema';
import { tierPrior, type AcceptanceEstimate, type AcceptanceEstimator, type EstimateContext } from '../route/estimates';
import type { OutcomeKind } from './outcomes';
import { sampleBeta, type Random } from './random';

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
  /** Pseudo-observations a bucket borrows from the bucket above it (and the root from the tier prior). */
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
}

const DEFAULTS = { priorStrength: 8, decayPerUpdate: 0.995, halfLifeDays: 30, maxRequests: 2000 };
const DAY_MS = 86_400_000;

/** Successes and observations in one bucket for one model, discounted; `t` is the last update time. */
interface Counts {
  s: number;
  n: number;
  t: number;
}

interface PendingRequest {
  modelId: string;
  /** The buckets the request's signal updates. */
  keys: string[];
  /** The reward applied so far, if a signal arrived. */
  reward?: number;
}

/** What the answer to `observe` was. */
export type ObserveResult = 'applied' | 'changed' | 'duplicate' | 'unknown-request';

/** Difficulty in [0, 1] as one of four buckets. */
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

const countsSchema = z.tuple([z.number().min(0), z.number().min(0), z.number()]);
export const learningStateSchema = z.object({
  format: z.literal('coderoute-learning'),
  version: z.literal(1),
  savedAt: z.string(),
  /** model id → bucket → [successes, observations, last update ms]. */
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
 * Learns, per model and context bucket, the probability that an answer is accepted, from the
 * users' signals. Each bucket holds discounted Beta counts; an estimate starts from the tier prior
 * and is refined bucket by bucket, each borrowing `priorStrength` observations from the one above,
 * so that a rare bucket leans on its parents and a busy one speaks for itself. The router reads
 * posterior means (`estimate`) and draws (`sample`, Thompson sampling) through the
 * AcceptanceEstimator interface; the same code runs in the extension and in `coderoute replay`.
 */
export class Learner implements AcceptanceEstimator {
  private readonly buckets = new Map<string, Map<string, Counts>>();
  private readonly requests = new Map<string, PendingRequest>();
  private readonly options: Required<Omit<LearnerOptions, 'now' | 'random' | 'prior'>>;
  private readonly now: () => number;
  private readonly random: Random;
  private readonly prior: (model: ModelConfig, context: EstimateContext) => AcceptanceEstimate;
  private readonly listeners = new Set<() => void>();
  /** Bucket paths of the contexts being decided (one decision asks for many models with the same context). */
  private readonly paths = new WeakMap<EstimateContext, string[]>();

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
  }

  estimate(model: ModelConfig, context: EstimateContext): AcceptanceEstimate {
    const prior = this.prior(model, context);
    const k = this.options.priorStrength;
    const now = this.now();
    let mean = prior.p;
    let samples = 0;
    let parent: Counts | undefined;
    const counts = this.buckets.get(model.id);
    let path = this.paths.get(context);
    if (!path) {
      path = bucketPath(context);
      this.paths.set(context, path);
    }
    for (const key of path) {
      const raw = counts?.get(key);
      // An empty bucket adds nothing (the root stays empty for a model only ever tried after a rejection).
      if (!raw) continue;
      const c = this.decayed(raw, now);
      if (c.n < 1e-6) continue;
      // A bucket holding exactly its parent's evidence (one language in use, a constant feature) adds nothing.
      if (parent && Math.abs(parent.n - c.n) < 1e-9 && Math.abs(parent.s - c.s) < 1e-9) continue;
      mean = (c.s + k * mean) / (c.n + k);
      samples = c.n;
      parent = c;
    }
    const strength = samples + k;
    const sd = Math.sqrt((mean * (1 - mean)) / (strength + 1));
    return { p: mean, samples: Math.round(samples * 100) / 100, source: samples > 0 ? 'learned' : 'prior', sd, latencyMs: prior.latencyMs };
  }

  /** A posterior draw: Beta around the estimate, as wide as the evidence of its finest bucket. */
  sample(model: ModelConfig, context: EstimateContext, known?: AcceptanceEstimate): number {
    const { p, samples } = known ?? this.estimate(model, context);
    const strength = samples + this.options.priorStrength;
    return sampleBeta(p * strength, (1 - p) * strength, this.random);
  }

  /** Remembers a decision so that the signals for it, even late ones, reach the right buckets. */
  record(requestId: string, modelId: string, context: EstimateContext): void {
    this.requests.delete(requestId);
    this.requests.set(requestId, { modelId, keys: updatedBuckets(context) });
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
    for (const key of pending.keys) {
      const c = counts.get(key);
      if (pending.reward === undefined || !c) {
        const next = c ? this.decayed(c, now) : { s: 0, n: 0, t: now };
        const d = this.options.decayPerUpdate;
        counts.set(key, { s: next.s * d + reward, n: next.n * d + 1, t: now });
      } else {
        // A correction moves the earlier observation from one side to the other.
        counts.set(key, { ...c, s: Math.min(c.n, Math.max(0, c.s + reward - pending.reward)) });
      }
    }
    const result: ObserveResult = pending.reward === undefined ? 'applied' : 'changed';
    pending.reward = reward;
    this.listeners.forEach((l) => l());
    return result;
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
    this.listeners.forEach((l) => l());
  }

  /** The versioned form that is saved and exported. */
  toJSON(): LearningState {
    const models: LearningState['models'] = {};
    for (const [modelId, counts] of this.buckets) {
      models[modelId] = Object.fromEntries([...counts].map(([key, c]) => [key, [round(c.s), round(c.n), c.t]]));
    }
    return {
      format: 'coderoute-learning',
      version: 1,
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
    for (const [modelId, counts] of Object.entries(parsed.data.models)) {
      this.buckets.set(modelId, new Map(Object.entries(counts).map(([key, [s, n, t]]) => [key, { s: Math.min(s, n), n, t }])));
    }
    for (const [id, modelId, keys, reward] of parsed.data.requests) this.requests.set(id, { modelId, keys, reward: reward ?? undefined });
    this.listeners.forEach((l) => l());
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
    return { s: c.s * f, n: c.n * f, t: c.t };
  }
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
