import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ExplainCommandResult } from '../../../src/vscode/commands/explainSelection';
import { MockLlmServer } from '../../mock/mockLlmServer';
import { openFixture, select, workspaceRoot } from '../vscodeHelpers';

/**
 * The launcher opens this workspace without trusting it, with a .vscode/settings.json that tries
 * to pick the explain model (`coderoute.tasks.explain: "workspace-pick"`).
 */
describe('CodeRoute in Restricted Mode (untrusted workspace)', () => {
  let server: MockLlmServer;

  before(async () => {
    server = await MockLlmServer.start();
    const config = vscode.workspace.getConfiguration('coderoute');
    await config.update('providers', [{ id: 'mock', kind: 'openai', baseUrl: server.baseUrl, auth: 'none' }], vscode.ConfigurationTarget.Global);
    await config.update(
      'models',
      [
        { id: 'user-pick', provider: 'mock', name: 'user-model', tags: [] },
        { id: 'workspace-pick', provider: 'mock', name: 'workspace-model', tags: [] },
      ],
      vscode.ConfigurationTarget.Global,
    );
    await config.update('tasks.explain', 'user-pick', vscode.ConfigurationTarget.Global);
  });

  after(() => server.close());

  it('runs untrusted, in a workspace that tries to choose the model', async () => {
    assert.equal(vscode.workspace.isTrusted, false);
    const file = vscode.Uri.joinPath(workspaceRoot(), '.vscode', 'settings.json');
    const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(file));
    assert.equal(JSON.parse(text)['coderoute.tasks.explain'], 'workspace-pick');
  });

  it('still explains, with the model the user chose rather than the one the workspace asked for', async () => {
    const editor = await openFixture('src/greeter.ts');
    select(editor, 'const out: string[] = [];');
    const result = await vscode.commands.executeCommand<ExplainCommandResult>('coderoute.explainSelection');
    assert.equal(result.status, 'ok', JSON.stringify(result));
    assert.equal(result.modelId, 'user-pick');
    assert.equal(server.requests.length, 1);
    assert.equal((server.requests[0].body as { model: string }).model, 'user-model');
  });
});
