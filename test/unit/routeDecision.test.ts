import { httpProvider } from '../support/httpProvider';
import * as assert from 'node:assert/strict';
import { parseSettings, type SettingKey } from '../../src/core/config/settingsSchema';
import { RouteError, routeByTask } from '../../src/core/route/routeDecision';

const raw: Partial<Record<SettingKey, unknown>> = {
  providers: [
    { id: 'cloud', kind: 'openai', baseUrl: 'https://api.example.com/v1' },
    { id: 'local', kind: 'openai', baseUrl: 'http://127.0.0.1:11434/v1', auth: 'none' },
  ],
  models: [
    { id: 'small', provider: 'local', name: 'qwen2.5-coder:1.5b', tags: ['cheap', 'local'] },
    { id: 'big', provider: 'cloud', name: 'big-model-2', tags: ['strong'] },
  ],
  'tasks.explain': 'small',
  'tasks.debug': 'big',
};

describe('routeByTask', () => {
  const { settings } = parseSettings((key) => raw[key]);

  it('sends each task to the model its setting names, with the provider that serves it', () => {
    const explain = routeByTask('r1', 'explain', settings);
    assert.equal(explain.chosen.model.name, 'qwen2.5-coder:1.5b');
    assert.equal(httpProvider(explain.chosen.provider).baseUrl, 'http://127.0.0.1:11434/v1');
    assert.equal(explain.decidedBy, 'task-setting');
    assert.match(explain.reason, /explain goes to small \(local\) because coderoute\.tasks\.explain names it/);
    assert.equal(routeByTask('r2', 'debug', settings).chosen.model.id, 'big');
  });

  it('names the setting to fix when the task model is unknown', () => {
    const broken = { ...settings, tasks: { ...settings.tasks, explain: 'missing' } };
    assert.throws(
      () => routeByTask('r3', 'explain', broken),
      (error: unknown) => error instanceof RouteError && error.setting === 'coderoute.tasks.explain' && /"missing"/.test(error.message),
    );
  });

  it('names coderoute.providers when the model points at a provider that does not exist', () => {
    const orphan = { ...settings, providers: settings.providers.filter((p) => p.id !== 'local') };
    assert.throws(
      () => routeByTask('r4', 'explain', orphan),
      (error: unknown) => error instanceof RouteError && error.setting === 'coderoute.providers',
    );
  });
});
