import * as assert from 'node:assert/strict';
import type { Attempt, ChatRunResult } from '../../src/core/actions/runChatAttempt';
import { parseSettings, type SettingKey } from '../../src/core/config/settingsSchema';
import { priceOf } from '../../src/core/route/pricing';
import { routeByTask } from '../../src/core/route/routeDecision';
import { costSampleFor, reservationFor, settlementFor, stepDown } from '../../src/core/spend/charges';
import { statusView } from '../../src/core/spend/statusText';
import type { BudgetStatus } from '../../src/core/spend/spendSource';

const settings = (() => {
  const raw: Record<string, unknown> = {
    providers: [
      { id: 'cloud', kind: 'openai', baseUrl: 'https://api.example.com/v1' },
      { id: 'local', kind: 'openai', baseUrl: 'http://127.0.0.1:11434/v1', auth: 'none' },
    ],
    models: [
      { id: 'big', provider: 'cloud', name: 'big', tags: ['strong'], price: { inputPerMTok: 10, outputPerMTok: 40 } },
      { id: 'small', provider: 'cloud', name: 'small', tags: ['cheap'], price: { inputPerMTok: 0.5, outputPerMTok: 2 } },
      { id: 'mystery', provider: 'cloud', name: 'no-such-model-anywhere', tags: [] },
      { id: 'free', provider: 'local', name: 'qwen', tags: ['local'] },
    ],
    'tasks.debug': ['big', 'small'],
    'tasks.generate': ['mystery'],
    'tasks.explain': ['free'],
  };
  return parseSettings((key: SettingKey) => raw[key]).settings;
})();

const attempt = (modelId: string, input: number, output: number, extra: Partial<Attempt> = {}): Attempt => ({
  requestId: 'r', task: 'debug', modelId, providerId: 'cloud', status: 'ok', inputTokens: input, outputTokens: output, usageEstimated: false, latencyMs: 100, ...extra,
});
const ctx = { language: 'rust', at: 1, prices: priceOf, catalogue: settings, unknown: 'highest-known' as const };

describe('spend charges', () => {
  const decision = routeByTask('r', 'debug', settings);

  it('reserves the most any model of the chain can cost: the prompt and the whole output allowance', () => {
    const r = reservationFor(decision, { input: 1000, maxOutput: 2000 }, priceOf, settings, 'highest-known');
    assert.ok('usd' in r);
    assert.ok(Math.abs(r.usd - (1000 * 10 + 2000 * 40) / 1e6) < 1e-12, `${r.usd}`);
  });

  it('charges a model with no known price at the highest known price, or names it when that is refused', () => {
    const unknown = routeByTask('g', 'generate', settings);
    const r = reservationFor(unknown, { input: 1000, maxOutput: 1000 }, priceOf, settings, 'highest-known');
    assert.ok('usd' in r && r.usd > 0, 'never as free');
    assert.deepEqual(reservationFor(unknown, { input: 1000, maxOutput: 1000 }, priceOf, settings, 'refuse'), { unpriced: 'mystery' });
  });

  it('tells the learner what the answering model cost against the price list’s estimate for it (issue 17)', () => {
    const run: ChatRunResult = {
      attempts: [attempt('big', 1000, 0, { status: 'error', errorKind: 'server' }), attempt('small', 3000, 1500)],
      answeredBy: decision.fallbacks[0],
      result: { text: 'ok', usage: { inputTokens: 3000, outputTokens: 1500, estimated: false } },
    };
    const sample = costSampleFor(decision, run, ctx);
    const small = decision.candidates.find((c) => c.modelId === 'small');
    assert.ok(sample && small?.estCostUsd);
    assert.equal(sample.estimatedUsd, small.estCostUsd);
    assert.ok(Math.abs(sample.actualUsd - (3000 * 0.5 + 1500 * 2) / 1e6) < 1e-12, 'the answering attempt only, at its price');
    // Against the price list, not an estimate that already holds what was learned.
    const learned = { ...decision, candidates: decision.candidates.map((c) => (c.modelId === 'small' ? { ...c, estCostUsd: 1, listCostUsd: small.estCostUsd } : c)) };
    assert.equal(costSampleFor(learned, run, ctx)?.estimatedUsd, small.estCostUsd);
    assert.equal(costSampleFor(decision, { attempts: run.attempts }, ctx), undefined, 'no answer, nothing to learn');
  });

  it('settles every attempt at its own price, a cancelled stream for what it produced, and the counterfactual at the dearest model', () => {
    const run: ChatRunResult = {
      attempts: [attempt('big', 1000, 0, { status: 'error', errorKind: 'server' }), attempt('small', 1000, 500)],
      answeredBy: decision.fallbacks[0],
      result: { text: 'ok', usage: { inputTokens: 1000, outputTokens: 500, estimated: false } },
    };
    const line = settlementFor(decision, run, ctx);
    assert.ok(line);
    assert.equal(line.model, 'small');
    assert.equal(line.fallbackUsed, true);
    assert.equal(line.attempts, 2);
    assert.ok(Math.abs(line.usd - (1000 * 10 + 1000 * 0.5 + 500 * 2) / 1e6) < 1e-12);
    assert.ok(Math.abs((line.counterfactualUsd ?? 0) - (1000 * 10 + 500 * 40) / 1e6) < 1e-12);
    assert.deepEqual(line.tags, ['cheap']);
    const cancelled = settlementFor(decision, { attempts: [attempt('big', 800, 120, { status: 'cancelled' })] }, ctx);
    assert.equal(cancelled?.status, 'cancelled');
    assert.ok(Math.abs((cancelled?.usd ?? 0) - (800 * 10 + 120 * 40) / 1e6) < 1e-12);
    assert.equal(settlementFor(decision, { attempts: [attempt('big', 0, 0, { status: 'error' })] }, ctx), undefined, 'refused before anything was sent: released');
  });

  it('steps down to the models of the chain whose most expensive answer fits what is left', () => {
    const tokens = { input: 1000, maxOutput: 2000 };
    assert.deepEqual(stepDown(decision, 0.01, tokens, priceOf, settings, 'highest-known').map((r) => r.model.id), ['small']);
    assert.deepEqual(stepDown(decision, 0.001, tokens, priceOf, settings, 'highest-known'), []);
  });
});

describe('spend status bar text', () => {
  const budget = (share: number): BudgetStatus => ({ id: 'daily', label: 'Daily', limitUsd: 2, spentUsd: share * 2, reservedUsd: 0, share, level: 0, onLimit: 'stop' });
  const today = { usd: 0.42, requests: 12, cheap: 10, byTask: new Map([['debug', 0.3], ['explain', 0.12]]), byModel: new Map([['big', 0.4], ['small_[1]', 0.02]]) };

  it('shows today against the daily budget and the cheap share, with the breakdown and command links', () => {
    const view = statusView(today, [budget(0.21)], [0.5, 0.75, 0.9]);
    assert.equal(view.text, '$(graph) $0.42 / $2.00 · 83% cheap');
    assert.equal(view.severity, 'normal');
    assert.match(view.tooltip, /\| debug \| \$0\.30 \|/);
    assert.match(view.tooltip, /\| small\\_\\\[1\\\] \|/, 'model names are escaped, not markdown');
    assert.match(view.tooltip, /\[Show Spend\]\(command:coderoute\.showSpend\)/);
    assert.match(view.accessibility, /83 percent of requests to cheap models/);
  });

  it('turns to the warning colour at the first threshold and the error colour at the last', () => {
    assert.equal(statusView(today, [budget(0.6)], [0.5, 0.75, 0.9]).severity, 'warning');
    assert.equal(statusView(today, [budget(0.95)], [0.5, 0.75, 0.9]).severity, 'error');
    assert.equal(statusView({ ...today, requests: 0, cheap: 0 }, [], [0.5]).text, '$(graph) $0.42');
  });
});
