import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { DecisionRecord } from '../../../src/core/route/decisionRecord';
import type { RepoPolicyStatus } from '../../../src/vscode/policy/repoPolicy';
import { MockLlmServer } from '../../mock/mockLlmServer';
import { removePolicy, stateWhere, writePolicy } from '../repoPolicyFile';
import { eventually, explainGreeterLine, openFixture, userSettings } from '../vscodeHelpers';

const KEYS = ['providers', 'models', 'tasks.explain', 'routing.mode'] as const;

describe('Why This Model? and a workspace policy changing a decision', () => {
  let server: MockLlmServer;
  let settings: ReturnType<typeof userSettings>;

  before(async () => {
    server = await MockLlmServer.start();
    settings = userSettings(KEYS);
    await settings.set('providers', [{ id: 'why', kind: 'openai', baseUrl: server.baseUrl, auth: 'none' }]);
    await settings.set('models', [
      { id: 'why-first', provider: 'why', name: 'first-v1', tags: ['code'], price: { inputPerMTok: 3, outputPerMTok: 15 } },
      { id: 'why-second', provider: 'why', name: 'second-v1', tags: ['cheap'], price: { inputPerMTok: 0.1, outputPerMTok: 0.4 } },
    ]);
    await settings.set('tasks.explain', ['why-first', 'why-second']);
    await settings.set('routing.mode', 'task');
    await removePolicy();
  });

  after(async () => {
    await removePolicy();
    await settings.restore();
    await server.close();
  });

  const explain = explainGreeterLine;
  const why = async () => {
    // "Why This Model?" answers for the active editor: the code, not the explanation beside it.
    await openFixture('src/greeter.ts');
    return vscode.commands.executeCommand<DecisionRecord | undefined>('coderoute.whyThisModel');
  };

  it('shows the last decision for the editor: the model, the rule or setting, the candidates and their costs', async () => {
    const result = await explain();
    assert.equal(result.status, 'ok', JSON.stringify(result));
    assert.equal(result.modelId, 'why-first');
    const record = await why();
    assert.ok(record, 'a decision was remembered for the editor');
    assert.equal(record.chosen.model, 'why-first');
    assert.equal(record.requestId, result.requestId);
    assert.match(record.reason, /→ why-first: coderoute\.tasks\.explain, est\. \$/);
    assert.deepEqual(record.candidates.map((c) => c.modelId), ['why-first', 'why-second']);
    assert.ok(record.candidates.every((c) => typeof c.estCostUsd === 'number'));
    const shown = await eventually(
      () => vscode.window.visibleTextEditors.find((e) => e.document.uri.scheme === 'coderoute-why'),
      'the Why This Model view',
    );
    assert.equal(shown.document.languageId, 'markdown');
    assert.match(shown.document.getText(), /^# Why why-first\?/);
    assert.match(shown.document.getText(), /\| why-second \|/);
  });

  it('follows an approved workspace policy that denies the model, and says so', async () => {
    await writePolicy('{ "deny": { "models": ["why-first"] } }\n');
    await stateWhere((s) => s.state === 'pending', 'the new policy to wait for approval');
    const before = await explain();
    assert.equal(before.modelId, 'why-first', 'an unapproved policy changes nothing');

    await vscode.commands.executeCommand<RepoPolicyStatus>('coderoute.reviewRepoPolicy', 'approve');
    await stateWhere((s) => s.state === 'applied', 'the policy to apply');
    const after = await explain();
    assert.equal(after.status, 'ok', JSON.stringify(after));
    assert.equal(after.modelId, 'why-second');
    const record = await why();
    assert.equal(record?.chosen.model, 'why-second');
    assert.deepEqual(record?.policyNotes, ['The repository policy denies 1 model(s): why-first.']);
    assert.match(record?.candidates.find((c) => c.modelId === 'why-first')?.note ?? '', /denied by the repository policy/);
    assert.equal(server.requests.filter((r) => (r.body as { model?: string }).model === 'first-v1').length, 2, 'the denied model got no request after the policy applied');
  });
});

describe('The walkthrough', () => {
  it('opens from a clean profile, at its first step', async () => {
    await vscode.commands.executeCommand('workbench.action.openWalkthrough', 'coderoute.coderoute#coderoute.getStarted', false);
    const tab = await eventually(
      () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => /Welcome|Get started with CodeRoute|Walkthrough/i.test(t.label)),
      'the walkthrough tab',
      30_000,
    );
    assert.ok(tab.label.length > 0);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });
});
