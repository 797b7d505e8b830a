import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { versionAtLeast } from '../../host/testResults';

/** Runs in every host: the chat models are feature-detected, never assumed. */
describe('Chat models where VS Code has them, and nowhere else', () => {
  it('offers CodeRoute’s chat models exactly when this VS Code has the Language Model Chat Provider API (1.104 and later)', async () => {
    const hasApi = typeof (vscode.lm as { registerLanguageModelChatProvider?: unknown }).registerLanguageModelChatProvider === 'function';
    assert.equal(hasApi, versionAtLeast(vscode.version, '1.104.0'), `VS Code ${vscode.version}`);
    const state = await vscode.commands.executeCommand<{ available: boolean }>('coderoute.chatState');
    assert.equal(state.available, hasApi);
    const ours = await vscode.lm.selectChatModels({ vendor: 'coderoute' });
    if (!hasApi) assert.deepEqual(ours, [], 'no CodeRoute models in a VS Code without the API');
    else assert.ok(ours.some((m) => m.name === 'CodeRoute Auto'), ours.map((m) => m.name).join(', '));
  });
});
