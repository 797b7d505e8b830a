import type { LearningState } from '../learn/learner';

/** The model the learner's statistics favour in one bucket, and the evidence behind it. */
export interface LearnedPick {
  /** The learner's bucket key: `*`, `task=debug`, `task=debug|lang=rust`, `after=m1|task=debug`… */
  bucket: string;
  model: string;
  /** Posterior mean of acceptance under a uniform prior: (successes + 1) / (observations + 2). */
  mean: number;
  /** Discounted counts as saved (fractions: old evidence weighs less, partial acceptance counts 0.7). */
  successes: number;
  observations: number;
  /** How many models have data in this bucket. */
  contenders: number;
  runnerUp?: { model: string; mean: number; observations: number };
}

export interface LearnedPicksOptions {
  /** Only buckets where at least this many models have data (1: every bucket with data). */
  minModels?: number;
}

interface Candidate {
  model: string;
  mean: number;
  s: number;
  n: number;
}

/** Higher mean first; on a tie, more evidence, then the model id, so the order is stable. */
const better = (a: Candidate, b: Candidate) => a.mean > b.mean || (a.mean === b.mean && (a.n > b.n || (a.n === b.n && a.model < b.model)));

/**
 * Per bucket of a saved learning state, the model with the highest posterior mean and the
 * runner-up. Buckets with the most evidence come first. This reads the counts as saved, without
 * the learner's back-off to parent buckets or its time decay: it says what the data in each
 * bucket says, which is what a person checking the learner wants to see.
 */
export function learnedPicks(state: LearningState, options: LearnedPicksOptions = {}): LearnedPick[] {
  const minModels = Math.max(1, options.minModels ?? 1);
  const buckets = new Map<string, { best: Candidate; second?: Candidate; contenders: number; evidence: number }>();
  for (const [model, counts] of Object.entries(state.models)) {
    for (const [bucket, [s, n]] of Object.entries(counts)) {
      if (!(n > 0)) continue;
      const candidate: Candidate = { model, mean: (Math.min(s, n) + 1) / (n + 2), s: Math.min(s, n), n };
      const entry = buckets.get(bucket);
      if (!entry) {
        buckets.set(bucket, { best: candidate, contenders: 1, evidence: n });
        continue;
      }
      entry.contenders++;
      entry.evidence += n;
      if (better(candidate, entry.best)) {
        entry.second = entry.best;
        entry.best = candidate;
      } else if (!entry.second || better(candidate, entry.second)) {
        entry.second = candidate;
      }
    }
  }
  return [...buckets]
    .filter(([, e]) => e.contenders >= minModels)
    .sort(([ka, a], [kb, b]) => b.evidence - a.evidence || (ka < kb ? -1 : ka > kb ? 1 : 0))
    .map(([bucket, { best, second, contenders }]) => ({
      bucket,
      model: best.model,
      mean: best.mean,
      successes: best.s,
      observations: best.n,
      contenders,
      ...(second ? { runnerUp: { model: second.model, mean: second.mean, observations: second.n } } : {}),
    }));
}
