import { parseSettings, type SettingKey } from '../config/settingsSchema';
import type { Task } from '../context/requestContext';
import { Learner, type LearnerOptions } from '../learn/learner';
import { seededRandom, shuffled, type Random } from '../learn/random';
import { mergePolicy, type Policy } from '../policy/policy';
import type { AcceptanceEstimate, AcceptanceEstimator, EstimateContext } from '../route/estimates';
import type { ModelPrice } from '../route/pricing';
import type { RouteDecision } from '../route/routeDecision';
import { RouteRefusal, route, type RouteInput } from '../route/router';
import { ReplayInputError, type OutcomeMatrix } from './outcomeMatrix';

export interface ReplayOptions {
  /** The models the router may use, by their names in the matrix. */
  pool: string[];
  /** The reference model. */
  strong: string;
  /** Calls per task: after a rejection the next attempt escalates; 1 is single shot. */
  maxAttempts: number;
  /** Random task orders (and, for `pass_at_1`, outcome draws), one per seed. */
  seeds: number;
  /** Nominal dollars per task, for models the matrix has no cost for. */
  costs?: Map<string, number>;
  /** The task the requests are routed as (the matrix has one kind of work). */
  task?: Task;
  /** The routing price weight; the extension's default when not given. */
  priceWeight?: number;
  learner?: LearnerOptions;
  /** The first seed (seeds are first, first + 1, …). */
  firstSeed?: number;
}

export interface PolicyResult {
  /** Accepted tasks. */
  quality: number;
  /** Dollars. */
  cost: number;
  /** Model calls per task. */
  attempts: number;
  quality_vs_strong: number;
  cost_vs_strong: number;
  /**
   * What the price weight makes of it, per task: accepted share − price weight × cost against the
   * strong model's (near the router's score, which weighs cost against each decision's dearest
   * candidate). Attempts are left out: how many a task gets is the replay's protocol (retry until
   * accepted), not the policy's choice.
   */
  score: number;
}

export interface ReplayResult {
  tasks: number;
  seeds: number;
  max_attempts: number;
  /** The routing price weight the replay ran at (the extension's default unless given), for `score`. */
  price_weight: number;
  pool: string[];
  strong: string;
  outcome_column: string;
  features: string[];
  /**
   * Mean over seeds. Beside the learned policy and the baselines, `router_knowing_contexts`: the
   * same router choosing by its own score with every context's rates on the seed's outcomes
   * known, where the learner heads as it learns (in hindsight, so no online router can count on it).
   */
  policies: Record<string, PolicyResult>;
  /**
   * Each pool model alone, one attempt per task (mean over seeds): the points a user could have
   * had by always choosing one model, beside which a one-attempt policy is judged.
   */
  models: Record<string, PolicyResult>;
  /** The learned policy per seed, to show the spread. */
  learned_by_seed: PolicyResult[];
  /** The fixed chain chosen in hindsight, per seed. */
  best_chains: string[][];
  /** Share of learned decisions that explored. */
  exploration_rate: number;
  /**
   * The ceiling of a router that sees only the matrix's context columns: for each context, the
   * chain (of up to max_attempts pool models) that was best there, chosen knowing every outcome,
   * for every trade of cost against accepted tasks. `frontier` is that curve (mean over seeds);
   * `at_learned_cost` its quality at the learned policy's cost, seed by seed, averaged.
   */
  context_ceiling: {
    at_learned_cost: { quality: number; quality_vs_strong: number };
    frontier: { cost_vs_strong: number; quality_vs_strong: number }[];
  };
  /**
   * The best mixture of single pool models (their upper hull, one attempt each) at the learned
   * policy's cost: what always choosing one model, or splitting the requests between two at
   * random, gives. A router beats fixed choices where it lies above this.
   */
  models_hull_at_learned_cost: { quality: number; quality_vs_strong: number };
  /** Cumulative acceptance and cost along the task stream (mean over seeds), for the learning curve. */
  curve: { task: number; learned_quality: number; learned_cost: number; strong_quality: number; strong_cost: number }[];
}

/** What one policy did over one seed's stream. */
interface Tally {
  quality: number;
  cost: number;
  calls: number;
}

interface SeedData {
  order: string[];
  /** task → model → accepted (drawn once per seed, shared by every policy). */
  accepted: Map<string, Map<string, boolean>>;
}

const CURVE_POINTS = 50;
/** The router with every context's rates known (see `contextKnowingEstimator`). */
export const KNOWING = 'router_knowing_contexts';
/** Tallies of a pool model alone are kept beside the policies' under this prefix. */
const MODEL_PREFIX = 'model:';

/**
 * Where a one-attempt policy stands against the pool models, each used alone: the line joining
 * the two models nearest to it in cost (one cheaper, one dearer where there are), and whether a
 * single model is at least as good at no higher cost (dominates it).
 */
export function againstModels(point: Pick<PolicyResult, 'quality' | 'cost'>, models: Record<string, Pick<PolicyResult, 'quality' | 'cost'>>): { dominatedBy: string[]; lineQuality?: number; between?: [string, string] } {
  const entries = Object.entries(models);
  const dominatedBy = entries.filter(([, m]) => m.quality >= point.quality && m.cost <= point.cost).map(([name]) => name);
  const cheaper = entries.filter(([, m]) => m.cost <= point.cost).sort((a, b) => b[1].cost - a[1].cost)[0];
  const dearer = entries.filter(([, m]) => m.cost > point.cost).sort((a, b) => a[1].cost - b[1].cost)[0];
  if (!cheaper || !dearer) return { dominatedBy };
  const [a, b] = [cheaper[1], dearer[1]];
  const lineQuality = a.quality + ((b.quality - a.quality) * (point.cost - a.cost)) / (b.cost - a.cost || 1);
  return { dominatedBy, lineQuality: round(lineQuality, 2), between: [cheaper[0], dearer[0]] };
}

/** Dollars a model is expected to cost per task: the costs file, else its mean recorded cost. */
function expectedCosts(matrix: OutcomeMatrix, pool: string[], costs: Map<string, number> | undefined): Map<string, number> {
  const expected = new Map<string, number>();
  for (const model of pool) {
    const nominal = costs?.get(model);
    if (nominal !== undefined) {
      expected.set(model, nominal);
      continue;
    }
    const recorded = matrix.tasks.map((t) => matrix.cost?.get(t)?.get(model)).filter((c): c is number => c !== undefined);
    if (recorded.length === 0) throw new ReplayInputError(`no cost for "${model}": the matrix has no cost_usd for it and --costs does not list it`);
    expected.set(model, recorded.reduce((a, b) => a + b, 0) / recorded.length);
  }
  return expected;
}

/** Checks the options against the matrix; throws ReplayInputError naming the problem. */
function validate(matrix: OutcomeMatrix, options: ReplayOptions): void {
  const unknown = [...options.pool, options.strong].filter((m) => !matrix.models.includes(m));
  if (unknown.length > 0) throw new ReplayInputError(`unknown model${unknown.length > 1 ? 's' : ''} ${unknown.map((m) => `"${m}"`).join(', ')}; the matrix has: ${matrix.models.join(', ')}`);
  if (options.pool.length === 0) throw new ReplayInputError('--pool names no model');
  if (new Set(options.pool).size !== options.pool.length) throw new ReplayInputError('--pool names a model twice');
  if (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1) throw new ReplayInputError('--max-attempts must be a whole number from 1');
  if (!Number.isInteger(options.seeds) || options.seeds < 1) throw new ReplayInputError('--seeds must be a whole number from 1');
}

/**
 * Replays the matrix: for each seed, a random order of the tasks is streamed through the SAME
 * router and learner the extension uses (performance mode over the pool, the learner as the
 * estimator, its draws seeded); each pick's recorded outcome is revealed as an accepted or
 * discarded signal, and a rejection escalates to another model until `maxAttempts`. Baselines run
 * on the same draws.
 */
export function runReplay(matrix: OutcomeMatrix, options: ReplayOptions): ReplayResult {
  validate(matrix, options);
  const models = [...new Set([...options.pool, options.strong])];
  const expected = expectedCosts(matrix, models, options.costs);
  // Tasks where a model has no recorded outcome cannot be compared; the caller reports how many.
  const tasks = matrix.tasks.filter((t) => models.every((m) => matrix.outcome.get(t)?.has(m)));
  if (tasks.length === 0) throw new ReplayInputError('no task has an outcome for every model of the pool and the strong model');
  const costOf = (task: string, model: string) => matrix.cost?.get(task)?.get(model) ?? options.costs?.get(model) ?? (expected.get(model) as number);

  const ids = new Map(options.pool.map((m, i) => [m, `m${i + 1}`]));
  const names = new Map([...ids].map(([name, id]) => [id, name]));
  const policy = replayPolicy(options.pool, ids, options.priceWeight);
  const prices = (model: { name: string }): ModelPrice => ({ inputPerMTok: expected.get(model.name) ?? 0, outputPerMTok: 0, source: 'settings', note: 'replay cost per task' });

  const firstSeed = options.firstSeed ?? 1;
  const totals = new Map<string, Tally[]>();
  const add = (name: string, tally: Tally) => totals.set(name, [...(totals.get(name) ?? []), tally]);
  const bestChains: string[][] = [];
  const curveSums = Array.from({ length: CURVE_POINTS }, () => ({ lq: 0, lc: 0, sq: 0, sc: 0 }));
  // Stream positions (0-based) where the curve takes a point: evenly spaced, the last at the end.
  const checkpoints = new Map<number, number[]>();
  for (let i = 0; i < CURVE_POINTS; i++) {
    const at = Math.ceil(((i + 1) * tasks.length) / CURVE_POINTS) - 1;
    checkpoints.set(at, [...(checkpoints.get(at) ?? []), i]);
  }
  let decisions = 0;
  let explored = 0;
  const contextOf = (task: string) => (matrix.features.get(task) ?? []).map(([, v]) => v).join('|');
  // One request of the stream, as the extension's router gets it (the estimator is the caller's).
  const requestFor = (seed: number, task: string, attempt: number, rejected: string[]) => ({
    requestId: `${seed}:${task}:${attempt}`,
    task: options.task ?? 'generate',
    languageId: 'replay',
    path: '',
    policy,
    prices,
    tokens: { input: 1_000_000, output: 0 },
    rejected,
    attemptsLeft: options.maxAttempts - attempt,
    features: matrix.features.get(task) ?? [],
  });
  const hullAtLearned: number[] = [];
  const ceilingAtLearned: number[] = [];
  const frontierSums = FRONTIER_COSTS.map(() => ({ quality: 0 }));

  for (let s = 0; s < options.seeds; s++) {
    const seed = firstSeed + s;
    const data = drawSeed(matrix, tasks, models, seededRandom(seed * 2654435761));
    const accepted = (task: string, model: string) => data.accepted.get(task)?.get(model) === true;

    // learned: the extension's router and learner.
    const learner = new Learner({
      ...options.learner,
      random: seededRandom(seed * 40503 + 7),
      now: () => 0,
      // What a price list says, as the extension's learner knows it: each model's expected cost.
      listCost: (id) => expected.get(names.get(id) ?? ''),
    });
    const learned: Tally = { quality: 0, cost: 0, calls: 0 };
    const strongRun: Tally = { quality: 0, cost: 0, calls: 0 };
    data.order.forEach((task, index) => {
      const rejected: string[] = [];
      for (let attempt = 0; attempt < options.maxAttempts; attempt++) {
        const decision = routeOrStop({ ...requestFor(seed, task, attempt, rejected), estimator: learner });
        if (!decision) break;
        decisions++;
        if (decision.explored) explored++;
        const id = decision.chosen.model.id;
        const model = names.get(id) as string;
        const ok = accepted(task, model);
        learned.cost += costOf(task, model);
        learned.calls++;
        // The charge is known when the answer is: the learner learns it per context, as in the extension.
        learner.record(decision.requestId, id, decision.estimateContext ?? { task: 'generate', language: 'replay', difficulty: 0.5 }, {
          estimatedUsd: expected.get(model) as number,
          actualUsd: costOf(task, model),
        });
        learner.observe(decision.requestId, ok ? 'accepted' : 'discarded');
        if (ok) {
          learned.quality++;
          break;
        }
        rejected.push(id);
      }
      strongRun.calls++;
      strongRun.cost += costOf(task, options.strong);
      if (accepted(task, options.strong)) strongRun.quality++;
      for (const point of checkpoints.get(index) ?? []) {
        const c = curveSums[point];
        c.lq += learned.quality;
        c.lc += learned.cost;
        c.sq += strongRun.quality;
        c.sc += strongRun.cost;
      }
    });
    add('learned', learned);
    add('always_strong', strongRun);
    // The same router, its estimates replaced by every context's rates on this seed's outcomes:
    // where the learner heads, and what its own score makes of perfect knowledge of the contexts.
    const knowing = contextKnowingEstimator(data, tasks, contextOf, names, costOf, expected);
    const knowingTally: Tally = { quality: 0, cost: 0, calls: 0 };
    for (const task of data.order) {
      const rejected: string[] = [];
      for (let attempt = 0; attempt < options.maxAttempts; attempt++) {
        const decision = routeOrStop({ ...requestFor(seed, task, attempt, rejected), estimator: knowing, explore: false });
        if (!decision) break;
        const model = names.get(decision.chosen.model.id) as string;
        knowingTally.cost += costOf(task, model);
        knowingTally.calls++;
        if (accepted(task, model)) {
          knowingTally.quality++;
          break;
        }
        rejected.push(decision.chosen.model.id);
      }
    }
    add(KNOWING, knowingTally);

    const cheapest = [...options.pool].sort((a, b) => (expected.get(a) as number) - (expected.get(b) as number))[0];
    add('always_cheapest', runChain(data, [cheapest], costOf));
    add('random', runRandom(data, options.pool, options.maxAttempts, costOf, seededRandom(seed * 97 + 13)));
    const best = bestFixedChain(data, options.pool, options.maxAttempts, costOf, strongRun.quality);
    bestChains.push(best.chain);
    add('best_fixed_chain_hindsight', best.tally);
    add('oracle', runOracle(data, options.pool, costOf));
    const alone = options.pool.map((model) => runChain(data, [model], costOf));
    options.pool.forEach((model, i) => add(`${MODEL_PREFIX}${model}`, alone[i]));
    hullAtLearned.push(upperHullAt(alone, learned.cost));
    const frontier = contextFrontier(data, contextOf, options.pool, options.maxAttempts, costOf);
    ceilingAtLearned.push(upperHullAt(frontier, learned.cost));
    frontierSums.forEach((f, i) => (f.quality += upperHullAt(frontier, (FRONTIER_COSTS[i] * strongRun.cost) as number)));
  }

  const strong = mean(totals.get('always_strong') ?? [], tasks.length);
  const summarize = (tallies: Tally[]): PolicyResult => {
    const m = mean(tallies, tasks.length);
    const costVsStrong = ratio(m.cost, strong.cost);
    const score = m.quality / tasks.length - policy.priceWeight * costVsStrong;
    return { ...m, quality_vs_strong: ratio(m.quality, strong.quality), cost_vs_strong: costVsStrong, score: round(score, 4) };
  };
  const policies: Record<string, PolicyResult> = {};
  const alone: Record<string, PolicyResult> = {};
  for (const [name, tallies] of totals) {
    if (name.startsWith(MODEL_PREFIX)) alone[name.slice(MODEL_PREFIX.length)] = summarize(tallies);
    else policies[name] = summarize(tallies);
  }
  const n = tasks.length;
  return {
    tasks: n,
    seeds: options.seeds,
    max_attempts: options.maxAttempts,
    price_weight: policy.priceWeight,
    pool: options.pool,
    strong: options.strong,
    outcome_column: matrix.outcomeColumn,
    features: matrix.featureColumns,
    policies,
    models: alone,
    learned_by_seed: (totals.get('learned') ?? []).map((t) => summarize([t])),
    best_chains: bestChains,
    exploration_rate: decisions ? round(explored / decisions, 4) : 0,
    context_ceiling: {
      at_learned_cost: withRatio(meanOf(ceilingAtLearned), strong.quality),
      frontier: FRONTIER_COSTS.map((cost, i) => ({ cost_vs_strong: cost, quality_vs_strong: ratio(frontierSums[i].quality / options.seeds, strong.quality) })),
    },
    models_hull_at_learned_cost: withRatio(meanOf(hullAtLearned), strong.quality),
    curve: curveSums.map((c, i) => ({
      task: Math.ceil(((i + 1) * n) / CURVE_POINTS),
      learned_quality: round(c.lq / options.seeds, 2),
      learned_cost: round(c.lc / options.seeds, 4),
      strong_quality: round(c.sq / options.seeds, 2),
      strong_cost: round(c.sc / options.seeds, 4),
    })),
  };
}

/** A performance-mode policy over the pool: every model untagged (cold start from the same prior). */
function replayPolicy(pool: string[], ids: Map<string, string>, priceWeight: number | undefined): Policy {
  const raw: Record<string, unknown> = {
    providers: [{ id: 'replay', kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', auth: 'none' }],
    models: pool.map((name) => ({ id: ids.get(name), provider: 'replay', name, tags: [] })),
    'routing.mode': 'performance',
  };
  if (priceWeight !== undefined) raw['routing.priceWeight'] = priceWeight;
  const parsed = parseSettings((key: SettingKey) => raw[key]);
  if (parsed.issues.length > 0) throw new ReplayInputError(`cannot build the replay policy: ${parsed.issues.map((i) => `${i.setting}: ${i.message}`).join('; ')}`);
  return mergePolicy(parsed.settings);
}

function drawSeed(matrix: OutcomeMatrix, tasks: string[], models: string[], random: Random): SeedData {
  const order = shuffled(tasks, random);
  const accepted = new Map<string, Map<string, boolean>>();
  for (const task of tasks) {
    const byModel = new Map<string, boolean>();
    for (const model of models) {
      const p = matrix.outcome.get(task)?.get(model) ?? 0;
      byModel.set(model, p >= 1 ? true : p <= 0 ? false : random() < p);
    }
    accepted.set(task, byModel);
  }
  return { order, accepted };
}

type CostOf = (task: string, model: string) => number;

/** The router's decision, or none when no model may take the request (every one was rejected). */
function routeOrStop(input: RouteInput): RouteDecision | undefined {
  try {
    return route(input);
  } catch (error) {
    if (error instanceof RouteRefusal) return undefined;
    throw error;
  }
}

/**
 * Estimates from this seed's outcomes, as if every context's rates were known: a model's
 * acceptance in the request's context (after the same rejections: among the tasks there that
 * every rejected model failed) and its mean cost there against the price list. No draws, so the
 * router does not explore. In hindsight, like the ceiling, but choosing by the router's own score.
 */
function contextKnowingEstimator(data: SeedData, tasks: string[], contextOf: (task: string) => string, names: Map<string, string>, costOf: CostOf, expected: Map<string, number>): AcceptanceEstimator {
  const groups = new Map<string, string[]>();
  for (const task of tasks) {
    const key = contextOf(task);
    groups.set(key, [...(groups.get(key) ?? []), task]);
  }
  const known = new Map<string, AcceptanceEstimate>();
  const accepted = (task: string, model: string) => data.accepted.get(task)?.get(model) === true;
  return {
    estimate(model, context: EstimateContext) {
      const key = (context.features ?? []).map(([, v]) => v).join('|');
      const rejected = (context.rejected ?? []).map((id) => names.get(id) ?? id);
      const id = `${model.id}\u0000${key}\u0000${[...rejected].sort().join('+')}`;
      let estimate = known.get(id);
      if (!estimate) {
        const name = names.get(model.id) ?? model.id;
        const here = groups.get(key) ?? [];
        const after = here.filter((t) => rejected.every((r) => !accepted(t, r)));
        const basis = after.length > 0 ? after : here;
        const n = Math.max(1, basis.length);
        const cost = basis.reduce((sum, t) => sum + costOf(t, name), 0) / n;
        const list = expected.get(name) ?? 0;
        estimate = { p: basis.filter((t) => accepted(t, name)).length / n, samples: basis.length, source: 'learned', costFactor: list > 0 && cost > 0 ? cost / list : undefined };
        known.set(id, estimate);
      }
      return estimate;
    },
  };
}

/** Costs (against the strong model's) at which the context ceiling's curve is reported. */
const FRONTIER_COSTS = [0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1];

/**
 * The points of the best per-context chains in hindsight: for each trade λ of dollars against
 * accepted tasks, every context takes the chain (up to `maxAttempts` distinct pool models) with
 * the most accepted − λ × cost on this seed's outcomes there; each λ gives one point.
 */
function contextFrontier(data: SeedData, contextOf: (task: string) => string, pool: string[], maxAttempts: number, costOf: CostOf): Tally[] {
  const groups = new Map<string, string[]>();
  for (const task of data.order) {
    const key = contextOf(task);
    groups.set(key, [...(groups.get(key) ?? []), task]);
  }
  const chains: string[][] = [];
  const visit = (chain: string[]) => {
    if (chain.length > 0) chains.push(chain);
    if (chain.length < maxAttempts) for (const model of pool) if (!chain.includes(model)) visit([...chain, model]);
  };
  visit([]);
  const tallies = [...groups.values()].map((tasks) =>
    chains.map((chain) => {
      const tally: Tally = { quality: 0, cost: 0, calls: 0 };
      for (const task of tasks) tryChain(data, task, chain, costOf, tally);
      return tally;
    }),
  );
  const total = tallies.reduce((sum, group) => sum + Math.max(...group.map((t) => t.cost)), 0) || 1;
  const points: Tally[] = [];
  // λ from nothing (quality alone) to where a cent outweighs every task (cost alone), evenly in log.
  for (let i = 0; i <= 240; i++) {
    const lambda = i === 0 ? 0 : (data.order.length / total) * Math.pow(10, -4 + (8 * (i - 1)) / 239);
    const point: Tally = { quality: 0, cost: 0, calls: 0 };
    for (const group of tallies) {
      const best = group.reduce((a, b) => (b.quality - lambda * b.cost > a.quality - lambda * a.cost + 1e-12 ? b : a));
      point.quality += best.quality;
      point.cost += best.cost;
      point.calls += best.calls;
    }
    points.push(point);
  }
  return points;
}

/**
 * The most accepted tasks at a cost, mixing the given points (their upper concave hull; below the
 * cheapest point, its quality scaled down with the cost; past the dearest, its quality).
 */
export function upperHullAt(points: readonly Pick<Tally, 'quality' | 'cost'>[], cost: number): number {
  const sorted = [...points].sort((a, b) => a.cost - b.cost || b.quality - a.quality);
  const hull: Pick<Tally, 'quality' | 'cost'>[] = [];
  for (const p of sorted) {
    if (hull.length > 0 && p.quality <= hull[hull.length - 1].quality) continue;
    while (hull.length >= 2) {
      const [a, b] = [hull[hull.length - 2], hull[hull.length - 1]];
      // b is under the line from a to p: not on the upper hull.
      if ((b.quality - a.quality) * (p.cost - a.cost) <= (p.quality - a.quality) * (b.cost - a.cost)) hull.pop();
      else break;
    }
    hull.push(p);
  }
  if (hull.length === 0) return 0;
  if (cost <= hull[0].cost) return hull[0].cost > 0 ? (hull[0].quality * Math.max(0, cost)) / hull[0].cost : hull[0].quality;
  for (let i = 1; i < hull.length; i++) {
    const [a, b] = [hull[i - 1], hull[i]];
    if (cost <= b.cost) return a.quality + ((b.quality - a.quality) * (cost - a.cost)) / (b.cost - a.cost || 1);
  }
  return hull[hull.length - 1].quality;
}

/** Tries `chain` on one task, stopping at the first accepted answer; adds what it did to `tally`. */
function tryChain(data: SeedData, task: string, chain: readonly string[], costOf: CostOf, tally: Tally): void {
  for (const model of chain) {
    tally.cost += costOf(task, model);
    tally.calls++;
    if (data.accepted.get(task)?.get(model)) {
      tally.quality++;
      return;
    }
  }
}

function runChain(data: SeedData, chain: readonly string[], costOf: CostOf): Tally {
  const tally: Tally = { quality: 0, cost: 0, calls: 0 };
  for (const task of data.order) tryChain(data, task, chain, costOf, tally);
  return tally;
}

function runRandom(data: SeedData, pool: string[], maxAttempts: number, costOf: CostOf, random: Random): Tally {
  const tally: Tally = { quality: 0, cost: 0, calls: 0 };
  for (const task of data.order) tryChain(data, task, shuffled(pool, random).slice(0, maxAttempts), costOf, tally);
  return tally;
}

/**
 * Every ordered chain of up to `maxAttempts` distinct pool models, judged on this seed's outcomes:
 * the cheapest that accepts at least as many tasks as the strong model, else the one that accepts
 * most. Knowing the outcomes in advance, no online router can count on matching it.
 */
function bestFixedChain(data: SeedData, pool: string[], maxAttempts: number, costOf: CostOf, target: number): { chain: string[]; tally: Tally } {
  let best: { chain: string[]; tally: Tally } | undefined;
  const better = (a: Tally, b: Tally) => {
    const aOk = a.quality >= target;
    const bOk = b.quality >= target;
    if (aOk !== bOk) return aOk;
    return aOk ? a.cost < b.cost || (a.cost === b.cost && a.quality > b.quality) : a.quality > b.quality || (a.quality === b.quality && a.cost < b.cost);
  };
  const visit = (chain: string[]) => {
    if (chain.length > 0) {
      const tally = runChain(data, chain, costOf);
      if (!best || better(tally, best.tally)) best = { chain: [...chain], tally };
    }
    if (chain.length === maxAttempts) return;
    for (const model of pool) if (!chain.includes(model)) visit([...chain, model]);
  };
  visit([]);
  return best as { chain: string[]; tally: Tally };
}

/** The cheapest model that succeeds on each task, known in advance; no call when none does. */
function runOracle(data: SeedData, pool: string[], costOf: CostOf): Tally {
  const tally: Tally = { quality: 0, cost: 0, calls: 0 };
  for (const task of data.order) {
    const winners = pool.filter((m) => data.accepted.get(task)?.get(m));
    if (winners.length === 0) continue;
    tally.quality++;
    tally.calls++;
    tally.cost += Math.min(...winners.map((m) => costOf(task, m)));
  }
  return tally;
}

function mean(tallies: Tally[], tasks: number): { quality: number; cost: number; attempts: number } {
  const k = Math.max(1, tallies.length);
  const sum = tallies.reduce((a, t) => ({ quality: a.quality + t.quality, cost: a.cost + t.cost, calls: a.calls + t.calls }), { quality: 0, cost: 0, calls: 0 });
  return { quality: round(sum.quality / k, 2), cost: round(sum.cost / k, 4), attempts: round(sum.calls / k / tasks, 3) };
}

function meanOf(values: readonly number[]): number {
  return values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : 0;
}

function withRatio(quality: number, strong: number): { quality: number; quality_vs_strong: number } {
  return { quality: round(quality, 2), quality_vs_strong: ratio(quality, strong) };
}

function ratio(a: number, b: number): number {
  return b > 0 ? round(a / b, 3) : 0;
}

function round(x: number, digits: number): number {
  const f = Math.pow(10, digits);
  return Math.round(x * f) / f;
}
