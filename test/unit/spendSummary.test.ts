import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import type { LearningState } from '../../src/core/learn/learner';
import { learnedPicks } from '../../src/core/spend/learnedPicks';
import type { OutcomeLine, SettleLine } from '../../src/core/spend/spendRecord';
import type { BudgetStatus } from '../../src/core/spend/spendSource';
import { OTHER_KEY, summarizeSpend, type SpendSummaryOptions } from '../../src/core/spend/spendSummary';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Wednesday 2026-03-18 15:00 UTC. */
const NOW = Date.UTC(2026, 2, 18, 15);
/** UTC+1 all year: local midnight is 23:00 UTC the day before. */
const PLUS_ONE: SpendSummaryOptions = { utcOffsetMinutes: () => 60 };

let seq = 0;
function settle(at: number, overrides: Partial<SettleLine> = {}): SettleLine {
  return {
    type: 'settle',
    requestId: `r${seq++}`,
    at,
    task: 'explain',
    language: 'typescript',
    model: 'cheap',
    provider: 'openai',
    tokensIn: 100,
    tokensOut: 50,
    estimated: false,
    usd: 0.01,
    latencyMs: 500,
    attempts: 1,
    fallbackUsed: false,
    status: 'ok',
    tags: [],
    ...overrides,
  };
}

const outcome = (requestId: string, kind: string, at = NOW): OutcomeLine => ({ type: 'outcome', requestId, at, kind });

const close = (actual: number, expected: number, message?: string) => assert.ok(Math.abs(actual - expected) < 1e-9, `${message ?? ''} ${actual} ≠ ${expected}`);

/** The local calendar by brute force: shift by the offset, read the UTC fields. */
function localParts(t: number, offsetMinutes: number) {
  const d = new Date(t + offsetMinutes * MINUTE);
  return { y: d.getUTCFullYear(), m: d.getUTCMonth(), day: Math.floor((t + offsetMinutes * MINUTE) / DAY), weekday: d.getUTCDay() };
}

describe('spend summary', () => {
  it('buckets by local day, week (from Monday) and month, and totals today / this week / this month', () => {
    const records = [
      settle(Date.UTC(2026, 2, 17, 22, 30), { usd: 1 }), // 23:30 local on Tuesday the 17th
      settle(Date.UTC(2026, 2, 17, 23, 30), { usd: 2 }), // 00:30 local on Wednesday the 18th: today
      settle(Date.UTC(2026, 2, 16, 0, 0), { usd: 4 }), // Monday the 16th, 01:00 local: this week
      settle(Date.UTC(2026, 2, 14, 12, 0), { usd: 8 }), // Saturday the 14th: last week, this month
      settle(Date.UTC(2026, 1, 28, 22, 59), { usd: 16 }), // 23:59 local on 28 February
      settle(Date.UTC(2026, 1, 28, 23, 0), { usd: 32 }), // 00:00 local on 1 March
    ].sort((a, b) => a.at - b.at);
    const s = summarizeSpend(records, [], [], NOW, PLUS_ONE);
    assert.equal(s.today.usd, 2);
    assert.equal(s.week.usd, 1 + 2 + 4);
    assert.equal(s.month.usd, 1 + 2 + 4 + 8 + 32);
    assert.equal(s.all.usd, 63);
    assert.equal(s.all.requests, 6);

    const day = s.series.day;
    assert.equal(day.starts.length, 19, '28 Feb … 18 Mar');
    assert.equal(day.starts[0], Date.UTC(2026, 1, 27, 23), 'local midnight of 28 February');
    assert.equal(day.starts.at(-1), Date.UTC(2026, 2, 17, 23));
    assert.deepEqual(
      day.total.map((v, i) => [i, v]).filter(([, v]) => v > 0),
      [
        [0, 16],
        [1, 32],
        [14, 8],
        [16, 4],
        [17, 1],
        [18, 2],
      ],
    );
    const week = s.series.week;
    // 28 Feb is a Saturday: its week starts Monday 23 February.
    assert.deepEqual(week.starts, [Date.UTC(2026, 1, 22, 23), Date.UTC(2026, 2, 1, 23), Date.UTC(2026, 2, 8, 23), Date.UTC(2026, 2, 15, 23)]);
    assert.deepEqual(week.total, [48, 0, 8, 7]);
    const month = s.series.month;
    assert.deepEqual(month.starts, [Date.UTC(2026, 0, 31, 23), Date.UTC(2026, 1, 28, 23)]);
    assert.deepEqual(month.total, [16, 47]);
  });

  it('starts weeks on the day asked for', () => {
    const sunday = Date.UTC(2026, 2, 15, 12);
    const s = summarizeSpend([settle(sunday, { usd: 1 })], [], [], NOW, { utcOffsetMinutes: () => 0, weekStartsOn: 0 });
    assert.equal(s.week.usd, 1, 'Sunday the 15th begins the week of Wednesday the 18th');
    assert.equal(s.series.week.starts[0], Date.UTC(2026, 2, 15));
    const iso = summarizeSpend([settle(sunday, { usd: 1 })], [], [], NOW, { utcOffsetMinutes: () => 0 });
    assert.equal(iso.week.usd, 0, 'from Monday, Sunday the 15th is last week');
  });

  it('follows a daylight-saving change: days are 23 or 25 hours long, and each record lands on its local date', () => {
    // Central Europe: +60 until 2026-03-29 01:00 UTC, +120 after.
    const switchAt = Date.UTC(2026, 2, 29, 1);
    const cet = (t: number) => (t < switchAt ? 60 : 120);
    const now = Date.UTC(2026, 2, 31, 12);
    const records = [
      settle(Date.UTC(2026, 2, 28, 22, 30), { usd: 1 }), // 23:30 CET on the 28th
      settle(Date.UTC(2026, 2, 28, 23, 30), { usd: 2 }), // 00:30 CET on the 29th
      settle(Date.UTC(2026, 2, 29, 21, 30), { usd: 4 }), // 23:30 CEST on the 29th
      settle(Date.UTC(2026, 2, 29, 22, 30), { usd: 8 }), // 00:30 CEST on the 30th
    ];
    const s = summarizeSpend(records, [], [], now, { utcOffsetMinutes: cet });
    assert.deepEqual(s.series.day.starts, [Date.UTC(2026, 2, 27, 23), Date.UTC(2026, 2, 28, 23), Date.UTC(2026, 2, 29, 22), Date.UTC(2026, 2, 30, 22)]);
    assert.deepEqual(s.series.day.total, [1, 6, 8, 0]);
    assert.equal(s.series.day.starts[2] - s.series.day.starts[1], 23 * HOUR);
  });

  it('saves the counterfactual minus the spend; a record without a counterfactual saves nothing', () => {
    const records = [
      settle(NOW - HOUR, { usd: 0.02, counterfactualUsd: 0.3 }),
      settle(NOW - 2 * HOUR, { usd: 0.05 }),
      settle(NOW - 40 * DAY, { usd: 0, counterfactualUsd: 0.5, model: 'local' }),
    ];
    const s = summarizeSpend(records, [], [], NOW, PLUS_ONE);
    close(s.all.usd, 0.07);
    close(s.all.counterfactualUsd, 0.85);
    close(s.all.savedUsd, 0.78);
    close(s.today.savedUsd, 0.28);
    close(s.month.savedUsd, 0.28);
  });

  it('counts premium requests and estimated costs', () => {
    const records = [settle(NOW - HOUR, { premiumRequests: 1, usd: 0 }), settle(NOW - HOUR, { premiumRequests: 0.33, estimated: true }), settle(NOW - 3 * DAY, { estimated: true })];
    const s = summarizeSpend(records, [], [], NOW, PLUS_ONE);
    close(s.today.premiumRequests, 1.33);
    assert.equal(s.today.estimated, 1);
    assert.equal(s.all.estimated, 2);
  });

  it('acceptance per model × task: the last verdict decides, unknown kinds and unsettled requests are no verdict', () => {
    const a = settle(NOW - 5 * HOUR, { model: 'm1', task: 'debug' });
    const b = settle(NOW - 4 * HOUR, { model: 'm1', task: 'debug' });
    const c = settle(NOW - 3 * HOUR, { model: 'm1', task: 'debug' });
    const d = settle(NOW - 2 * HOUR, { model: 'm1', task: 'debug' });
    const e = settle(NOW - 2 * HOUR, { model: 'm1', task: 'explain' });
    const f = settle(NOW - HOUR, { model: 'm2', task: 'debug' });
    const kinds = ['accepted', 'thumbs-up', 'partially-accepted', 'discarded', 'thumbs-down', 'retried-stronger', 'undone', 'ignored'];
    const outcomes = [
      outcome(a.requestId, 'accepted'),
      outcome(a.requestId, 'undone'), // accepted then undone: rejected
      outcome(b.requestId, 'discarded'),
      outcome(b.requestId, 'thumbs-up'), // discarded then 👍: accepted
      outcome(c.requestId, 'partially-accepted'),
      outcome(d.requestId, 'something-new'), // a kind this version does not know
      outcome('never-settled', 'accepted'),
      ...kinds.map((kind) => outcome(f.requestId, kind)),
    ];
    const s = summarizeSpend([a, b, c, d, e, f], outcomes, [], NOW, PLUS_ONE);
    assert.deepEqual(s.acceptance, [
      { model: 'm1', task: 'debug', accepted: 2, rejected: 1, noSignal: 1, rate: 2 / 3 },
      { model: 'm1', task: 'explain', accepted: 0, rejected: 0, noSignal: 1, rate: null },
      { model: 'm2', task: 'debug', accepted: 0, rejected: 1, noSignal: 0, rate: 0 },
    ]);
    for (const kind of kinds) {
      const one = summarizeSpend([f], [outcome(f.requestId, kind)], [], NOW, PLUS_ONE).acceptance[0];
      assert.equal(one.accepted, ['accepted', 'thumbs-up', 'partially-accepted'].includes(kind) ? 1 : 0, kind);
      assert.equal(one.rejected, ['accepted', 'thumbs-up', 'partially-accepted'].includes(kind) ? 0 : 1, kind);
    }
  });

  it('splits the series by model and by task, largest first, merging the smallest into (other)', () => {
    const models = ['a', 'b', 'c', 'd', 'e'];
    const records = models.flatMap((model, i) => [settle(NOW - DAY, { model, task: i % 2 ? 'debug' : 'explain', usd: 10 - i }), settle(NOW - HOUR, { model, task: 'format', usd: 1 })]);
    const s = summarizeSpend(records, [], [], NOW, { ...PLUS_ONE, seriesLimit: 3 });
    const day = s.series.day;
    assert.deepEqual(
      day.byModel.map((l) => [l.key, l.total]),
      [
        ['a', 11],
        ['b', 10],
        [OTHER_KEY, 9 + 8 + 7],
      ],
    );
    assert.deepEqual(day.byModel[2].usd, [8 + 7 + 6, 3]);
    assert.deepEqual(
      day.byTask.map((l) => [l.key, l.total]),
      [
        ['explain', 10 + 8 + 6],
        ['debug', 9 + 7],
        ['format', 5],
      ],
    );
    assert.deepEqual(
      s.byModel.map((k) => k.key),
      ['a', 'b', 'c', 'd', 'e'],
    );
  });

  it('goes back at most the window, and starts at the oldest record', () => {
    const old = settle(NOW - 400 * DAY, { usd: 5 });
    const recent = settle(NOW - 2 * DAY, { usd: 1 });
    const s = summarizeSpend([old, recent], [], [], NOW, { ...PLUS_ONE, window: { day: 30, week: 8, month: 6 } });
    assert.equal(s.series.day.starts.length, 30);
    assert.equal(s.series.week.starts.length, 8);
    assert.equal(s.series.month.starts.length, 6);
    assert.equal(s.series.day.total.reduce((a, b) => a + b), 1);
    assert.equal(s.all.usd, 6, 'all time still counts the old record');
    const fresh = summarizeSpend([recent], [], [], NOW, PLUS_ONE);
    assert.equal(fresh.series.day.starts.length, 3);
    const empty = summarizeSpend([], [], [], NOW, PLUS_ONE);
    assert.deepEqual(empty.series.day.total, [0]);
    assert.equal(empty.all.requests, 0);
  });

  it('passes the budgets through', () => {
    const budgets: BudgetStatus[] = [{ id: 'daily', label: 'Daily', limitUsd: 5, spentUsd: 1, reservedUsd: 0.5, share: 0.3, level: 0, onLimit: 'step-down' }];
    assert.deepEqual(summarizeSpend([], [], budgets, NOW).budgets, budgets);
  });

  it('agrees with a brute-force count on random ledgers in random fixed time zones', () => {
    const recordArb = fc.record({
      ago: fc.integer({ min: -2 * HOUR, max: 120 * DAY }),
      usd: fc.integer({ min: 0, max: 5000 }).map((c) => c / 1000),
      extra: fc.option(fc.integer({ min: 0, max: 5000 }).map((c) => c / 1000), { nil: undefined }),
      model: fc.constantFrom('m1', 'm2', 'm3'),
      task: fc.constantFrom('explain', 'debug'),
    });
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 60 }), fc.integer({ min: -12 * 60, max: 14 * 60 }), fc.integer({ min: 0, max: 6 }), (raw, offset, weekStartsOn) => {
        const records = raw.map((r) => settle(NOW - r.ago, { usd: r.usd, model: r.model, task: r.task, counterfactualUsd: r.extra === undefined ? undefined : r.usd + r.extra })).sort((a, b) => a.at - b.at);
        const s = summarizeSpend(records, [], [], NOW, { utcOffsetMinutes: () => offset, weekStartsOn });
        const now = localParts(NOW, offset);
        const weekOf = (p: ReturnType<typeof localParts>) => p.day - ((p.weekday - weekStartsOn + 7) % 7);
        let today = 0;
        let week = 0;
        let month = 0;
        let saved = 0;
        const byDay = new Map<number, number>();
        for (const r of records) {
          const p = localParts(r.at, offset);
          if (p.day === now.day) today += r.usd;
          if (weekOf(p) === weekOf(now)) week += r.usd;
          if (p.y === now.y && p.m === now.m) month += r.usd;
          saved += (r.counterfactualUsd ?? r.usd) - r.usd;
          if (p.day <= now.day && p.day > now.day - 90) byDay.set(p.day, (byDay.get(p.day) ?? 0) + r.usd);
        }
        close(s.today.usd, today, 'today');
        close(s.week.usd, week, 'week');
        close(s.month.usd, month, 'month');
        close(s.all.savedUsd, saved, 'saved');
        s.series.day.starts.forEach((start, i) => {
          const p = localParts(start, offset);
          close(s.series.day.total[i], byDay.get(p.day) ?? 0, `day ${i}`);
          assert.equal((start + offset * MINUTE) % DAY, 0, 'a day starts at local midnight');
        });
        for (const [g, line] of [['model', s.series.day.byModel], ['task', s.series.day.byTask]] as const) {
          const sum = line.reduce((a, l) => a + l.total, 0);
          close(sum, [...byDay.values()].reduce((a, b) => a + b, 0), `by ${g}`);
        }
        s.series.week.starts.forEach((start) => assert.equal(localParts(start, offset).weekday, weekStartsOn));
        s.series.month.starts.forEach((start) => assert.equal(new Date(start + offset * MINUTE).getUTCDate(), 1));
      }),
      { numRuns: 200 },
    );
  });

});

describe('learned picks', () => {
  const state = (models: LearningState['models']): LearningState => ({ format: 'coderoute-learning', version: 1, savedAt: new Date(NOW).toISOString(), models, requests: [] });

  it('picks the highest posterior mean per bucket, with the runner-up, busiest buckets first', () => {
    const picks = learnedPicks(
      state({
        cheap: { '*': [30, 40, NOW], 'task=debug': [2, 10, NOW], 'task=explain': [19, 20, NOW] },
        strong: { '*': [20, 25, NOW], 'task=debug': [8, 10, NOW] },
        local: { 'task=format': [3, 3, NOW], 'task=debug': [0, 0, NOW] },
      }),
    );
    assert.deepEqual(
      picks.map((p) => [p.bucket, p.model, p.contenders]),
      [
        ['*', 'strong', 2],
        ['task=debug', 'strong', 2],
        ['task=explain', 'cheap', 1],
        ['task=format', 'local', 1],
      ],
    );
    assert.deepEqual(picks[0], { bucket: '*', model: 'strong', mean: 21 / 27, successes: 20, observations: 25, contenders: 2, runnerUp: { model: 'cheap', mean: 31 / 42, observations: 40 } });
    assert.equal(picks[2].runnerUp, undefined);
    assert.deepEqual(
      learnedPicks(state({ cheap: { '*': [1, 2, NOW], x: [1, 1, NOW] }, strong: { '*': [2, 2, NOW] } }), { minModels: 2 }).map((p) => p.bucket),
      ['*'],
    );
  });

  it('breaks ties by evidence, then by model id, and caps successes at observations', () => {
    const picks = learnedPicks(state({ b: { k: [1, 2, NOW] }, a: { k: [1, 2, NOW] }, c: { k: [2, 2, NOW], j: [5, 3, NOW] } }));
    assert.equal(picks.find((p) => p.bucket === 'k')?.model, 'c');
    const tie = learnedPicks(state({ b: { k: [1, 2, NOW] }, a: { k: [1, 2, NOW] } }))[0];
    assert.equal(tie.model, 'a');
    assert.equal(tie.runnerUp?.model, 'b');
    const capped = learnedPicks(state({ c: { j: [5, 3, NOW] } }))[0];
    assert.equal(capped.successes, 3);
    assert.equal(capped.mean, 4 / 5);
    assert.deepEqual(learnedPicks(state({})), []);
  });
});
