import type { ModelConfig, ModelTag } from '../config/settingsSchema';
import type { ClassifiedTask } from '../classify/classification';
import type { Task } from '../context/requestContext';

/** The context an acceptance estimate is for: the bucket the learner keys its statistics by. */
export interface EstimateContext {
  task: ClassifiedTask | Task;
  language: string;
  difficulty: number;
  /** Further facts of the request, coarse to fine (for example a repository or a platform). */
  features?: readonly (readonly [string, string])[];
  /** Models whose answers to this same request were rejected: the escalation state. */
  rejected?: readonly string[];
}

export interface AcceptanceEstimate {
  /** Probability that the answer is accepted, 0..1. */
  p: number;
  /** How much evidence stands behind it (0 for a prior). */
  samples: number;
  source: 'prior' | 'learned';
  /** Expected time to the answer in milliseconds, when known. */
  latencyMs?: number;
  /** The posterior's standard deviation, when the estimator knows it. */
  sd?: number;
  /** How many first answers of this model, in any context, the estimator has seen (when it counts them). */
  modelSamples?: number;
  /**
   * How many answers, of any model, the estimator has seen in the request's finest context (after
   * the same rejections, for a retry): how often requests like this one come up, lately.
   */
  contextSamples?: number;
  /** What the request is expected to cost against the price-list estimate (1.8: 80 % more), when learned. */
  costFactor?: number;
  /** The charges behind `costFactor` in the request's finest bucket with any. */
  costSamples?: number;
  /**
   * What moved this estimate most (log-odds), for the reason: a context effect shared by every
   * model, or after a rejection the model's own answers there, or (`everyModel`) what the other
   * models' answers after the same rejection say of the case for every model.
   */
  context?: { bucket: string; shift: number; everyModel?: boolean };
}

/**
 * What the router needs from the learner: per model and context, the chance of acceptance. The
 * learner (a later issue) implements this from accept / reject signals; until it has evidence,
 * it answers with the tier priors below.
 */
export interface AcceptanceEstimator {
  estimate(model: ModelConfig, context: EstimateContext): AcceptanceEstimate;
  /**
   * A draw from the posterior (Thompson sampling), for bounded exploration. An estimator without
   * it is never explored.
   */
  sample?(model: ModelConfig, context: EstimateContext, estimate?: AcceptanceEstimate): number;
}

/** Base acceptance per tier on an easy request, and how much it falls as difficulty rises to 1. */
const TIER_PRIORS: Record<ModelTag, { base: number; slope: number }> = {
  strong: { base: 0.86, slope: 0.12 },
  code: { base: 0.83, slope: 0.2 },
  cheap: { base: 0.8, slope: 0.5 },
  local: { base: 0.7, slope: 0.5 },
};
/** A model with no tier tag: between cheap and code. */
const UNTAGGED = { base: 0.72, slope: 0.35 };

/** Code-writing tasks ask more of a model than explaining or completing a line. */
const TASK_EASE: Partial<Record<ClassifiedTask | Task, number>> = {
  explain: 0.04,
  format: 0.03,
  'complete-line': 0.03,
  'complete-comment': 0.03,
  generate: -0.03,
  debug: -0.04,
  'complete-block': -0.02,
};

/**
 * The cold-start estimate from a model's tags: the best of its tiers, lowered by difficulty
 * (cheap models lose most on hard requests) and adjusted for the task. Deliberately simple and
 * visible in every decision as "prior".
 */
export function tierPrior(model: ModelConfig, context: EstimateContext): AcceptanceEstimate {
  // The best tier at this difficulty (a plain loop: the router asks this for every candidate).
  let best = model.tags.length > 0 ? -Infinity : UNTAGGED.base - UNTAGGED.slope * context.difficulty;
  for (const tag of model.tags) best = Math.max(best, TIER_PRIORS[tag].base - TIER_PRIORS[tag].slope * context.difficulty);
  const p = best + (TASK_EASE[context.task] ?? 0);
  return { p: Math.min(0.99, Math.max(0.01, p)), samples: 0, source: 'prior' };
}

export const TIER_PRIOR_ESTIMATOR: AcceptanceEstimator = { estimate: tierPrior };
