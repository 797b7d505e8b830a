import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ReplayInputError, parseCsv, readOutcomeMatrix } from '../../src/core/replay/outcomeMatrix';
import { againstModels, runReplay, upperHullAt } from '../../src/core/replay/replay';
import { replaySvg, replayTable } from '../../src/core/replay/replayReport';
import { REPO_ROOT } from './repoRoot';

/**
 * A synthetic matrix with a learnable structure: in the `easy` area the cheap model is accepted
 * as often as the strong one at a fiftieth of the price; in the `hard` area it never is.
 */
function syntheticMatrix(tasks = 300): string {
  const lines = ['task_id,area,model,resolved,cost_usd,api_calls'];
  for (let i = 0; i < tasks; i++) {
    const area = i % 2 === 0 ? 'easy' : 'hard';
    const strongOk = i % 10 !== 3 ? 1 : 0;
    const cheapOk = area === 'easy' ? strongOk : 0;
    lines.push(`t${i},${area},cheap,${cheapOk},0.01,${3 + (i % 5)}`);
    lines.push(`t${i},${area},"mid, v2",${area === 'easy' ? cheapOk : i % 3 === 0 ? 1 : 0},0.1,${2 + (i % 7)}`);
    lines.push(`t${i},${area},strong,${strongOk},0.5,${1 + (i % 3)}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('coderoute replay: reading an outcome matrix', () => {
  it('reads quoted CSV fields with commas, quotes and line breaks', () => {
    assert.deepEqual(parseCsv('a,b\r\n"x, y","say ""hi"""\n"two\nlines",z'), [
      ['a', 'b'],
      ['x, y', 'say "hi"'],
      ['two\nlines', 'z'],
    ]);
  });

  it('uses task-level columns with few values as context, not per-model results or identifiers', () => {
    const m = readOutcomeMatrix(syntheticMatrix());
    assert.deepEqual(m.featureColumns, ['area']);
    assert.deepEqual(m.ignoredColumns.map((c) => c.column), ['api_calls']);
    assert.deepEqual(m.models, ['cheap', 'mid, v2', 'strong']);
    assert.equal(m.tasks.length, 300);
    assert.equal(m.outcome.get('t1')?.get('cheap'), 0);
  });

  it('leaves out rows by --exclude-column, and names what is wrong with bad input', () => {
    const m = readOutcomeMatrix(syntheticMatrix(10), { exclude: ['model=cheap'] });
    assert.equal(m.excludedRows, 10);
    assert.deepEqual(m.models, ['mid, v2', 'strong']);
    const bad: [string, RegExp][] = [
      ['task_id,model,cost_usd\nt1,a,1\n', /no outcome column: one of resolved, pass_at_1/],
      ['task,model,resolved\nt1,a,1\n', /no "task_id" column/],
      ['task_id,model,pass_at_1\nt1,a,1.5\n', /pass_at_1 must be a number from 0 to 1/],
      ['task_id,model,resolved\nt1,a,1\nt1,a,0\n', /second row for model "a"/],
      ['task_id,model,resolved\nt1,a\n', /row 2 has 2 fields/],
    ];
    for (const [text, message] of bad) assert.throws(() => readOutcomeMatrix(text), (e: unknown) => e instanceof ReplayInputError && message.test(e.message));
    assert.throws(() => readOutcomeMatrix(syntheticMatrix(2), { exclude: ['nosuch=1'] }), /not a column/);
  });
});

describe('coderoute replay: policies', () => {
  const matrix = readOutcomeMatrix(syntheticMatrix());
  const options = { pool: ['cheap', 'mid, v2', 'strong'], strong: 'strong', maxAttempts: 2, seeds: 3 };

  it('reports every policy with quality, cost and attempts against the strong model', () => {
    const r = runReplay(matrix, options);
    assert.deepEqual(Object.keys(r.policies).sort(), ['always_cheapest', 'always_strong', 'best_fixed_chain_hindsight', 'learned', 'oracle', 'random', 'router_knowing_contexts']);
    assert.equal(r.policies.always_strong.quality_vs_strong, 1);
    assert.equal(r.policies.always_strong.cost, 150);
    assert.equal(r.policies.always_cheapest.quality, 150);
    for (const p of Object.values(r.policies)) assert.ok(p.quality <= r.policies.oracle.quality);
    assert.equal(r.curve.length, 50);
    assert.equal(r.curve[49].task, 300);
  });

  it('learns where the cheap model is enough: the strong model’s quality at a fraction of its cost', () => {
    const r = runReplay(matrix, options);
    const learned = r.policies.learned;
    // Cold start costs some tasks (every model starts at the same prior); it still ends far ahead.
    assert.ok(learned.quality_vs_strong >= 0.9, `quality ${learned.quality_vs_strong}`);
    assert.ok(learned.quality > r.policies.always_cheapest.quality + 60, `quality ${learned.quality}`);
    assert.ok(learned.cost_vs_strong <= 0.75, `cost ${learned.cost_vs_strong}`);
    assert.ok(learned.cost < r.policies.random.cost);
  });

  it('shows where the learner heads: the same router knowing each context’s rates takes the cheap model where it is enough and the strong one elsewhere', () => {
    const one = runReplay(matrix, { ...options, maxAttempts: 1 });
    const knowing = one.policies.router_knowing_contexts;
    // easy: cheap is accepted as often as strong (135 of 150) at a fiftieth of the price; hard: only strong (135 of 150).
    assert.equal(knowing.quality, 270);
    assert.equal(knowing.cost, 150 * 0.01 + 150 * 0.5);
    assert.equal(knowing.attempts, 1);
    assert.ok(one.policies.learned.quality <= knowing.quality, 'learning costs something: no better than knowing');
    // A heavy price weight: the same knowledge, a cheaper choice on the hard area too.
    const thrifty = runReplay(matrix, { ...options, maxAttempts: 1, priceWeight: 10 }).policies.router_knowing_contexts;
    assert.ok(thrifty.cost < knowing.cost, `${thrifty.cost} against ${knowing.cost}`);
    // With a retry, a hard task the strong model fails goes on to the model most likely to solve it after that.
    const two = runReplay(matrix, options).policies.router_knowing_contexts;
    assert.ok(two.quality > knowing.quality && two.attempts > 1, JSON.stringify(two));
  });

  it('is repeatable for a seed, and different seeds shuffle differently', () => {
    const a = runReplay(matrix, { ...options, seeds: 1 });
    const b = runReplay(matrix, { ...options, seeds: 1 });
    assert.deepEqual(a.policies, b.policies);
    const c = runReplay(matrix, { ...options, seeds: 1, firstSeed: 2 });
    assert.notDeepEqual(a.curve, c.curve);
  });

  it('draws pass_at_1 outcomes with the seed: a 0.5 model is accepted about half the time', () => {
    const lines = ['task_id,model,pass_at_1'];
    for (let i = 0; i < 400; i++) lines.push(`t${i},half,0.5`, `t${i},sure,1`);
    const r = runReplay(readOutcomeMatrix(lines.join('\n')), { pool: ['half'], strong: 'sure', maxAttempts: 1, seeds: 2, costs: new Map([['half', 1], ['sure', 2]]) });
    assert.ok(Math.abs(r.policies.learned.quality - 200) < 40, `${r.policies.learned.quality}`);
  });

  it('refuses an unknown model, a model without a cost, and a bad number of attempts', () => {
    assert.throws(() => runReplay(matrix, { ...options, pool: ['cheap', 'nope'] }), /unknown model "nope"; the matrix has: cheap, mid, v2, strong/);
    const noCost = readOutcomeMatrix('task_id,model,resolved\nt1,a,1\nt1,b,0\n');
    assert.throws(() => runReplay(noCost, { pool: ['a'], strong: 'b', maxAttempts: 1, seeds: 1 }), /no cost for "a"/);
    assert.throws(() => runReplay(matrix, { ...options, maxAttempts: 0 }), /--max-attempts/);
  });

  it('reports each pool model alone with one attempt, and judges a one-attempt policy against them (issue 17)', () => {
    const r = runReplay(matrix, { ...options, maxAttempts: 1 });
    assert.deepEqual(Object.keys(r.models).sort(), ['cheap', 'mid, v2', 'strong']);
    assert.equal(r.models.strong.quality, r.policies.always_strong.quality);
    assert.equal(r.models.cheap.cost, 3);
    assert.equal(r.models.cheap.quality, r.policies.always_cheapest.quality);
    // A point between two models in cost is judged against the line joining them.
    const between = againstModels({ quality: 200, cost: 50 }, r.models);
    assert.deepEqual(between.between, ['mid, v2', 'strong']);
    const { cheap, strong } = r.models;
    assert.deepEqual(againstModels({ ...r.models.cheap, quality: cheap.quality - 1, cost: cheap.cost + 1 }, r.models).dominatedBy, ['cheap']);
    assert.deepEqual(againstModels({ ...strong, quality: strong.quality + 1 }, r.models).dominatedBy, []);
    assert.match(replayTable(r), /each pool model alone, one attempt per task:[\s\S]*cheap[\s\S]*learned, one attempt: /);
  });

  it('reports the ceiling of a router that sees only the context columns, and the best mixture of single models (issue 17)', () => {
    const r = runReplay(matrix, { ...options, maxAttempts: 1 });
    // Knowing the outcomes, the best per area is cheap where it is enough and strong elsewhere.
    const top = r.context_ceiling.frontier[r.context_ceiling.frontier.length - 1];
    assert.equal(top.cost_vs_strong, 1);
    assert.ok(top.quality_vs_strong >= 1, `${top.quality_vs_strong}`);
    assert.ok(r.context_ceiling.at_learned_cost.quality >= r.policies.learned.quality - 1, 'no online router beats the hindsight ceiling at its own cost');
    const qualities = r.context_ceiling.frontier.map((f) => f.quality_vs_strong);
    assert.deepEqual(qualities, [...qualities].sort((a, b) => a - b), 'more to spend, never less quality');
    // Spending 0.5 of the strong model's cost per area the right way beats every mixture of single models.
    const half = r.context_ceiling.frontier.find((f) => f.cost_vs_strong === 0.5);
    assert.ok(half && half.quality_vs_strong > upperHullAt(Object.values(r.models), r.policies.always_strong.cost / 2) / r.policies.always_strong.quality);
    assert.ok(r.models_hull_at_learned_cost.quality > 0);
    assert.match(replayTable(r), /best chains per context in hindsight \(the ceiling of a router that sees area\)[\s\S]*at the learned policy's cost/);
    assert.match(replayTable(r), /(above|below) the best mixture of single models at its cost/);
  });

  it('mixes points on their upper hull: between two on it, along the line; a point under it does not count', () => {
    const points = [
      { quality: 10, cost: 1 },
      { quality: 15, cost: 2 },
      { quality: 12, cost: 2.5 },
      { quality: 16, cost: 3 },
    ];
    assert.equal(upperHullAt(points, 1.5), 12.5);
    assert.equal(upperHullAt(points, 2.5), 15.5, 'the point at 2.5 lies under the hull');
    assert.equal(upperHullAt(points, 0.5), 5, 'below the cheapest point: its quality, scaled down');
    assert.equal(upperHullAt(points, 4), 16, 'past the dearest: its quality');
  });

  it('plots cost against quality and the learning curve as plain SVG, escaping labels', () => {
    const svg = replaySvg(runReplay(matrix, { ...options, seeds: 1 }), 'a <title> & "quotes"');
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.ok(svg.includes('a &lt;title&gt; &amp; &quot;quotes&quot;'));
    assert.ok(!/<script/i.test(svg));
    assert.equal((svg.match(/<circle /g) ?? []).length, 7);
    // Each pool model alone is a hollow square, labelled.
    assert.equal((svg.match(/<rect x="[\d.]+" y="[\d.]+" width="8" height="8" fill="none"/g) ?? []).length, 3);
    assert.ok(svg.includes('mid, v2'));
    assert.match(svg, /<path d="M[\d.]+,[\d.]+( L[\d.]+,[\d.]+)+" fill="none" stroke="#2b8a3e" stroke-width="1.5" stroke-dasharray="4 3"\/>/, 'the ceiling, dashed');
  });
});

describe('coderoute replay on the command line (bundled)', () => {
  let dir: string;
  const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(REPO_ROOT, 'dist', 'cli.js'), 'replay', ...args], { cwd: dir, encoding: 'utf8' });

  // Each case starts a Node process; a busy machine can take seconds per start.
  before(function () {
    this.timeout(60_000);
    dir = mkdtempSync(path.join(os.tmpdir(), 'coderoute-replay-'));
    writeFileSync(path.join(dir, 'm.csv'), syntheticMatrix(60));
    writeFileSync(path.join(dir, 'costs.csv'), 'model,usd_per_task\ncheap,0.02\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the JSON the issue asks for', function () {
    this.timeout(60_000);
    const run = cli('m.csv', '--pool', 'cheap, strong', '--strong', 'strong', '--max-attempts', '3', '--seeds', '2', '--json');
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout);
    assert.equal(out.tasks, 60);
    assert.equal(out.seeds, 2);
    for (const name of ['learned', 'router_knowing_contexts', 'always_strong', 'always_cheapest', 'random', 'best_fixed_chain_hindsight', 'oracle']) {
      assert.deepEqual(Object.keys(out.policies[name]).sort(), ['attempts', 'cost', 'cost_vs_strong', 'quality', 'quality_vs_strong', 'score']);
    }
    // The score is what the price weight makes of a policy, per task.
    assert.equal(out.price_weight, 0.4);
    const strong = out.policies.always_strong;
    assert.ok(Math.abs(strong.score - (strong.quality / 60 - 0.4)) < 1e-3, JSON.stringify(strong));
    const learned = out.policies.learned;
    assert.ok(Math.abs(learned.score - (learned.quality / 60 - 0.4 * learned.cost_vs_strong)) < 2e-3, JSON.stringify(learned));
    assert.deepEqual(Object.keys(out.models).sort(), ['cheap', 'strong']);
    assert.deepEqual(Object.keys(out.context_ceiling.at_learned_cost).sort(), ['quality', 'quality_vs_strong']);
    assert.ok(out.context_ceiling.frontier.length > 5);
    assert.equal(typeof out.models_hull_at_learned_cost.quality, 'number');
  });

  it('prints a table and writes the plot without --json', function () {
    this.timeout(60_000);
    const run = cli('m.csv', '--pool', 'cheap,strong', '--strong', 'strong', '--seeds', '1', '--plot', 'out.svg', '--costs', 'costs.csv');
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /policy\s+accepted\s+cost \$\s+attempts\s+quality vs strong\s+cost vs strong\s+score/);
    assert.match(run.stdout, /score: accepted share − 0\.4 \(the price weight\) × cost vs strong, per task/);
    assert.match(run.stdout, /best_fixed_chain_hindsight/);
    assert.match(readFileSync(path.join(dir, 'out.svg'), 'utf8'), /<svg /);
  });

  it('exits with code 2 and a clear message on bad input', function () {
    this.timeout(120_000);
    const cases: [string[], RegExp][] = [
      [['m.csv', '--pool', 'cheap,gpt-9', '--strong', 'strong'], /unknown model "gpt-9"/],
      [['m.csv', '--strong', 'strong'], /--pool is required/],
      [['missing.csv', '--pool', 'cheap', '--strong', 'strong'], /cannot read the matrix/],
      [['costs.csv', '--pool', 'cheap', '--strong', 'strong'], /no "task_id" column/],
      [['m.csv', '--pool', 'cheap', '--strong', 'strong', '--exclude-column', 'oops'], /COLUMN=VALUE/],
      [['m.csv', '--pool', 'cheap', '--strong', 'strong', '--seeds', '0'], /--seeds must be a whole number/],
    ];
    for (const [args, message] of cases) {
      const run = cli(...args);
      assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
    }
  });
});
