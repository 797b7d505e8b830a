import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { versionAtLeast } from '../../host/testResults';
import { eventually, userSettings } from '../vscodeHelpers';

/** Runs in every host: the chat models are feature-detected, never assumed. */
describe('Chat models where VS Code has them, and nowhere else', () => {
  it('offers CodeRoute’s chat models exactly when this VS Code has the Language Model Chat Provider API (1.104 and later)', async () => {
    const hasApi = typeof (vscode.lm as { registerLanguageModelChatProvider?: unknown }).registerLanguageModelChatProvider === 'function';
    assert.equal(hasApi, versionAtLeast(vscode.version, '1.104.0'), `VS Code ${vscode.version}`);
    const state = await vscode.commands.executeCommand<{ available: boolean }>('coderoute.chatState');
    assert.equal(state.available, hasApi);
    // CodeRoute ships with no model (issue 16): the picker's entries come from the user's models.
    const settings = userSettings(['providers', 'models']);
    try {
      await settings.set('providers', [{ id: 'avail', kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', auth: 'none' }]);
      await settings.set('models', [{ id: 'avail-small', provider: 'avail', name: 'small-v1', tags: ['cheap'] }]);
      if (!hasApi) assert.deepEqual(await vscode.lm.selectChatModels({ vendor: 'coderoute' }), [], 'no CodeRoute models in a VS Code without the API');
      else {
        const ours = await eventually(async () => {
          const models = await vscode.lm.selectChatModels({ vendor: 'coderoute' });
          return models.some((m) => m.name === 'CodeRoute Auto') && models;
        }, 'CodeRoute Auto in the chat models');
        assert.ok(ours.length > 0);
      }
    } finally {
      await settings.restore();
    }
  });
});
