import * as assert from 'node:assert/strict';
import { defaultSettings, parseSettings, type SettingKey } from '../../src/core/config/settingsSchema';

function parse(values: Partial<Record<SettingKey, unknown>>) {
  return parseSettings((key) => values[key]);
}

describe('settings schema', () => {
  it('gives every setting a default when nothing is set', () => {
    const settings = defaultSettings();
    // No provider a user did not choose: nothing is sent anywhere until they do (issue 16).
    assert.deepEqual(settings.providers, []);
    assert.deepEqual(settings.models, []);
    assert.deepEqual(settings.discovery, { ollama: true, ollamaPort: 11434 });
    assert.deepEqual(settings.tasks.explain, ['cheap'], 'explain goes to the cheap tier');
    assert.deepEqual(settings.tasks.generate, ['code'], 'generate goes to code models');
    assert.equal(settings.request.timeoutSeconds, 120);
    assert.equal(settings.routing.mode, 'hybrid');
    assert.deepEqual(settings.budget, { dailyUsd: 0, monthlyUsd: 0, perTaskDailyUsd: {}, warnAt: [50, 75, 90], onLimit: { daily: 'step-down', monthly: 'stop', perTask: 'step-down' }, unknownPrice: 'highest-known' });
  });

  it('hands out independent copies of default lists', () => {
    defaultSettings().providers.push({ id: 'x', kind: 'openai', baseUrl: 'http://127.0.0.1:1/v1', auth: 'none' });
    assert.equal(defaultSettings().providers.length, 0);
  });

  it('keeps the valid providers and reports the broken one', () => {
    const { settings, issues } = parse({
      providers: [
        { id: 'local', kind: 'openai', baseUrl: 'http://127.0.0.1:11434/v1', auth: 'none' },
        { id: 'broken', kind: 'openai', baseUrl: 'not a url' },
      ],
    });
    assert.deepEqual(settings.providers.map((p) => p.id), ['local']);
    const providerIssues = issues.filter((i) => i.setting.startsWith('coderoute.providers'));
    assert.equal(providerIssues.length, 1);
    assert.equal(providerIssues[0].setting, 'coderoute.providers[1]');
    assert.match(providerIssues[0].message, /baseUrl/);
  });

  it('knows Anthropic and VS Code language-model providers, and which of them need a URL', () => {
    const { settings, issues } = parse({
      providers: [
        { id: 'claude', kind: 'anthropic', baseUrl: 'https://api.anthropic.com' },
        { id: 'copilot', kind: 'vscode-lm' },
        { id: 'no-url', kind: 'anthropic' },
        { id: 'lm-with-url', kind: 'vscode-lm', baseUrl: 'https://example.com' },
      ],
    });
    assert.deepEqual(settings.providers, [
      { id: 'claude', kind: 'anthropic', baseUrl: 'https://api.anthropic.com', auth: 'apiKey' },
      { id: 'copilot', kind: 'vscode-lm', auth: 'none' },
    ]);
    const providerIssues = issues.filter((i) => i.setting.startsWith('coderoute.providers'));
    assert.deepEqual(providerIssues.map((i) => i.setting), ['coderoute.providers[2]', 'coderoute.providers[3]']);
    assert.match(providerIssues[0].message, /needs a baseUrl/);
    assert.match(providerIssues[1].message, /no base URL/);
  });

  it('reads deployments and the balancing policy of a model', () => {
    const { settings, issues } = parse({
      providers: [
        { id: 'a', kind: 'openai', baseUrl: 'http://127.0.0.1:1/v1', auth: 'none' },
        { id: 'b', kind: 'openai', baseUrl: 'http://127.0.0.1:2/v1', auth: 'none' },
      ],
      models: [
        { id: 'm', provider: 'a', name: 'm-v1', deployments: [{ provider: 'b', weight: 3 }], balance: 'least-outstanding' },
        { id: 'n', provider: 'a', name: 'n-v1', deployments: [{ provider: 'gone' }] },
      ],
    });
    assert.deepEqual(issues.map((i) => i.message), ['model "n" has a deployment on provider "gone", which is not in coderoute.providers']);
    assert.deepEqual(settings.models[0].deployments, [{ provider: 'b', weight: 3 }]);
    assert.equal(settings.models[0].balance, 'least-outstanding');
  });

  it('refuses non-http base URLs, which could read local files', () => {
    const { settings, issues } = parse({ providers: [{ id: 'f', kind: 'openai', baseUrl: 'file:///etc/passwd' }] });
    assert.equal(settings.providers.length, 0);
    assert.match(issues[0].message, /http/);
  });

  it('falls back to the default when a list setting is not a list', () => {
    const { settings, issues } = parse({ models: 'gpt-4.1' });
    assert.equal(settings.models.length, defaultSettings().models.length);
    assert.deepEqual(issues, [{ setting: 'coderoute.models', message: 'must be a list; using the default' }]);
  });

  it('drops duplicate ids and flags models whose provider is missing', () => {
    const { settings, issues } = parse({
      providers: [{ id: 'p', kind: 'openai', baseUrl: 'https://example.com/v1' }],
      models: [
        { id: 'a', provider: 'p', name: 'a' },
        { id: 'a', provider: 'p', name: 'a2' },
        { id: 'b', provider: 'nowhere', name: 'b' },
      ],
    });
    assert.deepEqual(settings.models.map((m) => m.name), ['a', 'b']);
    assert.ok(issues.some((i) => /duplicate id "a"/.test(i.message)));
    assert.ok(issues.some((i) => /provider "nowhere"/.test(i.message)));
  });

  it('replaces an out-of-range number with the default and says so', () => {
    const { settings, issues } = parse({ 'request.timeoutSeconds': -5, 'request.maxOutputTokens': 'lots' });
    assert.equal(settings.request.timeoutSeconds, 120);
    assert.equal(settings.request.maxOutputTokens, 2048);
    assert.deepEqual(issues.map((i) => i.setting), ['coderoute.request.timeoutSeconds', 'coderoute.request.maxOutputTokens']);
  });

  it('learns and explores by default, per workspace; a non-boolean falls back and is reported', () => {
    assert.deepEqual(defaultSettings().learning, { enabled: true, explore: true, shareAcrossWorkspaces: false });
    const { settings, issues } = parse({ 'learning.enabled': false, 'learning.explore': 'no', 'learning.shareAcrossWorkspaces': true });
    assert.deepEqual(settings.learning, { enabled: false, explore: true, shareAcrossWorkspaces: true });
    assert.deepEqual(issues.map((i) => i.setting), ['coderoute.learning.explore']);
  });

  it('rejects unknown keys in an entry rather than ignoring a typo', () => {
    const { issues } = parse({ providers: [{ id: 'p', kind: 'openai', baseURL: 'https://example.com/v1' }] });
    const providerIssues = issues.filter((i) => i.setting.startsWith('coderoute.providers'));
    assert.equal(providerIssues.length, 1);
    assert.match(providerIssues[0].message, /baseURL|baseUrl/);
  });
});
