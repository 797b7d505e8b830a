import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { Outcome } from '../../../src/core/learn/outcomes';
import type { ExplainCommandResult } from '../../../src/vscode/commands/explainSelection';
import { MockLlmServer } from '../../mock/mockLlmServer';
import { eventually, explainGreeterLine, sleep, userSettings } from '../vscodeHelpers';

const KEYS = ['providers', 'models', 'tasks.explain'] as const;

function config() {
  return vscode.workspace.getConfiguration('coderoute');
}

/** What a new user trips over, in the real extension host (issue 18). */
describe('First contact: messages that say where a value came from and what to do', () => {
  let server: MockLlmServer;
  let settings: ReturnType<typeof userSettings>;

  before(async () => {
    server = await MockLlmServer.start();
    settings = userSettings(KEYS);
  });

  afterEach(async () => {
    await config().update('tasks.explain', undefined, vscode.ConfigurationTarget.Workspace);
    await settings.restore();
  });

  after(async () => {
    await server.close();
  });

  const useMock = async (auth: 'none' | 'apiKey') => {
    await settings.set('providers', [{ id: 'first', kind: 'openai', baseUrl: server.baseUrl, auth }]);
    await settings.set('models', [{ id: 'first-small', provider: 'first', name: 'small-v1', tags: ['cheap'] }]);
    await settings.set('tasks.explain', 'first-small');
  };

  it('a model named only in .vscode/settings.json: the message says the value is the workspace\'s and offers to open that file', async () => {
    await useMock('none');
    await config().update('tasks.explain', 'evil-model', vscode.ConfigurationTarget.Workspace);
    server.reset();
    const result: ExplainCommandResult = await explainGreeterLine();
    assert.equal(result.status, 'error', JSON.stringify(result));
    assert.equal(result.errorKind, 'config');
    assert.match(result.message ?? '', /^Model "evil-model" named by coderoute\.tasks\.explain is not in coderoute\.models\. The value of coderoute\.tasks\.explain comes from the workspace settings \(\.vscode\/settings\.json\), not from your user settings\.$/);
    assert.equal(result.actions?.[0], 'Open Workspace Settings');
    assert.equal(server.requests.length, 0);
  });

  it('the same value in the user settings: the message says so and offers the user settings file', async () => {
    await useMock('none');
    await settings.set('tasks.explain', 'user-typo-model');
    const result: ExplainCommandResult = await explainGreeterLine();
    assert.equal(result.errorKind, 'config', JSON.stringify(result));
    assert.match(result.message ?? '', /The value of coderoute\.tasks\.explain is in your user settings\.$/);
    assert.equal(result.actions?.[0], 'Open User Settings');
  });

  it('nothing configured and no model found: the first action sends nothing and offers Add Provider instead of a bare error (issue 16)', async () => {
    for (const key of KEYS) await settings.set(key, undefined);
    server.reset();
    const result: ExplainCommandResult = await explainGreeterLine();
    assert.equal(result.status, 'error', JSON.stringify(result));
    assert.equal(result.errorKind, 'no-model');
    assert.match(result.message ?? '', /^Explain needs a model, and none is set up yet: nothing was sent\. Add a provider/);
    assert.deepEqual(result.actions, ['Add Provider', 'Detect Models']);
    assert.equal(server.requests.length, 0);
  });

  it('a provider the user chose without a key: the message names it and where the model was chosen', async () => {
    await useMock('apiKey');
    await vscode.commands.executeCommand('coderoute.clearApiKey', 'first');
    server.reset();
    const result: ExplainCommandResult = await explainGreeterLine();
    assert.equal(result.errorKind, 'missing-key', JSON.stringify(result));
    assert.equal(result.message, 'Explain was routed to first-small (coderoute.tasks.explain in your user settings) on your provider first, which has no API key set.');
    assert.deepEqual(result.actions, ['Set API Key', 'Open Settings']);
    assert.equal(server.requests.length, 0);
  });

  it('👍 from the palette rates the explanation beside the code before it has focus', async () => {
    await useMock('none');
    server.enqueue({ kind: 'reply', text: 'It makes an empty list.' });
    const result = await explainGreeterLine();
    assert.equal(result.status, 'ok', JSON.stringify(result));
    // The explanation opens beside the code without taking focus.
    assert.equal(vscode.window.activeTextEditor?.document.uri.scheme, 'file');
    await eventually(() => vscode.window.visibleTextEditors.some((e) => e.document.uri.toString() === result.documentUri), 'the explanation is visible');
    const rated = await vscode.commands.executeCommand<Outcome | undefined>('coderoute.thumbsUp');
    assert.equal(rated?.requestId, result.requestId, 'the visible explanation is rated');
    assert.equal(rated?.kind, 'thumbs-up');
    await sleep(50);
  });
});
