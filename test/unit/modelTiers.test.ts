import * as assert from 'node:assert/strict';
import { listOllamaModels, listProviderModels, type FetchLike } from '../../src/core/discovery/modelLists';
import { coverDefaultTiers, parameterBillions, suggestTiers } from '../../src/core/discovery/modelTiers';
import { candidatesFrom, mergeIntoSettings } from '../../src/core/discovery/settingsPlan';
import { PROVIDER_PRESETS, baseUrlProblem, freeProviderId } from '../../src/core/discovery/providerPresets';

const tiers = (name: string, extra: { local?: boolean; parameterSize?: string; family?: string; price?: { inputPerMTok: number; outputPerMTok: number } } = {}) =>
  suggestTiers({ name, local: extra.local ?? false, parameterSize: extra.parameterSize, family: extra.family, price: extra.price });

/** A fetch that answers every GET with one response, and records the URL and headers asked. */
function answering(status: number, body: string, contentType = 'application/json'): { fetch: FetchLike; asked: { url: string; headers: Record<string, string> }[] } {
  const asked: { url: string; headers: Record<string, string> }[] = [];
  return {
    asked,
    fetch: async (url, init) => {
      asked.push({ url, headers: init.headers });
      return { status, headers: { get: (name: string) => (name === 'content-type' ? contentType : null) }, text: async () => body };
    },
  };
}

describe('model tiers of found models (issue 16)', () => {
  it('tiers known names: small models cheap, flagships strong, code families code', () => {
    assert.deepEqual(tiers('gpt-4.1-mini').tags, ['cheap']);
    assert.deepEqual(tiers('gpt-4.1').tags, ['strong']);
    assert.deepEqual(tiers('gpt-4o-mini').tags, ['cheap']);
    assert.deepEqual(tiers('claude-sonnet-4-5').tags, ['strong']);
    assert.deepEqual(tiers('claude-3-5-haiku-latest').tags, ['cheap']);
    assert.deepEqual(tiers('gemini-2.5-flash').tags, ['cheap']);
    assert.deepEqual(tiers('gemini-2.5-pro').tags, ['strong']);
    assert.ok(tiers('codestral-latest').tags.includes('code'));
    assert.ok(tiers('deepseek-reasoner').tags.includes('strong'));
  });

  it('the bundled price decides before the name does, and says so', () => {
    const cheap = tiers('some-model', { price: { inputPerMTok: 0.1, outputPerMTok: 0.4 } });
    assert.deepEqual(cheap.tags, ['cheap']);
    assert.match(cheap.why[0], /^cheap: \$0\.4 per million output tokens in the bundled price data$/);
    assert.deepEqual(tiers('gpt-4.1-mini', { price: { inputPerMTok: 15, outputPerMTok: 60 } }).tags, ['strong']);
  });

  it('local Ollama models: local, cheap or strong by size, code with FIM for known code families', () => {
    const coder = tiers('qwen2.5-coder:7b', { local: true, parameterSize: '7.6B', family: 'qwen2' });
    assert.deepEqual(coder.tags, ['local', 'code', 'cheap']);
    assert.deepEqual(coder.capabilities, ['chat', 'fim']);
    assert.ok(coder.why.some((w) => /^fill-in-the-middle: qwen family$/.test(w)), coder.why.join('; '));
    assert.ok(coder.why.includes('cheap: 7.6B parameters, no dollar cost'));
    const big = tiers('llama3.3:70b', { local: true, parameterSize: '70.6B', family: 'llama' });
    assert.deepEqual(big.tags, ['local', 'strong']);
    assert.deepEqual(big.capabilities, ['chat', 'tools']);
    assert.deepEqual(tiers('mystery', { local: true }).tags, ['local', 'cheap']);
  });

  it('a name nothing is known of is cheap, and the reason says so', () => {
    const unknown = tiers('acme-model-x');
    assert.deepEqual(unknown.tags, ['cheap']);
    assert.deepEqual(unknown.why, ['cheap: nothing more is known of it']);
  });

  it('reads parameter sizes from Ollama details or the name', () => {
    assert.equal(parameterBillions({ name: 'x', parameterSize: '7.6B' }), 7.6);
    assert.equal(parameterBillions({ name: 'x', parameterSize: '350M' }), 0.35);
    assert.equal(parameterBillions({ name: 'qwen2.5-coder:32b' }), 32);
    assert.equal(parameterBillions({ name: 'gpt-4.1' }), undefined);
  });

  it('covers the default tasks: without a code model the strongest found is also code, without a cheap one the least strong', () => {
    const found = coverDefaultTiers([
      { suggestion: tiers('gpt-4.1') },
      { suggestion: tiers('claude-sonnet-4') },
    ]);
    assert.ok(found.some((m) => m.suggestion.tags.includes('cheap')));
    assert.ok(found.some((m) => m.suggestion.tags.includes('code')));
    assert.ok(found.flatMap((m) => m.suggestion.why).some((w) => /^code: the strongest of the models found$/.test(w)));
  });

  it('merges found models into the user settings without touching entries already there', () => {
    const ollama = { id: 'ollama', kind: 'openai' as const, baseUrl: 'http://127.0.0.1:11434/v1', auth: 'none' as const };
    const candidates = candidatesFrom([{ provider: ollama, models: [{ name: 'qwen2.5-coder:7b', local: true, parameterSize: '7.6B' }] }]);
    const existing = { providers: [{ id: 'mine', kind: 'openai' as const, baseUrl: 'https://example.com/v1' }], models: [{ id: 'qwen2.5-coder:7b', provider: 'mine', name: 'x', tags: ['cheap' as const] }] };
    const merged = mergeIntoSettings(existing, [ollama], candidates);
    assert.deepEqual(merged.providers.map((p) => p.id), ['mine', 'ollama']);
    assert.equal(merged.models[0], existing.models[0]);
    assert.equal(merged.models[1].id, 'ollama-qwen2.5-coder:7b');
    assert.deepEqual(merged.models[1].tags, ['local', 'code', 'cheap']);
    assert.match(merged.models[1].tierNote ?? '', /^suggested by CodeRoute: local: runs on this machine; code: coder in its name/);
  });
});

describe('model lists: Ollama on loopback, a provider test call, and what can go wrong', () => {
  it("reads Ollama's /api/tags on 127.0.0.1 only", async () => {
    const { fetch, asked } = answering(200, JSON.stringify({ models: [{ name: 'qwen2.5-coder:7b', model: 'qwen2.5-coder:7b', details: { family: 'qwen2', parameter_size: '7.6B' } }] }));
    const result = await listOllamaModels(fetch, 11434);
    assert.deepEqual(result, { ok: true, models: [{ name: 'qwen2.5-coder:7b', family: 'qwen2', parameterSize: '7.6B' }] });
    assert.equal(asked[0].url, 'http://127.0.0.1:11434/api/tags');
  });

  it('sends the key as the provider expects, and reads the OpenAI list', async () => {
    const { fetch, asked } = answering(200, JSON.stringify({ object: 'list', data: [{ id: 'm1' }, { id: 'm2' }] }));
    assert.deepEqual(await listProviderModels(fetch, { kind: 'openai', baseUrl: 'https://api.example.com/v1/' }, 'sk-1'), { ok: true, models: [{ name: 'm1' }, { name: 'm2' }] });
    assert.equal(asked[0].url, 'https://api.example.com/v1/models');
    assert.equal(asked[0].headers.authorization, 'Bearer sk-1');
    await listProviderModels(fetch, { kind: 'anthropic', baseUrl: 'https://api.anthropic.com' }, 'k');
    assert.equal(asked[1].url, 'https://api.anthropic.com/v1/models');
    assert.equal(asked[1].headers['x-api-key'], 'k');
  });

  it('an error, HTML, a redirect, nothing or another shape is one sentence', async () => {
    const provider = { kind: 'openai' as const, baseUrl: 'https://api.example.com/v1' };
    const problem = async (status: number, body: string, type?: string) => {
      const result = await listProviderModels(answering(status, body, type).fetch, provider, 'k');
      assert.equal(result.ok, false);
      return result.ok ? '' : result.problem;
    };
    assert.equal(await problem(401, '{"error":{"message":"bad key"}}'), 'api.example.com refused the key (HTTP 401).');
    assert.equal(await problem(500, '{"error":{"message":"down"}}'), 'api.example.com answered the model list with HTTP 500: down.');
    assert.match(await problem(200, '<!doctype html><p>hi', 'text/html'), /a web page, not a model list/);
    assert.match(await problem(302, ''), /redirect \(HTTP 302\), which CodeRoute never follows/);
    assert.equal(await problem(200, ''), 'api.example.com answered the model list with nothing.');
    assert.match(await problem(200, '{"models":[]}'), /not a model list/);
    const unreachable: FetchLike = async () => {
      throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    };
    assert.deepEqual(await listOllamaModels(unreachable), { ok: false, problem: '127.0.0.1:11434 could not be reached (ECONNREFUSED).' });
    const silent: FetchLike = (_url, init) => new Promise((_resolve, reject) => init.signal.addEventListener('abort', () => reject(new Error('aborted'))));
    assert.deepEqual(await listOllamaModels(silent, 11434, 50), { ok: false, problem: '127.0.0.1:11434 did not answer within 0.1 s.' });
  });
});

describe('Add Provider presets and base URLs', () => {
  it('offers every kind the issue names, with a base URL wherever one is known', () => {
    const labels = PROVIDER_PRESETS.map((p) => p.label);
    for (const label of ['OpenAI', 'Anthropic', 'OpenRouter', 'Groq', 'Together', 'DeepSeek', 'Mistral', 'Ollama', 'LM Studio', 'vLLM', 'LiteLLM proxy', "VS Code's models"]) assert.ok(labels.includes(label), label);
    for (const preset of PROVIDER_PRESETS) assert.equal(preset.baseUrl === undefined, preset.kind === 'vscode-lm', preset.label);
  });

  it('refuses a URL with a key in it, plain http beyond this machine or network, and non-http schemes', () => {
    assert.equal(baseUrlProblem('https://api.example.com/v1'), undefined);
    assert.equal(baseUrlProblem('http://127.0.0.1:11434/v1'), undefined);
    assert.equal(baseUrlProblem('http://192.168.1.20:8000/v1'), undefined);
    assert.match(baseUrlProblem('http://api.example.com/v1') ?? '', /https/);
    assert.match(baseUrlProblem('https://user:sk-1@api.example.com/v1') ?? '', /secret storage/);
    assert.match(baseUrlProblem('file:///etc/passwd') ?? '', /https:\/\/ or http:\/\//);
    assert.equal(freeProviderId('openai', ['openai', 'openai-2']), 'openai-3');
  });
});
