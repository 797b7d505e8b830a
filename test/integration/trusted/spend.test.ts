import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { BudgetStatus } from '../../../src/core/spend/spendSource';
import { MockLlmServer } from '../../mock/mockLlmServer';
import { explainGreeterLine, sleep, userSettings } from '../vscodeHelpers';

const KEYS = ['providers', 'models', 'tasks.explain', 'routing.mode', 'budget.dailyUsd', 'budget.onLimit', 'request.maxOutputTokens'] as const;

interface SpendStatus {
  text: string;
  tooltip: string;
  background?: string;
  file?: string;
  budgets?: BudgetStatus[];
  settled: number;
}

/**
 * Two chat models on the mock server: `spend-pricey` ($20 / $80 per million tokens, tagged code)
 * and `spend-cheap` ($0.10 / $0.40, tagged cheap). Explain uses the pricey one first.
 */
describe('Spend: the ledger, budgets and the status bar in a real VS Code', () => {
  let server: MockLlmServer;
  let settings: ReturnType<typeof userSettings>;
  const status = () => vscode.commands.executeCommand<SpendStatus>('coderoute.spendStatus');

  before(async () => {
    server = await MockLlmServer.start();
    settings = userSettings(KEYS);
    await settings.set('providers', [{ id: 'spend', kind: 'openai', baseUrl: server.baseUrl, auth: 'none' }]);
    await settings.set('models', [
      { id: 'spend-pricey', provider: 'spend', name: 'pricey-v1', tags: ['code'], price: { inputPerMTok: 20, outputPerMTok: 80 } },
      { id: 'spend-cheap', provider: 'spend', name: 'cheap-v1', tags: ['cheap'], price: { inputPerMTok: 0.1, outputPerMTok: 0.4 } },
    ]);
    await settings.set('tasks.explain', ['spend-pricey']);
    await settings.set('routing.mode', 'task');
    await settings.set('request.maxOutputTokens', 1000);
  });

  after(async () => {
    await settings.restore();
    await server.close();
  });

  const explain = explainGreeterLine;

  it('settles each request in the ledger and shows today’s spend and the cheap share in the status bar', async () => {
    await settings.set('budget.dailyUsd', 50);
    const before = await status();
    server.reset();
    const result = await explain();
    assert.equal(result.status, 'ok', JSON.stringify(result));
    const after = await status();
    assert.equal(after.settled, before.settled + 1);
    assert.ok(after.file && existsSync(after.file), 'the ledger is a file in global storage');
    const lines = readFileSync(after.file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; requestId: string; model?: string; usd?: number });
    const mine = lines.filter((l) => l.requestId === result.requestId);
    assert.deepEqual(mine.map((l) => l.type), ['reserve', 'settle']);
    assert.equal(mine[1].model, 'spend-pricey');
    assert.ok((mine[1].usd ?? 0) > 0);
    assert.match(after.text, /^\$\(graph\) \$[\d.]+ \/ \$50\.00( · \d+% cheap)?$/);
    assert.match(after.tooltip, /\| spend\\-pricey \| \$/, 'today by model, names escaped as Markdown');
    assert.match(after.tooltip, /command:coderoute\.showSpend/);
    const daily = after.budgets?.find((b) => b.id === 'daily');
    assert.ok(daily && daily.spentUsd > (before.budgets?.find((b) => b.id === 'daily')?.spentUsd ?? 0));
  });

  it('stops at a budget that says stop: nothing is sent, and the reason is shown', async () => {
    const spent = (await status()).budgets?.find((b) => b.id === 'daily')?.spentUsd ?? 0;
    // Room for far less than one answer of the pricey model (1,000 output tokens at $80 per million = $0.08).
    await settings.set('budget.dailyUsd', Number((spent + 0.001).toFixed(6)));
    await settings.set('budget.onLimit', { daily: 'stop', monthly: 'stop', perTask: 'stop' });
    server.reset();
    const result = await explain();
    assert.equal(result.status, 'blocked', JSON.stringify(result));
    assert.equal(server.requests.length, 0, 'nothing reached the model');
  });

  it('colours the status bar at the thresholds: warning from the first, error from the last', async () => {
    const spent = (await status()).budgets?.find((b) => b.id === 'daily')?.spentUsd ?? 0;
    await settings.set('budget.dailyUsd', Number((spent / 0.6).toFixed(6)));
    const colour = async (expected: string | undefined) => {
      for (let i = 0; i < 50 && (await status()).background !== expected; i++) await sleep(20);
      assert.equal((await status()).background, expected);
    };
    await colour('statusBarItem.warningBackground');
    await settings.set('budget.dailyUsd', Number((spent / 0.95).toFixed(6)));
    await colour('statusBarItem.errorBackground');
    await settings.set('budget.dailyUsd', 50);
    await colour(undefined);
  });

  it('steps down to a model whose answer fits what is left when the budget says step down', async () => {
    const spent = (await status()).budgets?.find((b) => b.id === 'daily')?.spentUsd ?? 0;
    await settings.set('budget.dailyUsd', Number((spent + 0.01).toFixed(6)));
    await settings.set('budget.onLimit', { daily: 'step-down', monthly: 'stop', perTask: 'step-down' });
    server.reset();
    const result = await explain();
    assert.equal(result.status, 'ok', JSON.stringify(result));
    assert.equal(result.modelId, 'spend-cheap');
    assert.equal(server.requests.length, 1);
    assert.equal((server.requests[0].body as { model: string }).model, 'cheap-v1');
    const daily = (await status()).budgets?.find((b) => b.id === 'daily');
    assert.ok(daily && daily.spentUsd + daily.reservedUsd <= daily.limitUsd + 1e-12, 'the budget held');
  });
});
