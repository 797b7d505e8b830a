import type { OutcomeLine, SettleLine } from './spendRecord';
import type { BudgetStatus } from './spendSource';

/**
 * What the spend panel shows, computed from the ledger in one pass: spend per local day, week and
 * month (by model and by task), totals for today / this week / this month / all time with what
 * "always the strongest model of the chain" would have cost, acceptance per model × task, and the
 * budgets as the ledger reports them.
 */

export type Granularity = 'day' | 'week' | 'month';
export const GRANULARITIES: readonly Granularity[] = ['day', 'week', 'month'];

export interface SpendTotals {
  usd: number;
  /** What the strongest model of each chain would have cost (a record without one counts its own cost). */
  counterfactualUsd: number;
  /** counterfactualUsd − usd. */
  savedUsd: number;
  requests: number;
  /** Requests whose cost is an estimate (the provider did not report usage). */
  estimated: number;
  premiumRequests: number;
}

/** One model's (or task's) spend per bucket of a series. */
export interface SeriesLine {
  key: string;
  /** Spend in each bucket, aligned with `SpendSeries.starts`. */
  usd: number[];
  /** The sum of `usd`. */
  total: number;
}

export interface SpendSeries {
  granularity: Granularity;
  /** Each bucket's start (local midnight of its first day), ms since the epoch, oldest first. */
  starts: number[];
  total: number[];
  /** Largest first; past `seriesLimit` keys the smallest are merged into one line keyed `(other)`. */
  byModel: SeriesLine[];
  byTask: SeriesLine[];
}

export interface KeyTotal {
  key: string;
  usd: number;
  counterfactualUsd: number;
  requests: number;
}

/** The users' verdicts on one model's answers to one task. */
export interface AcceptanceCell {
  model: string;
  task: string;
  accepted: number;
  rejected: number;
  /** Settled requests without a verdict. */
  noSignal: number;
  /** accepted / (accepted + rejected); null without a verdict. */
  rate: number | null;
}

export interface SpendSummary {
  now: number;
  today: SpendTotals;
  week: SpendTotals;
  month: SpendTotals;
  all: SpendTotals;
  series: Record<Granularity, SpendSeries>;
  /** All time, most expensive first. */
  byModel: KeyTotal[];
  byTask: KeyTotal[];
  /** Sorted by model, then task. */
  acceptance: AcceptanceCell[];
  budgets: BudgetStatus[];
}

export interface SpendSummaryOptions {
  /**
   * Minutes to add to UTC for local time at an instant (+60 in Paris in winter). By default the
   * process's time zone (`Date`); tests pass a fixed or a DST-switching function.
   */
  utcOffsetMinutes?: (epochMs: number) => number;
  /** The first day of a week: 0 Sunday … 6 Saturday; Monday by default (ISO). */
  weekStartsOn?: number;
  /** How many buckets of each granularity the series go back at most (they start at the oldest record). */
  window?: Partial<Record<Granularity, number>>;
  /** Lines per series before the smallest are merged into `(other)`. */
  seriesLimit?: number;
}

/** How each outcome kind counts; kinds not listed (a newer writer's) are no verdict. */
const VERDICT: Readonly<Record<string, 1 | 0>> = {
  accepted: 1,
  'thumbs-up': 1,
  'partially-accepted': 1,
  discarded: 0,
  'thumbs-down': 0,
  'retried-stronger': 0,
  undone: 0,
  ignored: 0,
  regenerated: 0,
  'failed-tool-call': 0,
};

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const DEFAULT_WINDOW: Record<Granularity, number> = { day: 90, week: 52, month: 24 };
export const OTHER_KEY = '(other)';

const localOffset = (t: number) => -new Date(t).getTimezoneOffset();

/** Days since 1970-01-01 → [year, month 0–11] (Hinnant's civil_from_days, no Date). */
function monthOfDay(day: number): number {
  const z = day + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return y * 12 + (m - 1);
}

/** Months since year 0 → days since 1970-01-01 of the month's first day (Hinnant's days_from_civil). */
function firstDayOfMonth(monthIndex: number): number {
  const m = (monthIndex % 12) + 1;
  const y0 = Math.floor(monthIndex / 12);
  const y = m <= 2 ? y0 - 1 : y0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5);
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * Local calendar arithmetic on day numbers (local days since 1970-01-01). Ledger records come
 * oldest first, so the last day looked up is cached: most records cost two comparisons.
 */
class LocalCalendar {
  private lo = Infinity;
  private hi = -Infinity;
  private cachedDay = 0;
  private cachedWeek = 0;
  private cachedMonth = 0;
  /** Bucket indexes of the last `locate`d record. */
  day = 0;
  week = 0;
  month = 0;

  constructor(
    private readonly offset: (epochMs: number) => number,
    private readonly weekStartsOn: number,
  ) {}

  locate(t: number): void {
    if (!(t >= this.lo && t < this.hi)) {
      const day = Math.floor((t + this.offset(t) * MINUTE_MS) / DAY_MS);
      this.cachedDay = day;
      this.cachedWeek = this.weekOfDay(day);
      this.cachedMonth = monthOfDay(day);
      this.lo = this.startOfDay(day);
      this.hi = this.startOfDay(day + 1);
      // Around a time-zone change the computed bounds may not hold `t`: then nothing is cached.
      if (!(t >= this.lo && t < this.hi)) this.lo = this.hi = NaN;
    }
    this.day = this.cachedDay;
    this.week = this.cachedWeek;
    this.month = this.cachedMonth;
  }

  /** The instant local day `day` starts. */
  startOfDay(day: number): number {
    const guess = day * DAY_MS - this.offset(day * DAY_MS) * MINUTE_MS;
    return day * DAY_MS - this.offset(guess) * MINUTE_MS;
  }

  weekOfDay(day: number): number {
    // Day 0 was a Thursday (weekday 4).
    return Math.floor((day + 4 - this.weekStartsOn) / 7);
  }

  firstDayOfWeek(week: number): number {
    return week * 7 - 4 + this.weekStartsOn;
  }
}

interface Accumulator {
  usd: number;
  cf: number;
  requests: number;
  estimated: number;
  premium: number;
}

const emptyAccumulator = (): Accumulator => ({ usd: 0, cf: 0, requests: 0, estimated: 0, premium: 0 });

function totals(a: Accumulator): SpendTotals {
  return { usd: a.usd, counterfactualUsd: a.cf, savedUsd: a.cf - a.usd, requests: a.requests, estimated: a.estimated, premiumRequests: a.premium };
}

/** Per-key state: totals and one bucket array per granularity, allocated once per key. */
interface KeyState {
  key: string;
  usd: number;
  cf: number;
  requests: number;
  buckets: [Float64Array, Float64Array, Float64Array];
}

/** One model × task: its verdicts, and both keys' states, so a record costs two lookups. */
interface Cell {
  model: ModelState;
  task: KeyState;
  accepted: number;
  rejected: number;
  noSignal: number;
}

interface ModelState extends KeyState {
  cells: Map<string, Cell>;
}

/**
 * Summarises the ledger for the spend panel: one pass over the outcomes, one over the settled
 * lines (after a scan for the oldest time). Per record it allocates nothing; per key (model,
 * task, model × task) a few small arrays.
 */
export function summarizeSpend(
  settled: readonly SettleLine[],
  outcomes: readonly OutcomeLine[],
  budgets: readonly BudgetStatus[],
  now: number,
  options: SpendSummaryOptions = {},
): SpendSummary {
  const calendar = new LocalCalendar(options.utcOffsetMinutes ?? localOffset, options.weekStartsOn ?? 1);
  const span = { ...DEFAULT_WINDOW, ...options.window };

  // The last verdict on a request decides (accepted, then undone, is a rejection).
  const verdicts = new Map<string, 1 | 0>();
  for (let i = 0; i < outcomes.length; i++) {
    const verdict = VERDICT[outcomes[i].kind];
    if (verdict !== undefined) verdicts.set(outcomes[i].requestId, verdict);
  }

  calendar.locate(now);
  const today = calendar.day;
  const thisWeek = calendar.week;
  const thisMonth = calendar.month;

  // The series start at the oldest record, or `window` buckets back, whichever is later.
  let oldest = now;
  for (let i = 0; i < settled.length; i++) if (settled[i].at < oldest) oldest = settled[i].at;
  calendar.locate(oldest);
  const first = [
    Math.max(calendar.day, today - Math.max(1, span.day) + 1),
    Math.max(calendar.week, thisWeek - Math.max(1, span.week) + 1),
    Math.max(calendar.month, thisMonth - Math.max(1, span.month) + 1),
  ] as const;
  const last = [today, thisWeek, thisMonth] as const;
  const lengths = [last[0] - first[0] + 1, last[1] - first[1] + 1, last[2] - first[2] + 1] as const;
  const totalBuckets: [Float64Array, Float64Array, Float64Array] = [new Float64Array(lengths[0]), new Float64Array(lengths[1]), new Float64Array(lengths[2])];

  const all = emptyAccumulator();
  const day = emptyAccumulator();
  const week = emptyAccumulator();
  const month = emptyAccumulator();
  const models = new Map<string, ModelState>();
  const tasks = new Map<string, KeyState>();
  const newKeyState = (key: string): KeyState => ({ key, usd: 0, cf: 0, requests: 0, buckets: [new Float64Array(lengths[0]), new Float64Array(lengths[1]), new Float64Array(lengths[2])] });
  const cellOf = (modelKey: string, taskKey: string): Cell => {
    let model = models.get(modelKey);
    if (!model) models.set(modelKey, (model = { ...newKeyState(modelKey), cells: new Map() }));
    let cell = model.cells.get(taskKey);
    if (!cell) {
      let task = tasks.get(taskKey);
      if (!task) tasks.set(taskKey, (task = newKeyState(taskKey)));
      model.cells.set(taskKey, (cell = { model, task, accepted: 0, rejected: 0, noSignal: 0 }));
    }
    return cell;
  };
  // The cell of the previous record: consecutive records are often the same kind.
  let cell: Cell | undefined;

  for (let i = 0; i < settled.length; i++) {
    const r = settled[i];
    const usd = r.usd;
    const cf = r.counterfactualUsd ?? usd;
    const premium = r.premiumRequests ?? 0;
    const estimated = r.estimated ? 1 : 0;
    calendar.locate(r.at);

    add(all, usd, cf, estimated, premium);
    if (calendar.day === today) add(day, usd, cf, estimated, premium);
    if (calendar.week === thisWeek) add(week, usd, cf, estimated, premium);
    if (calendar.month === thisMonth) add(month, usd, cf, estimated, premium);

    if (!cell || r.model !== cell.model.key || r.task !== cell.task.key) cell = cellOf(r.model, r.task);
    const model = cell.model;
    const task = cell.task;
    model.usd += usd;
    model.cf += cf;
    model.requests++;
    task.usd += usd;
    task.cf += cf;
    task.requests++;

    const d = calendar.day - first[0];
    if (d >= 0 && calendar.day <= last[0]) {
      totalBuckets[0][d] += usd;
      model.buckets[0][d] += usd;
      task.buckets[0][d] += usd;
    }
    const w = calendar.week - first[1];
    if (w >= 0 && calendar.week <= last[1]) {
      totalBuckets[1][w] += usd;
      model.buckets[1][w] += usd;
      task.buckets[1][w] += usd;
    }
    const m = calendar.month - first[2];
    if (m >= 0 && calendar.month <= last[2]) {
      totalBuckets[2][m] += usd;
      model.buckets[2][m] += usd;
      task.buckets[2][m] += usd;
    }

    const verdict = verdicts.get(r.requestId);
    if (verdict === 1) cell.accepted++;
    else if (verdict === 0) cell.rejected++;
    else cell.noSignal++;
  }

  const limit = Math.max(1, options.seriesLimit ?? 7);
  const starts = [
    Array.from({ length: lengths[0] }, (_, i) => calendar.startOfDay(first[0] + i)),
    Array.from({ length: lengths[1] }, (_, i) => calendar.startOfDay(calendar.firstDayOfWeek(first[1] + i))),
    Array.from({ length: lengths[2] }, (_, i) => calendar.startOfDay(firstDayOfMonth(first[2] + i))),
  ];
  const series = {} as Record<Granularity, SpendSeries>;
  GRANULARITIES.forEach((granularity, g) => {
    series[granularity] = {
      granularity,
      starts: starts[g],
      total: Array.from(totalBuckets[g]),
      byModel: seriesLines([...models.values()], g, limit),
      byTask: seriesLines([...tasks.values()], g, limit),
    };
  });

  const cells: AcceptanceCell[] = [];
  for (const [modelKey, state] of models) {
    for (const [taskKey, c] of state.cells) {
      const decided = c.accepted + c.rejected;
      cells.push({ model: modelKey, task: taskKey, accepted: c.accepted, rejected: c.rejected, noSignal: c.noSignal, rate: decided ? c.accepted / decided : null });
    }
  }
  cells.sort((a, b) => compare(a.model, b.model) || compare(a.task, b.task));

  return {
    now,
    today: totals(day),
    week: totals(week),
    month: totals(month),
    all: totals(all),
    series,
    byModel: keyTotals(models),
    byTask: keyTotals(tasks),
    acceptance: cells,
    budgets: budgets.map((b) => ({ ...b })),
  };
}

function add(a: Accumulator, usd: number, cf: number, estimated: number, premium: number): void {
  a.usd += usd;
  a.cf += cf;
  a.requests++;
  a.estimated += estimated;
  a.premium += premium;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function keyTotals(map: Map<string, KeyState>): KeyTotal[] {
  return [...map.values()]
    .map(({ key, usd, cf, requests }) => ({ key, usd, counterfactualUsd: cf, requests }))
    .sort((a, b) => b.usd - a.usd || compare(a.key, b.key));
}

/** The lines of one granularity, largest first; past `limit` keys the rest become `(other)`. */
function seriesLines(states: KeyState[], g: number, limit: number): SeriesLine[] {
  const lines = states
    .map((s) => {
      const usd = s.buckets[g];
      let total = 0;
      for (let i = 0; i < usd.length; i++) total += usd[i];
      return { key: s.key, usd, total };
    })
    .filter((line) => line.total > 0)
    .sort((a, b) => b.total - a.total || compare(a.key, b.key));
  if (lines.length <= limit) return lines.map((l) => ({ key: l.key, usd: Array.from(l.usd), total: l.total }));
  const kept = lines.slice(0, limit - 1);
  const other = new Float64Array(lines[0].usd.length);
  let otherTotal = 0;
  for (const line of lines.slice(limit - 1)) {
    for (let i = 0; i < other.length; i++) other[i] += line.usd[i];
    otherTotal += line.total;
  }
  return [...kept.map((l) => ({ key: l.key, usd: Array.from(l.usd), total: l.total })), { key: OTHER_KEY, usd: Array.from(other), total: otherTotal }];
}
