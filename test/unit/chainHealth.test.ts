import * as assert from 'node:assert/strict';
import { runChat } from '../../src/core/actions/runChatAttempt';
import { parseSettings, type SettingKey } from '../../src/core/config/settingsSchema';
import { silentLogger } from '../../src/core/log/logger';
import { ProviderHealth } from '../../src/core/providers/health/providerHealth';
import { OpenAIChatProvider } from '../../src/core/providers/openaiChatProvider';
import { routeByTask, type RouteDecision } from '../../src/core/route/routeDecision';
import { MockLlmServer } from '../mock/mockLlmServer';
import { httpProvider } from '../support/httpProvider';

/** Three servers: two deployments of one cloud model, and a local model. */
describe('the chain across deployments, circuit breakers and privacy classes', () => {
  let east: MockLlmServer;
  let west: MockLlmServer;
  let local: MockLlmServer;
  let route: (task: 'explain' | 'generate', privacy?: 'any' | 'local-only') => RouteDecision;

  before(async () => {
    [east, west, local] = await Promise.all([MockLlmServer.start(), MockLlmServer.start(), MockLlmServer.start()]);
    const raw: Partial<Record<SettingKey, unknown>> = {
      providers: [
        { id: 'east', kind: 'openai', baseUrl: east.baseUrl, auth: 'none' },
        { id: 'west', kind: 'openai', baseUrl: west.baseUrl, auth: 'none' },
        { id: 'ollama', kind: 'openai', baseUrl: local.baseUrl, auth: 'none' },
      ],
      models: [
        { id: 'cloud', provider: 'east', name: 'cloud-1', deployments: [{ provider: 'west', name: 'cloud-1-west' }] },
        { id: 'home', provider: 'ollama', name: 'home-1', tags: ['local'] },
      ],
      'tasks.explain': ['cloud', 'home'],
      'tasks.generate': ['home', 'cloud'],
    };
    const { settings, issues } = parseSettings((key) => raw[key]);
    assert.deepEqual(issues, []);
    route = (task, privacy = 'any') => routeByTask('req', task, settings, privacy);
  });
  beforeEach(() => [east, west, local].forEach((s) => s.reset()));
  after(() => Promise.all([east, west, local].map((s) => s.close())));

  const run = (decision: RouteDecision, health = new ProviderHealth()) =>
    runChat({
      decision,
      messages: [{ role: 'user', content: 'Explain x.' }],
      maxOutputTokens: 64,
      providerFor: (routed) => new OpenAIChatProvider({ provider: httpProvider(routed.provider), apiKey: undefined, timeoutMs: 5000 }),
      onText: () => undefined,
      signal: new AbortController().signal,
      logger: silentLogger,
      health,
      random: () => 0,
      sleep: async () => undefined,
    });

  it('spreads requests over the deployments of a model, each with its own model name', async () => {
    const health = new ProviderHealth();
    for (let i = 0; i < 4; i++) assert.ok((await run(route('explain'), health)).result);
    assert.equal(east.requests.length, 2);
    assert.equal(west.requests.length, 2);
    assert.deepEqual(west.requests.map((r) => (r.body as { model: string }).model), ['cloud-1-west', 'cloud-1-west']);
  });

  it('retries a failed call on the other deployment, and says which provider answered', async () => {
    east.enqueue({ kind: 'fail', status: 503 });
    const out = await run(route('explain'));
    assert.equal(out.answeredBy?.provider.id, 'west');
    assert.deepEqual(out.attempts.map((a) => [a.providerId, a.errorKind]), [
      ['east', 'server'],
      ['west', undefined],
    ]);
  });

  it('rests a failing endpoint: later requests skip it without sending anything, then a probe brings it back', async () => {
    let now = 0;
    const health = new ProviderHealth({ failureThreshold: 2, cooldownMs: 10_000, now: () => now });
    const only = (decision: RouteDecision): RouteDecision => ({
      ...decision,
      chosen: { ...decision.chosen, deployments: decision.chosen.deployments?.slice(0, 1) },
    });
    east.enqueue({ kind: 'fail', status: 500 }, { kind: 'fail', status: 500 });
    const first = await run(only(route('explain')), health);
    assert.equal(first.answeredBy?.model.id, 'home', 'the fallback answered');
    assert.equal(east.requests.length, 2);

    const second = await run(only(route('explain')), health);
    assert.equal(east.requests.length, 2, 'nothing is sent to a resting endpoint');
    assert.deepEqual(second.attempts.map((a) => [a.modelId, a.status, a.errorKind]), [
      ['cloud', 'error', 'unavailable'],
      ['home', 'ok', undefined],
    ]);

    now += 10_000;
    const third = await run(only(route('explain')), health);
    assert.equal(third.answeredBy?.model.id, 'cloud', 'the probe after the cool-down succeeded');
    assert.equal(health.breaker.state('east/cloud-1'), 'closed');
  });

  it('never lets a local-only request reach a cloud model, even from the fallbacks', async () => {
    local.enqueue({ kind: 'fail', status: 500 }, { kind: 'fail', status: 500 }, { kind: 'fail', status: 500 });
    const decision = route('generate', 'local-only');
    assert.deepEqual(decision.fallbacks, [], 'the route leaves cloud models out');
    // Even a chain built by hand with a cloud fallback is held to the request's class.
    const out = await run({ ...decision, fallbacks: [route('explain').chosen] });
    assert.equal(out.result, undefined);
    assert.equal(out.error?.kind, 'server');
    assert.equal(local.requests.length, 3);
    assert.equal(east.requests.length + west.requests.length, 0, 'no cloud endpoint saw the code');
  });
});
