import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LearningState } from '../../../src/core/learn/learner';
import type { Outcome } from '../../../src/core/learn/outcomes';
import type { DecisionRecord } from '../../../src/core/route/decisionRecord';
import type { ActionResult } from '../../../src/vscode/actions/actionPipeline';
import type { ExplainCommandResult } from '../../../src/vscode/commands/explainSelection';
import type { LearningStateReport } from '../../../src/vscode/commands/learningCommands';
import { MockLlmServer } from '../../mock/mockLlmServer';
import { eventually, explainGreeterLine, openFixture, sleep, userSettings, workspaceRoot } from '../vscodeHelpers';

const KEYS = ['providers', 'models', 'routing.mode', 'routing.priceWeight', 'learning.enabled', 'learning.explore', 'learning.shareAcrossWorkspaces'] as const;

/**
 * Performance mode over two chat models: `learn-cheap` (tier prior 0.8, a fiftieth of the price)
 * and `learn-code` (prior 0.83). At price weight 0.3 the cheap one wins on priors; a few 👎 on its
 * explanations (about ten: each bucket borrows eight observations' worth from the one above)
 * bring its learned acceptance below what the code model's price costs that one.
 */
const MODELS = [
  { id: 'learn-cheap', provider: 'learn', name: 'cheap-v1', tags: ['cheap'], price: { inputPerMTok: 0.1, outputPerMTok: 0.4 } },
  { id: 'learn-code', provider: 'learn', name: 'code-v1', tags: ['code'], price: { inputPerMTok: 5, outputPerMTok: 20 } },
];

describe('Learning from accept / reject', () => {
  let server: MockLlmServer;
  let settings: ReturnType<typeof userSettings>;

  before(async () => {
    server = await MockLlmServer.start();
    settings = userSettings(KEYS);
    const set = settings.set;
    await set('providers', [{ id: 'learn', kind: 'openai', baseUrl: server.baseUrl, auth: 'none' }]);
    await set('models', MODELS);
    await set('routing.mode', 'performance');
    await set('routing.priceWeight', 0.3);
    await set('learning.enabled', true);
    // Exploration would make single decisions random; this suite checks what the evidence decides.
    await set('learning.explore', false);
    await set('learning.shareAcrossWorkspaces', false);
    // Whatever earlier suites of this window taught, this one starts from the tier priors.
    assert.equal(await vscode.commands.executeCommand<boolean>('coderoute.resetLearning', { confirm: false }), true);
  });

  after(async () => {
    await vscode.commands.executeCommand('coderoute.resetLearning', { confirm: false });
    await settings.restore();
    await server.close();
  });

  /** Explains the same line of TypeScript: the same kind of request each time. */
  const explain = async () => {
    const result = await explainGreeterLine();
    assert.equal(result.status, 'ok', JSON.stringify(result));
    return result;
  };
  const lastDecision = async () => {
    await openFixture('src/greeter.ts');
    const record = await vscode.commands.executeCommand<DecisionRecord | undefined>('coderoute.whyThisModel');
    assert.ok(record, 'a decision was remembered for the editor');
    return record;
  };
  const rate = (result: ExplainCommandResult, kind: 'thumbsUp' | 'thumbsDown') =>
    vscode.commands.executeCommand<Outcome | undefined>(`coderoute.${kind}`, vscode.Uri.parse(result.documentUri ?? ''));
  const learned = () => vscode.commands.executeCommand<LearningStateReport>('coderoute.learningState');
  const pAccept = (record: DecisionRecord, modelId: string) => record.candidates.find((c) => c.modelId === modelId)?.pAccept ?? NaN;

  it('rejections of one model in a kind of request make the next decision there pick the other, saying it learned', async () => {
    let result = await explain();
    assert.equal(result.modelId, 'learn-cheap');
    const before = await lastDecision();
    assert.equal(before.mode, 'performance');
    assert.match(before.reason, /→ learn-cheap: best score among 2 \(acceptance [\d.]+ by tier prior/);
    const priorCheap = pAccept(before, 'learn-cheap');

    let rejections = 0;
    while (result.modelId === 'learn-cheap' && rejections < 15) {
      const rated = await rate(result, 'thumbsDown');
      assert.equal(rated?.modelId, 'learn-cheap');
      rejections++;
      result = await explain();
    }
    assert.equal(result.modelId, 'learn-code', `${rejections} 👎 moved this kind of request to the other model`);
    const after = await lastDecision();
    assert.equal(after.chosen.model, 'learn-code');
    assert.equal(after.decidedBy, 'estimate');
    assert.ok(pAccept(after, 'learn-cheap') < priorCheap, `the cheap model's acceptance fell from ${priorCheap} to ${pAccept(after, 'learn-cheap')}`);
    assert.equal((server.requests[server.requests.length - 1]?.body as { model: string }).model, 'code-v1');

    // A 👍 for the new model: the next decision rests on learned signals for the model it picks too.
    await rate(result, 'thumbsUp');
    const confirmed = await explain();
    assert.equal(confirmed.modelId, 'learn-code');
    assert.match((await lastDecision()).reason, /→ learn-code: best score among 2 \(acceptance [\d.]+ learned from 1 signal\b/);

    const report = await learned();
    assert.equal(report.enabled, true);
    assert.deepEqual(Object.keys(report.state.models).sort(), ['learn-cheap', 'learn-code']);
    assert.equal(Math.round(report.state.models['learn-cheap']['*'][1]), rejections, 'one observation of the cheap model per 👎');
    assert.equal(report.state.models['learn-cheap']['*'][0], 0, 'none of them an acceptance');
  });

  it('saves the state to learning.json in the workspace storage a moment after the signals', async () => {
    const { file } = await learned();
    assert.ok(file, 'the state has a file');
    assert.equal(path.basename(file), 'learning.json');
    assert.ok(!file.startsWith(workspaceRoot().fsPath), 'kept in the extension storage, not in the workspace');
    const saved = await eventually(() => {
      if (!existsSync(file)) return undefined;
      const state = JSON.parse(readFileSync(file, 'utf8')) as LearningState;
      return state.models['learn-code'] ? state : undefined;
    }, 'the debounced save', 10_000);
    assert.equal(saved.format, 'coderoute-learning');
    assert.equal(saved.version, 3);
    assert.ok(saved.models['learn-cheap']['*'][1] >= 1);
    // Each first answer is also kept once, in the finest bucket of its request (the fit's rows).
    const leaves = Object.values(saved.leaves?.['learn-cheap'] ?? {});
    assert.equal(Math.round(leaves.reduce((sum, counts) => sum + counts[1], 0)), Math.round(saved.models['learn-cheap']['*'][1]), 'as many answers in the leaves as in the overall bucket');
  });

  it('exports the state as pretty JSON to the file given', async () => {
    const target = vscode.Uri.joinPath(workspaceRoot(), '..', 'exported-learning.json');
    const written = await vscode.commands.executeCommand<vscode.Uri | undefined>('coderoute.exportLearning', target);
    assert.equal(written?.toString(), target.toString());
    const text = readFileSync(target.fsPath, 'utf8');
    assert.match(text, /^\{\n {2}"format": "coderoute-learning",\n {2}"version": 3,/);
    assert.deepEqual(Object.keys((JSON.parse(text) as LearningState).models).sort(), ['learn-cheap', 'learn-code']);
  });

  it('Reset Learning forgets it all, on disk too, and the first choice comes back', async () => {
    assert.equal(await vscode.commands.executeCommand<boolean>('coderoute.resetLearning', { confirm: false }), true);
    const report = await learned();
    assert.deepEqual(report.state.models, {});
    assert.deepEqual(report.state.requests, []);
    assert.ok(report.file);
    assert.deepEqual((JSON.parse(readFileSync(report.file, 'utf8')) as LearningState).models, {}, 'the reset is saved at once');

    const again = await explain();
    assert.equal(again.modelId, 'learn-cheap');
    assert.match((await lastDecision()).reason, /→ learn-cheap: best score among 2 \(acceptance [\d.]+ by tier prior/);
  });

  it('Retry with a Stronger Model routes again knowing what was rejected, and that counts as a rejection; with nothing stronger it sends and records nothing', async () => {
    const first = await explain();
    assert.equal(first.modelId, 'learn-cheap');
    const retried = await vscode.commands.executeCommand<ActionResult>('coderoute.retryStronger');
    assert.equal(retried.status, 'ok', JSON.stringify(retried));
    assert.equal(retried.modelId, 'learn-code');
    const record = await lastDecision();
    assert.match(record.reason, /^Retry after learn-cheap was rejected → learn-code\. .*after learn-cheap was rejected/);
    assert.match(record.candidates.find((c) => c.modelId === 'learn-cheap')?.note ?? '', /rejected/);

    const report = await learned();
    assert.deepEqual(report.state.models['learn-cheap']?.['*']?.slice(0, 2), [0, 1], 'the retry is a rejection of the first answer');
    assert.ok(
      report.state.requests.some(([id, model, keys]) => id === retried.requestId && model === 'learn-code' && keys.every((k) => !k.startsWith('task=')) && keys.some((k) => k.startsWith('after=learn-cheap'))),
      'the retried answer is recorded in the escalation buckets',
    );

    // Nothing is stronger than the code model here: the message says so, and nothing is sent.
    const requests = server.requests.length;
    const none = await vscode.commands.executeCommand<ActionResult>('coderoute.retryStronger');
    assert.equal(none.status, 'blocked');
    assert.equal(server.requests.length, requests);
    // A retry that sent nothing rejects nothing: the code model's answer keeps its standing.
    const recorded = await vscode.commands.executeCommand<Outcome[]>('coderoute.outcomes');
    assert.ok(recorded.some((o) => o.requestId === first.requestId && o.kind === 'retried-stronger'), 'the retry that was sent is recorded');
    assert.deepEqual(recorded.filter((o) => o.requestId === retried.requestId).map((o) => o.kind), [], 'nothing is recorded for the answer that was not retried');
  });

  it('shares one state across workspaces when asked; a corrupt shared file is set aside, and the workspace state stays', async () => {
    const own = await learned();
    assert.ok(own.file && Object.keys(own.state.models).length > 0, 'the workspace has learned something');
    await eventually(() => existsSync(own.file ?? ''), 'the workspace state on disk');
    // VS Code keeps <user data>/User/workspaceStorage/<workspace>/<extension> and <user data>/User/globalStorage/<extension>.
    const extensionFolder = path.dirname(own.file);
    const globalFile = path.join(path.dirname(path.dirname(path.dirname(extensionFolder))), 'globalStorage', path.basename(extensionFolder), 'learning.json');
    const truncated = '{"format":"coderoute-learning","version":1,"savedAt":"2024-05-01T00:00:00.000Z","models":{"learn-cheap":{"*":[0,';
    mkdirSync(path.dirname(globalFile), { recursive: true });
    writeFileSync(globalFile, truncated);

    const switchedTo = async (file: string) => {
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(100)) {
        const report = await learned();
        if (report.file === file) return report;
      }
      assert.fail(`the learning state did not move to ${file}`);
    };
    await settings.set('learning.shareAcrossWorkspaces', true);
    try {
      const shared = await switchedTo(globalFile);
      assert.deepEqual(shared.state.models, {}, 'nothing usable was in the shared file');
      const setAside = readdirSync(path.dirname(globalFile)).filter((name) => /^learning\.corrupt-.+\.json$/.test(name));
      assert.equal(setAside.length, 1, readdirSync(path.dirname(globalFile)).join(', '));
      assert.equal(readFileSync(path.join(path.dirname(globalFile), setAside[0]), 'utf8'), truncated, 'set aside byte for byte');

      await rate(await explain(), 'thumbsDown');
      const sharedState = await eventually(() => existsSync(globalFile) && (JSON.parse(readFileSync(globalFile, 'utf8')) as LearningState), 'the shared state saved');
      assert.deepEqual(Object.keys(sharedState.models), ['learn-cheap']);
    } finally {
      await settings.set('learning.shareAcrossWorkspaces', false);
    }
    const back = await switchedTo(own.file);
    assert.deepEqual(back.state.models, own.state.models, 'the workspace state is as it was');
  });

  it('with learning off, routing uses the tier priors and records nothing', async () => {
    await vscode.commands.executeCommand('coderoute.resetLearning', { confirm: false });
    await settings.set('learning.enabled', false);
    try {
      const result = await explain();
      assert.equal(result.modelId, 'learn-cheap');
      await rate(result, 'thumbsDown');
      const report = await learned();
      assert.equal(report.enabled, false);
      assert.deepEqual(report.state.models, {});
      assert.deepEqual(report.state.requests, []);
    } finally {
      await settings.set('learning.enabled', true);
    }
  });
});
