import * as assert from 'node:assert/strict';
import { parseSettings, type SettingKey } from '../../src/core/config/settingsSchema';
import { RouteError, routeByTask } from '../../src/core/route/routeDecision';
import { httpProvider } from '../support/httpProvider';

const raw: Partial<Record<SettingKey, unknown>> = {
  providers: [
    { id: 'cloud', kind: 'openai', baseUrl: 'https://api.example.com/v1' },
    { id: 'local', kind: 'openai', baseUrl: 'http://127.0.0.1:11434/v1', auth: 'none' },
    { id: 'backup', kind: 'openai', baseUrl: 'https://eu.example.com/v1' },
  ],
  models: [
    { id: 'small', provider: 'local', name: 'qwen2.5-coder:1.5b', tags: ['cheap', 'local'] },
    { id: 'big', provider: 'cloud', name: 'big-model-2', tags: ['strong'], deployments: [{ provider: 'backup', name: 'big-2-eu', weight: 2 }] },
    { id: 'local-big', provider: 'local', name: 'qwen2.5-coder:32b', tags: ['code', 'local'] },
  ],
  'tasks.explain': 'small',
  'tasks.debug': 'big',
  'tasks.generate': ['big', 'small', 'local-big'],
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
    const broken = { ...settings, tasks: { ...settings.tasks, explain: ['missing'] } };
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

  it('takes an ordered list of models as the chosen one and its fallbacks', () => {
    const decision = routeByTask('r5', 'generate', settings);
    assert.deepEqual([decision.chosen, ...decision.fallbacks].map((r) => r.model.id), ['big', 'small', 'local-big']);
    assert.equal(decision.privacy, 'any');
    assert.match(decision.reason, /generate goes to big \(cloud\) because coderoute\.tasks\.generate names it, then small, local-big if it fails/);
  });

  it('keeps a local-only request inside the local models, saying which were left out', () => {
    const decision = routeByTask('r6', 'generate', settings, 'local-only');
    assert.deepEqual([decision.chosen, ...decision.fallbacks].map((r) => r.model.id), ['small', 'local-big']);
    assert.equal(decision.privacy, 'local-only');
    const big = decision.candidates.find((c) => c.modelId === 'big');
    assert.equal(big?.score, 0);
    assert.match(big?.note ?? '', /excluded: not tagged local/);
  });

  it('leaves a local-only request with no local model to be refused, with no fallback to a cloud model', () => {
    const decision = routeByTask('r7', 'debug', settings, 'local-only');
    assert.equal(decision.chosen.model.id, 'big');
    assert.deepEqual(decision.fallbacks, []);
  });

  it('lists every deployment of a model, its own provider first', () => {
    const big = routeByTask('r8', 'debug', settings).chosen;
    assert.deepEqual(
      big.deployments?.map((d) => [d.key, d.name, d.weight]),
      [
        ['cloud/big-model-2', 'big-model-2', 1],
        ['backup/big-2-eu', 'big-2-eu', 2],
      ],
    );
  });
});
