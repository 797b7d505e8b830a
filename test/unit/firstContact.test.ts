import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse, type ParseError } from 'jsonc-parser';
import { missingKeyMessage, noModelMessage, scopeOf, settingErrorMessage, settingKeyOf } from '../../src/core/config/settingOrigin';
import { REPO_ROOT } from './repoRoot';

const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  contributes: { walkthroughs: { id: string; steps: { media: { markdown?: string } }[] }[]; menus: Record<string, { command: string; when?: string }[]> };
};

describe('first contact: where a value came from, the missing key, the walkthrough, rating', () => {
  it('finds the scope of the value in effect: folder, workspace, user or default', () => {
    assert.equal(scopeOf({ defaultValue: 'cheap', globalValue: ['mini'], workspaceValue: 'evil-model' }, 'evil-model'), 'workspace');
    assert.equal(scopeOf({ defaultValue: 'cheap', workspaceValue: 'a', workspaceFolderValue: ['b'] }, ['b']), 'folder');
    assert.equal(scopeOf({ defaultValue: 'cheap', globalValue: ['mini', 'big'] }, ['mini', 'big']), 'user');
    assert.equal(scopeOf({ defaultValue: 'cheap' }, 'cheap'), 'default');
    assert.equal(scopeOf(undefined, 'cheap'), 'default');
    // Restricted Mode: VS Code ignores the workspace's value, and the user's applies.
    assert.equal(scopeOf({ defaultValue: 'cheap', globalValue: 'mini', workspaceValue: 'evil-model' }, 'mini'), 'user');
  });

  it('names the workspace file a breaking value came from, not the user settings', () => {
    const message = settingErrorMessage('Model "evil-model" named by coderoute.tasks.explain is not in coderoute.models.', 'coderoute.tasks.explain', 'workspace');
    assert.equal(
      message,
      'Model "evil-model" named by coderoute.tasks.explain is not in coderoute.models. The value of coderoute.tasks.explain comes from the workspace settings (.vscode/settings.json), not from your user settings.',
    );
    assert.match(settingErrorMessage('x.', 'coderoute.tasks.explain', 'workspace', 'team.code-workspace'), /the workspace settings \(team\.code-workspace\)/);
    assert.match(settingErrorMessage('x.', 'coderoute.tasks.explain', 'folder'), /this folder's settings \(\.vscode\/settings\.json\)/);
    assert.match(settingErrorMessage('x.', 'coderoute.tasks.explain', 'user'), /is in your user settings\.$/);
    assert.equal(settingKeyOf('coderoute.routing.rules (debug-heavy)'), 'routing.rules');
    assert.equal(settingKeyOf('coderoute.tasks.explain'), 'tasks.explain');
    assert.equal(settingKeyOf('file'), undefined);
  });

  it('a missing key on the default provider names the routed model and where it came from, not a provider the user never chose', () => {
    const message = missingKeyMessage({ action: 'Explain', modelId: 'gpt-4.1-mini', providerId: 'openai', modelSetting: 'coderoute.tasks.explain', modelScope: 'default', providerScope: 'default' });
    assert.doesNotMatch(message, /openai/i);
    assert.match(message, /^Explain was routed to gpt-4\.1-mini \(CodeRoute's default for coderoute\.tasks\.explain\)/);
    assert.match(message, /walkthrough/);
    const chosen = missingKeyMessage({ action: 'Debug / Fix', modelId: 'sonnet', providerId: 'anthropic', modelSetting: 'coderoute.tasks.debug', modelScope: 'workspace', providerScope: 'user' });
    assert.equal(chosen, 'Debug / Fix was routed to sonnet (coderoute.tasks.debug in the workspace settings (.vscode/settings.json)) on your provider anthropic, which has no API key set.');
  });

  it('no model configured at all: the first action says nothing was sent and how to get a model (issue 16)', () => {
    assert.equal(
      noModelMessage('Explain'),
      'Explain needs a model, and none is set up yet: nothing was sent. Add a provider (OpenAI, Anthropic, a local server such as Ollama, …), or detect the models VS Code and a local Ollama offer.',
    );
  });

  it("the walkthrough's examples fit its pane (56 columns at most) and are valid JSON", () => {
    for (const step of pkg.contributes.walkthroughs[0].steps) {
      if (!step.media.markdown) continue;
      const text = readFileSync(path.join(REPO_ROOT, step.media.markdown), 'utf8');
      for (const [, language, body] of text.matchAll(/^```(\w*)\n([\s\S]*?)^```/gm)) {
        for (const line of body.split('\n')) assert.ok(line.length <= 56, `${step.media.markdown}: ${line.length} columns: ${line}`);
        if (language.startsWith('json')) {
          const errors: ParseError[] = [];
          parse(`{${body}}`, errors, { allowTrailingComma: true });
          assert.deepEqual(errors, [], `${step.media.markdown}: the example is JSON`);
        }
      }
    }
  });

  it('👍 / 👎 are in the palette while an explanation is visible, not only once it has focus', () => {
    for (const command of ['coderoute.thumbsUp', 'coderoute.thumbsDown']) {
      const entry = pkg.contributes.menus.commandPalette.find((m) => m.command === command);
      assert.match(entry?.when ?? '', /coderoute\.explanationVisible/, command);
    }
  });
});
