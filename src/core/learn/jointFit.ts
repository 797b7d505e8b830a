/**
 * The learner's fit of first answers: one model over every context, in which each answer counts
 * once, at the finest bucket of its request (its leaf).
 *
 * The log-odds that model m's answer is accepted in a request whose buckets are b1 ⊂ b2 ⊂ … ⊂ bL
 * (task, then language, difficulty, further features; see `bucketPath`) is
 *
 *   tier prior + offset(m) + Σ_l effect(b_l) + Σ_l cell(m, b_l)
 *
 * - offset(m): the model's own level, held to what the pool of models expects of it (`fitPool`);
 * - effect(b): how much easier or harder the context b is for every model, beyond its parent;
 * - cell(m, b): what model m does in b beyond its offset and the context's effects.
 *
 * A bucket has an effect and cells only once its parent has branched: two finer buckets, or
 * answers that end at the parent beside answers that go on. Until then the fact has not varied,
 * so the answers cannot tell its effect from the models' offsets (with one task only, "harder
 * for every model" would mean nothing), and it adds neither weight nor uncertainty.
 *
 * Effects and cells are centred at 0 with a spread per level and kind, estimated from the fitted
 * values themselves (empirical Bayes, held to a prior worth `priorStrength` values at the prior's
 * spread), so a level whose contexts make no difference stops adding uncertainty, and one that
 * does (a repository, a difficulty) lets its contexts speak. The log cost factor (what a request
 * costs against the price-list estimate) is fitted on the same terms by least squares.
 *
 * Each answer is in one row only, so no answer is counted once per level (a fit per level, each
 * centred on the one above, counts the same early answers again at every level).
 */

/** One model's answers whose finest bucket is one leaf: successes, answers, Σ log cost factor, charges. */
export interface LeafCounts {
  s: number;
  n: number;
  lc: number;
  cn: number;
}

/** What the fit says of one model in one context (apart from the tier prior). */
export interface FittedValue {
  /** Log-odds added to the tier prior. */
  odds: number;
  /** Its posterior variance. */
  variance: number;
  /** Log factor on the price-list cost. */
  logCost: number;
  /** The fact of the context with the largest effect on every model, and that effect (log-odds). */
  strongest?: { bucket: string; shift: number };
}

export interface JointFitOptions {
  /** Precision of a prior worth `priorStrength` observations at even odds (priorStrength / 4). */
  tau: number;
  /** Charges' worth of prior that holds each cost value to no change. */
  costPrior: number;
  /** A model's price-list cost of a typical request, for the pool's expectation. */
  listCost?: (modelId: string) => number | undefined;
}

interface Param {
  /** The level of its bucket (0 for a model's offset). */
  level: number;
  value: number;
  /** Precision: prior plus the rows' curvature, at the last step. */
  info: number;
  cost: number;
  rows: Row[];
}

interface Row {
  model: string;
  s: number;
  n: number;
  lc: number;
  cn: number;
  /** Log-odds of the model's tier prior in the leaf's context. */
  prior: number;
  /** The buckets of levels 1…L of the leaf. */
  keys: string[];
  /** The values on the row's path: the model's offset, then each level's effect and the model's cell. */
  params: Param[];
  /** The fitted log-odds and log cost factor, kept in step with the parameters. */
  eta: number;
  cost: number;
}

/** Largest Newton step (log-odds): where odds are saturated a full step would overshoot. */
const MAX_STEP = 2;
/** Rounds of a fit at most, and the largest move (log-odds) of a round that ends it. */
const FIT_ROUNDS = 12;
const FIT_TOLERANCE = 0.01;

export function logistic(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Where rows end: a branch of their leaf, beside the buckets one fact finer. */
const END = '';


/** The first-answer buckets of levels 1… that end in `leaf` (`task=a|lang=b` → `task=a`, `task=a|lang=b`). */
export function leafKeys(leaf: string): string[] {
  if (leaf === '*') return [];
  const keys: string[] = [];
  for (let i = leaf.indexOf('|'); i >= 0; i = leaf.indexOf('|', i + 1)) keys.push(leaf.slice(0, i));
  keys.push(leaf);
  return keys;
}

export class JointFit {
  private readonly offsets = new Map<string, Param>();
  private readonly effects = new Map<string, Param>();
  /** Rows and cells by model, then leaf or bucket. */
  private readonly rowsByModel = new Map<string, Map<string, Row>>();
  private readonly cellsByModel = new Map<string, Map<string, Param>>();
  /** Per level (index 0 is level 1): the precision of effects and of cells (empirical Bayes). */
  private readonly effectPrecision: number[] = [];
  private readonly cellPrecision: number[] = [];
  private pool = { mean: 0, slope: 0, logCost: 0 };
  /**
   * Per bucket (and `*`), the buckets one fact finer that rows reach, and END where rows end
   * there. A bucket has values of its own only when its parent has two of those or more: a fact
   * that has not varied yet says nothing beyond its parent, and adds no uncertainty.
   */
  private readonly children = new Map<string, Set<string>>();
  /** Whether rows changed since the last fit, and whether which buckets have values changed. */
  private dirty = false;
  private regroup = false;

  constructor(private readonly options: JointFitOptions) {}

  /** Forgets every row and value. */
  clear(): void {
    this.offsets.clear();
    this.effects.clear();
    this.rowsByModel.clear();
    this.cellsByModel.clear();
    this.children.clear();
    this.effectPrecision.length = 0;
    this.cellPrecision.length = 0;
    this.pool = { mean: 0, slope: 0, logCost: 0 };
    this.dirty = false;
    this.regroup = false;
  }

  /** Sets a model's counts in a leaf (with the tier prior's log-odds there); the next `fit` takes them in. */
  setRow(model: string, leaf: string, counts: LeafCounts, prior: number): void {
    const known = this.rowsByModel.get(model)?.get(leaf);
    if (known) {
      known.s = Math.min(counts.s, counts.n);
      known.n = counts.n;
      known.lc = counts.lc;
      known.cn = counts.cn;
      if (known.prior !== prior) {
        known.eta += prior - known.prior;
        known.prior = prior;
      }
      this.dirty = true;
      return;
    }
    const keys = leafKeys(leaf);
    const row: Row = { model, s: Math.min(counts.s, counts.n), n: counts.n, lc: counts.lc, cn: counts.cn, prior, keys, params: [], eta: prior, cost: 0 };
    byModel(this.rowsByModel, model).set(leaf, row);
    this.dirty = true;
    let parent = '*';
    for (const child of [...keys, END]) {
      const siblings = this.children.get(parent) ?? this.children.set(parent, new Set()).get(parent)!;
      if (!siblings.has(child)) {
        siblings.add(child);
        // A second branch: the first one's bucket gets values of its own too, and its rows with it.
        if (siblings.size === 2) this.regroup = true;
      }
      parent = child;
    }
    if (!this.regroup) this.attach(row);
  }

  /** Links a row to the values on its path (the model's offset; the effect and the model's cell of each bucket with values). */
  private attach(row: Row): void {
    let offset = this.offsets.get(row.model);
    if (!offset) {
      offset = { level: 0, value: this.poolExpectation(row.model), info: this.options.tau, cost: 0, rows: [] };
      this.offsets.set(row.model, offset);
    }
    row.params = [offset];
    row.keys.forEach((key, i) => {
      if (this.varies(i === 0 ? '*' : row.keys[i - 1])) row.params.push(this.paramOf(this.effects, key, i + 1), this.cellOf(row.model, key, i + 1));
    });
    row.eta = row.prior;
    row.cost = 0;
    for (const param of row.params) {
      param.rows.push(row);
      row.eta += param.value;
      row.cost += param.cost;
    }
  }

  /** Whether a bucket has values of its own: its parent has two branches or more. */
  private varies(parent: string): boolean {
    return (this.children.get(parent)?.size ?? 0) >= 2;
  }

  /** Whether the fit has changes to take in. */
  get stale(): boolean {
    return this.dirty;
  }

  /**
   * Brings the fit up to date: rounds of Newton steps over every value until none moves by more
   * than FIT_TOLERANCE. Each starts from the last fit, which after a few new answers is near, so
   * one or two rounds do; a round reads each row once per value on its path.
   */
  fit(): void {
    if (!this.dirty) return;
    this.dirty = false;
    if (this.regroup) {
      this.regroup = false;
      for (const param of [...this.offsets.values(), ...this.effects.values(), ...nested(this.cellsByModel)]) param.rows = [];
      for (const row of nested(this.rowsByModel)) this.attach(row);
    }
    for (let round = 0; round < FIT_ROUNDS; round++) {
      this.fitPool();
      let moved = 0;
      for (const [model, offset] of this.offsets) moved = Math.max(moved, this.step(offset, this.poolExpectation(model), this.options.tau));
      for (const effect of this.effects.values()) moved = Math.max(moved, this.stepCentred(effect, this.effectPrecision));
      for (const cells of this.cellsByModel.values()) for (const cell of cells.values()) moved = Math.max(moved, this.stepCentred(cell, this.cellPrecision));
      this.fitSpreads();
      if (moved < FIT_TOLERANCE) break;
    }
  }

  /** What is known of `model` in the context whose first-answer buckets are `path` (`*` first). */
  value(model: string, path: readonly string[]): FittedValue {
    const tau = this.options.tau;
    const offset = this.offsets.get(model);
    let odds = offset ? offset.value : this.poolExpectation(model);
    let variance = 1 / (offset ? offset.info : tau);
    let logCost = offset ? offset.cost : 0;
    let strongest: FittedValue['strongest'];
    const cells = this.cellsByModel.get(model);
    for (let level = 1; level < path.length; level++) {
      const key = path[level];
      const siblings = this.children.get(path[level - 1]);
      // Where no answer has gone, the first new fact is a new branch, as uncertain as its level's
      // contexts differ; finer facts would branch only later.
      if (!siblings) break;
      const seen = siblings.has(key);
      if (seen && siblings.size < 2) continue;
      const effect = this.effects.get(key);
      const cell = cells?.get(key);
      if (effect) {
        odds += effect.value;
        logCost += effect.cost;
        if (!strongest || Math.abs(effect.value) > Math.abs(strongest.shift)) strongest = { bucket: key, shift: effect.value };
      }
      variance += 1 / (effect ? effect.info : (this.effectPrecision[level - 1] ?? tau));
      if (cell) {
        odds += cell.value;
        logCost += cell.cost;
      }
      variance += 1 / (cell ? cell.info : (this.cellPrecision[level - 1] ?? tau));
      if (!seen) break;
    }
    // The sum above treats the values as if each alone explained the answers they share, which
    // overstates the uncertainty where the model has answered: the model's own answers in this
    // leaf alone say at least this much of its log-odds here.
    const own = this.rowsByModel.get(model)?.get(path[path.length - 1]);
    if (own) {
      const q = logistic(own.eta);
      const h = own.n * q * (1 - q);
      if (h > 0) variance = Math.min(variance, 1 / h);
    }
    return { odds, variance, logCost, strongest };
  }

  private paramOf(map: Map<string, Param>, id: string, level: number): Param {
    let param = map.get(id);
    if (!param) {
      param = { level, value: 0, info: this.options.tau, cost: 0, rows: [] };
      map.set(id, param);
    }
    return param;
  }

  /** A model's cell in a bucket. */
  private cellOf(model: string, key: string, level: number): Param {
    return this.paramOf(byModel(this.cellsByModel, model), key, level);
  }

  /** A step for an effect or a cell: centred at 0, with its level's precision. */
  private stepCentred(param: Param, precisions: readonly number[]): number {
    return this.step(param, 0, precisions[param.level - 1] ?? this.options.tau);
  }

  /**
   * One Newton step for a value on the penalised log-likelihood of its rows (prior `mean`,
   * precision `precision`), and its cost's least-squares value (held to 0 by `costPrior`
   * charges). The rows' fitted odds and costs move with it. Returns the step's size.
   */
  private step(param: Param, mean: number, precision: number): number {
    let g = 0;
    let h = 0;
    let lc = 0;
    let cn = 0;
    for (const row of param.rows) {
      const q = logistic(row.eta);
      g += row.s - row.n * q;
      h += row.n * q * (1 - q);
      lc += row.lc - row.cn * (row.cost - param.cost);
      cn += row.cn;
    }
    const d = Math.max(-MAX_STEP, Math.min(MAX_STEP, (g - precision * (param.value - mean)) / (h + precision)));
    const cost = lc / (cn + this.options.costPrior);
    const dc = cost - param.cost;
    param.value += d;
    param.info = h + precision;
    param.cost = cost;
    for (const row of param.rows) {
      row.eta += d;
      row.cost += dc;
    }
    return Math.abs(d);
  }

  /** What the pool expects of a model's offset before its own answers. */
  private poolExpectation(model: string): number {
    const cost = this.options.listCost?.(model);
    return this.pool.mean + (cost !== undefined && cost > 0 ? this.pool.slope * (Math.log(cost) - this.pool.logCost) : 0);
  }

  /**
   * The pool's expectation of a model: a weighted least-squares line through the models' offsets
   * against their log prices (each model one measurement, weighted by how sure its offset is; the
   * line held to no offset and no slope by a prior worth one model each), or their mean where no
   * price is known. A model barely tried is expected to be like the models known, and dearer
   * where dearer models have done better in this pool, on this work — not by a fixed rule.
   */
  private fitPool(): void {
    const tau = this.options.tau;
    let logSum = 0;
    let priced = 0;
    for (const model of this.offsets.keys()) {
      const cost = this.options.listCost?.(model);
      if (cost !== undefined && cost > 0) {
        logSum += Math.log(cost);
        priced++;
      }
    }
    this.pool.logCost = priced > 0 ? logSum / priced : 0;
    let sw = tau;
    let sx = 0;
    let sy = 0;
    let sxx = tau;
    let sxy = 0;
    for (const [model, offset] of this.offsets) {
      const w = 1 / (1 / tau + 1 / offset.info);
      const cost = this.options.listCost?.(model);
      const x = cost !== undefined && cost > 0 ? Math.log(cost) - this.pool.logCost : 0;
      sw += w;
      sx += w * x;
      sy += w * offset.value;
      sxx += w * x * x;
      sxy += w * x * offset.value;
    }
    const det = sw * sxx - sx * sx;
    this.pool.mean = (sxx * sy - sx * sxy) / det;
    this.pool.slope = (sw * sxy - sx * sy) / det;
  }

  /**
   * Each level's spread of effects and of cells, by an EM step: the mean square of the fitted
   * values plus their variances, with a prior worth `4·tau` values (priorStrength) at the
   * prior's spread.
   */
  private fitSpreads(): void {
    const worth = 4 * this.options.tau;
    const update = (groups: Iterable<Map<string, Param>>, precisions: number[]) => {
      const sums: { squares: number; count: number }[] = [];
      for (const params of groups) {
        for (const param of params.values()) {
          const sum = (sums[param.level - 1] ??= { squares: worth / this.options.tau, count: worth });
          sum.squares += param.value * param.value + 1 / param.info;
          sum.count += 1;
        }
      }
      sums.forEach((sum, i) => {
        if (sum) precisions[i] = sum.count / sum.squares;
      });
    };
    update([this.effects], this.effectPrecision);
    update(this.cellsByModel.values(), this.cellPrecision);
  }
}

/** The map of one model's entries, made when first needed. */
function byModel<T>(index: Map<string, Map<string, T>>, model: string): Map<string, T> {
  let entries = index.get(model);
  if (!entries) {
    entries = new Map();
    index.set(model, entries);
  }
  return entries;
}

/** Every entry of every model. */
function* nested<T>(index: Map<string, Map<string, T>>): Generator<T> {
  for (const entries of index.values()) yield* entries.values();
}
