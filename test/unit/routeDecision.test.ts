import * as assert from 'node:assert/strict';
import type { Classification } from '../../src/core/classify/classification';
import { parseSettings, type ModelConfig, type SettingKey, type Settings } from '../../src/core/config/settingsSchema';
import { mergePolicy, type RepoPolicy } from '../../src/core/policy/policy';
import { decisionLogLine, decisionMarkdown, decisionRecord } from '../../src/core/route/decisionRecord';
import type { AcceptanceEstimator } from '../../src/core/route/estimates';
import { RouteError, routeByTask } from '../../src/core/route/routeDecision';
import { RouteRefusal, route, type BudgetState, type RouteInput } from '../../src/core/route/router';
import { httpProvider } from '../support/httpProvider';

const raw: Partial<Record<SettingKey, unknown>> = {
  providers: [
    { id: 'cloud', kind: 'openai', baseUrl: 'https://api.example.com/v1' },
    { id: 'local', kind: 'openai', baseUrl: 'http://127.0.0.1:11434/v1', auth: 'none' },
  ],
  models: [
    { id: 'mini', provider: 'cloud', name: 'mini-1', tags: ['cheap'], price: { inputPerMTok: 0.4, outputPerMTok: 1.6 } },
    { id: 'coder', provider: 'cloud', name: 'coder-2', tags: ['code'], price: { inputPerMTok: 2, outputPerMTok: 8 } },
    { id: 'big', provider: 'cloud', name: 'big-3', tags: ['strong', 'code'], price: { inputPerMTok: 15, outputPerMTok: 75 } },
    { id: 'small-local', provider: 'local', name: 'qwen2.5-coder:1.5b', tags: ['cheap', 'local'], price: { inputPerMTok: 0, outputPerMTok: 0 } },
    { id: 'mystery', provider: 'cloud', name: 'mystery-9', tags: ['code'] },
  ],
  'tasks.explain': 'cheap',
  'tasks.debug': ['coder', 'big'],
  'tasks.generate': ['big', 'mini', 'small-local'],
  'routing.rules': [
    { id: 'debug-heavy', when: { task: ['debug'], language: ['rust'], difficulty: [0.6, 1] }, use: ['big', 'coder'] },
    { id: 'billing-local', when: { path: ['src/billing/**'] }, use: ['small-local'] },
  ],
};

function settingsWith(overrides: Partial<Record<SettingKey, unknown>> = {}): Settings {
  const { settings, issues } = parseSettings((key) => (key in overrides ? overrides[key] : raw[key]));
  assert.deepEqual(issues, []);
  return settings;
}

function classification(task: Classification['task'], difficulty: number, unitLines = 40, errors = 0): RouteInput['classification'] {
  return {
    task,
    difficulty,
    language: 'rust',
    features: {
      nodeKind: 'identifier', ancestorKinds: [], unit: { kind: 'function_item', name: 'parse', lines: unitLines, tokens: 300, startLine: 0, endLine: unitLines - 1 },
      inComment: false, inString: false, emptyBlock: false, commentAbove: false, cursorLineBlank: false, textAfterCursor: false, selectionLines: 0,
      wholeNodeSelection: false, syntaxErrors: errors, diagnosticErrors: 0, nestingDepth: 2, branchCount: 3, identifiers: 20, formatIrregularity: 0,
      generated: false, minified: false, binary: false,
    },
  } as RouteInput['classification'];
}

function input(settings: Settings, overrides: Partial<RouteInput> = {}): RouteInput {
  return { requestId: 'r1', task: 'explain', languageId: 'typescript', path: 'src/app.ts', policy: mergePolicy(settings), ...overrides };
}

const ids = (d: { chosen: { model: ModelConfig }; fallbacks: { model: ModelConfig }[] }) => [d.chosen, ...d.fallbacks].map((r) => r.model.id);

describe('routing engine: task mode (rules only)', () => {
  const settings = settingsWith({ 'routing.mode': 'task' });

  it('uses the first rule whose conditions all hold, in its order, and names it', () => {
    const decision = route(input(settings, { task: 'debug', languageId: 'rust', classification: classification('debug', 0.8, 40, 2) }));
    assert.deepEqual(ids(decision), ['big', 'coder']);
    assert.equal(decision.decidedBy, 'rule');
    assert.equal(decision.rule, 'debug-heavy');
    assert.equal(decision.reason, 'debug in a 40-line rust function item with 2 errors → big: rule "debug-heavy", est. $0.06.');
  });

  it('falls through to the task setting when no rule matches (an easy Rust bug, or another language)', () => {
    for (const [languageId, difficulty] of [['rust', 0.3], ['go', 0.9]] as const) {
      const decision = route(input(settings, { task: 'debug', languageId, classification: classification('debug', difficulty) }));
      assert.deepEqual(ids(decision), ['coder', 'big']);
      assert.equal(decision.decidedBy, 'task-setting');
      assert.equal(decision.rule, undefined);
    }
  });

  it('matches path globs and expands tiers into every model with the tag, in catalogue order', () => {
    assert.deepEqual(ids(route(input(settings, { path: 'src/billing/invoice.ts' }))), ['small-local']);
    assert.deepEqual(ids(route(input(settings))), ['mini', 'small-local'], 'explain → the cheap tier');
  });

  it('sends block completions to code models by default, and line completions to cheap ones', () => {
    assert.deepEqual(ids(route(input(settings, { task: 'complete', classification: classification('complete-block', 0.4) }))).slice(0, 1), ['coder']);
    assert.deepEqual(ids(route(input(settings, { task: 'complete', classification: classification('complete-line', 0.4) }))).slice(0, 1), ['mini']);
  });

  it('names the setting to fix when a task names a model that does not exist', () => {
    const broken = settingsWith({ 'routing.mode': 'task', 'tasks.explain': ['missing'] });
    assert.throws(
      () => route(input(broken)),
      (error: unknown) => error instanceof RouteError && error.setting === 'coderoute.tasks.explain' && /"missing"/.test(error.message),
    );
  });
});

describe('routing engine: performance and hybrid modes (scored choice)', () => {
  it('performance: a cheap model wins an easy explanation when cost weighs fully, a code model a hard bug', () => {
    const settings = settingsWith({ 'routing.mode': 'performance', 'routing.priceWeight': 1 });
    const easy = route(input(settings, { classification: classification('explain', 0.1) }));
    assert.ok(['mini', 'small-local'].includes(easy.chosen.model.id), easy.reason);
    const hard = route(input(settings, { task: 'debug', classification: classification('debug', 0.95) }));
    assert.ok(hard.chosen.model.tags.includes('code'), hard.reason);
    assert.equal(hard.decidedBy, 'estimate');
    assert.match(hard.reason, /best score among \d+ \(acceptance 0\.\d+ by tier prior/);
  });

  it('performance: a heavy price weight, or spending ahead of the budget pace, steers to cheaper models', () => {
    const request = { task: 'debug' as const, classification: classification('debug', 0.95) };
    const light = route(input(settingsWith({ 'routing.mode': 'performance', 'routing.priceWeight': 0.1 }), request));
    const heavy = route(input(settingsWith({ 'routing.mode': 'performance', 'routing.priceWeight': 10 }), request));
    assert.equal(light.chosen.model.id, 'big');
    assert.ok(['mini', 'small-local'].includes(heavy.chosen.model.id), heavy.reason);
    const paced = settingsWith({ 'routing.mode': 'performance', 'routing.priceWeight': 0.08, 'budget.dailyUsd': 1 });
    const onPace: BudgetState = { spentTodayUsd: 0.1, spentMonthUsd: 0.1, dayElapsed: 0.5, monthElapsed: 0.5, source: 'test' };
    const ahead: BudgetState = { ...onPace, spentTodayUsd: 0.95 };
    assert.equal(route(input(paced, { ...request, budget: onPace })).chosen.model.id, 'big');
    assert.notEqual(route(input(paced, { ...request, budget: ahead })).chosen.model.id, 'big', 'over pace, cost weighs more');
  });

  it('leaves out a model whose estimated cost would go past what is left of the budget', () => {
    const settings = settingsWith({ 'routing.mode': 'performance', 'routing.priceWeight': 0, 'budget.dailyUsd': 0.05 });
    const decision = route(input(settings, { task: 'debug', classification: classification('debug', 0.9), budget: { spentTodayUsd: 0.03, spentMonthUsd: 0.03, dayElapsed: 0.9, monthElapsed: 0.5, source: 'test' } }));
    assert.notEqual(decision.chosen.model.id, 'big');
    assert.match(decision.candidates.find((c) => c.modelId === 'big')?.note ?? '', /would go past the remaining daily budget/);
    assert.ok(!ids(decision).includes('big'), 'not even as a fallback');
  });

  it('steps down to another allowed model that fits when every candidate would pass a budget that says step down, and refuses when it says stop', () => {
    const spent = { spentTodayUsd: 0.049, spentMonthUsd: 0.049, dayElapsed: 0.9, monthElapsed: 0.5, source: 'test' };
    const request = { task: 'debug' as const, classification: classification('debug', 0.9), budget: spent };
    const stepping = route(input(settingsWith({ 'routing.mode': 'task', 'budget.dailyUsd': 0.05, 'budget.onLimit': { daily: 'step-down', monthly: 'stop', perTask: 'step-down' } }), request));
    assert.ok(['mini', 'small-local'].includes(stepping.chosen.model.id), stepping.reason);
    assert.match(stepping.reason, /Stepped down: every model for debug would go past the remaining daily budget/);
    assert.throws(
      () => route(input(settingsWith({ 'routing.mode': 'task', 'budget.dailyUsd': 0.05, 'budget.onLimit': { daily: 'stop', monthly: 'stop', perTask: 'stop' } }), request)),
      (e: unknown) => e instanceof RouteRefusal && /would go past the remaining daily budget/.test(e.message),
    );
  });

  it('drops a model the estimates expect to be slower than the latency target', () => {
    const slowBig: AcceptanceEstimator = { estimate: (model) => ({ p: model.id === 'big' ? 0.95 : 0.5, samples: 10, source: 'learned', latencyMs: model.id === 'big' ? 9000 : 800 }) };
    const settings = settingsWith({ 'routing.mode': 'performance', 'routing.priceWeight': 0, 'routing.latencyTargetMs': 2000 });
    const decision = route(input(settings, { estimator: slowBig }));
    assert.notEqual(decision.chosen.model.id, 'big');
    assert.match(decision.candidates.find((c) => c.modelId === 'big')?.note ?? '', /expected 9000 ms, over the 2000 ms target/);
  });

  it('hybrid: the rule gives the candidates, the score chooses among them', () => {
    const settings = settingsWith({ 'routing.mode': 'hybrid', 'routing.priceWeight': 10 });
    const decision = route(input(settings, { task: 'debug', languageId: 'rust', classification: classification('debug', 0.8) }));
    assert.deepEqual(ids(decision).sort(), ['big', 'coder'], 'only the rule’s models');
    assert.equal(decision.chosen.model.id, 'coder', 'the cheaper of the two, at a heavy price weight');
    assert.equal(decision.decidedBy, 'estimate');
    assert.match(decision.reason, /candidates from rule "debug-heavy"/);
  });

  it('never uses a model with no known price silently: the decision says so, and it is scored as the dearest', () => {
    const settings = settingsWith({ 'routing.mode': 'hybrid', 'tasks.generate': ['mystery'] });
    const decision = route(input(settings, { task: 'generate' }));
    assert.equal(decision.chosen.model.id, 'mystery');
    assert.equal(decision.estimatedCostUsd, undefined);
    assert.match(decision.reason, /est\. price unknown — no known price for this model: set its price in coderoute\.models/);
    const mixed = route(input(settingsWith({ 'routing.mode': 'hybrid', 'routing.priceWeight': 5, 'tasks.generate': ['mystery', 'coder'] }), { task: 'generate' }));
    assert.equal(mixed.chosen.model.id, 'coder', 'an unknown price is not treated as free');
    assert.match(mixed.candidates.find((c) => c.modelId === 'mystery')?.note ?? '', /price unknown/);
  });
});

describe('routing engine: privacy classes fail closed', () => {
  const settings = settingsWith({ 'routing.mode': 'performance', 'privacy.localOnly': ['secrets/**'], 'privacy.noAi': ['*.env'] });

  it('refuses a no-AI file, by directive or by path, before anything else', () => {
    for (const overrides of [{ directives: { noAi: true, localOnly: false } }, { path: 'config/prod.env' }]) {
      assert.throws(() => route(input(settings, overrides)), (e: unknown) => e instanceof RouteRefusal && e.reason === 'no-ai');
    }
  });

  it('keeps a local-only file inside the local models, fallbacks included', () => {
    const decision = route(input(settings, { path: 'secrets/keys.ts' }));
    assert.equal(decision.privacy, 'local-only');
    assert.deepEqual(ids(decision), ['small-local']);
    assert.ok(decision.candidates.filter((c) => c.excluded).every((c) => /not tagged local/.test(c.note)));
  });

  it('refuses a local-only request when no local model may take it, naming the models it left out', () => {
    const noLocal = settingsWith({ 'routing.mode': 'task', 'tasks.debug': ['coder', 'big'] });
    assert.throws(
      () => route(input(noLocal, { task: 'debug', directives: { noAi: false, localOnly: true } })),
      (e: unknown) => e instanceof RouteRefusal && e.reason === 'no-allowed-model' && /no model for debug is tagged local: coder \(not tagged local/.test(e.message) && /Nothing was sent/.test(e.message),
    );
  });
});

describe('routing engine: the repository policy tightens decisions', () => {
  const repo = (policy: RepoPolicy) => ({ policy, hash: 'h1' });

  it('leaves denied models and providers out and says so', () => {
    const settings = settingsWith({ 'routing.mode': 'task' });
    const policy = mergePolicy(settings, repo({ deny: { models: ['big'] } }));
    const decision = route({ ...input(settings, { task: 'generate' }), policy });
    assert.deepEqual(ids(decision), ['mini', 'small-local']);
    assert.match(decision.candidates.find((c) => c.modelId === 'big')?.note ?? '', /denied by the repository policy/);
    assert.deepEqual(decision.policyNotes, ['The repository policy denies 1 model(s): big.']);
  });

  it('pins a task to a tier: models outside it are excluded, and none left means a refusal', () => {
    const settings = settingsWith({ 'routing.mode': 'task' });
    const pinned = route({ ...input(settings, { task: 'generate' }), policy: mergePolicy(settings, repo({ tasks: { generate: 'cheap' } })) });
    assert.deepEqual(ids(pinned), ['mini', 'small-local']);
    assert.throws(() => route({ ...input(settings, { task: 'debug' }), policy: mergePolicy(settings, repo({ tasks: { debug: 'local' } })) }), RouteRefusal);
  });

  it('marks paths local-only and lowers the budget', () => {
    const settings = settingsWith({ 'routing.mode': 'performance', 'routing.priceWeight': 0 });
    const policy = mergePolicy(settings, repo({ privacy: { localOnly: ['src/**'] }, budget: { dailyUsd: 0.01 } }));
    assert.deepEqual(ids(route({ ...input(settings), policy })), ['small-local']);
    const elsewhere = route({ ...input(settings, { path: 'docs/x.ts', task: 'debug', budget: { spentTodayUsd: 0.009, spentMonthUsd: 0.009, dayElapsed: 0.5, monthElapsed: 0.5, source: 't' } }), policy });
    assert.ok(elsewhere.chosen.model.tags.includes('local') || (elsewhere.estimatedCostUsd ?? 1) <= 0.001, elsewhere.reason);
  });
});

describe('routing decisions explain themselves', () => {
  const settings = settingsWith({ 'routing.mode': 'hybrid' });
  const decision = route(input(settings, { task: 'debug', languageId: 'rust', classification: classification('debug', 0.8, 40, 2) }));
  const record = decisionRecord(decision);

  it('carries the task, the facts, the rule or estimate, every candidate with score and cost, the budget and the chain', () => {
    assert.deepEqual(record.features, ['task debug', 'language rust', 'difficulty 0.80', '40-line function item parse', '2 errors']);
    assert.equal(record.mode, 'hybrid');
    assert.equal(record.rule, 'debug-heavy');
    assert.equal(record.candidates.length, 2);
    for (const c of record.candidates) assert.ok(typeof c.score === 'number' && typeof c.estCostUsd === 'number' && typeof c.pAccept === 'number');
    assert.deepEqual(record.fallbacks, [ids(decision)[1]]);
    assert.ok(record.budget);
    assert.equal(JSON.stringify(record).includes('https://'), false, 'no endpoint in the record');
  });

  it('writes one log line with the same facts and a Markdown view with a candidates table', () => {
    const line = decisionLogLine(record);
    assert.match(line, /^route debug mode=hybrid privacy=any → \w+ by=estimate rule=debug-heavy est=\$[\d.]+ then=\w+ candidates=\[big:-?[\d.]+\/\$[\d.]+,coder:-?[\d.]+\/\$[\d.]+\] facts=\[task debug; language rust;/);
    const md = decisionMarkdown({ ...record, candidates: [...record.candidates, { modelId: 'a|b', score: 0, note: 'x|y', excluded: true }] }, 'debug in src/lib.rs');
    assert.match(md, /^# Why \w+\?/);
    assert.match(md, /\| a\\\|b \| — \| — \| unknown \| x\\\|y \|/);
  });

  it('keeps the old task-only entry point for callers without a file', () => {
    const d = routeByTask('r', 'debug', settings);
    assert.deepEqual(ids(d), ['coder', 'big']);
    assert.equal(httpProvider(d.chosen.provider).baseUrl, 'https://api.example.com/v1');
  });
});
