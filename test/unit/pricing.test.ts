import * as assert from 'node:assert/strict';
import { calcPrice } from '@pydantic/genai-prices';
import type { ModelConfig, ProviderConfig } from '../../src/core/config/settingsSchema';
import { estimateCost, highestKnownPrice, priceOf, type ModelPrice } from '../../src/core/route/pricing';

const openai: ProviderConfig = { id: 'openai', kind: 'openai', baseUrl: 'https://api.openai.com/v1', auth: 'apiKey' };
const anthropic: ProviderConfig = { id: 'anthropic', kind: 'anthropic', baseUrl: 'https://api.anthropic.com', auth: 'apiKey' };
const openrouter: ProviderConfig = { id: 'openrouter', kind: 'openai', baseUrl: 'https://openrouter.ai/api/v1', auth: 'apiKey' };
const deepseek: ProviderConfig = { id: 'deepseek', kind: 'openai', baseUrl: 'https://api.deepseek.com', auth: 'apiKey' };
const ollama: ProviderConfig = { id: 'ollama', kind: 'openai', baseUrl: 'http://127.0.0.1:11434/v1', auth: 'none' };
const lmStudio: ProviderConfig = { id: 'lmstudio', kind: 'openai', baseUrl: 'http://localhost:1234/v1', auth: 'none' };
const gpuBox: ProviderConfig = { id: 'gpu-box', kind: 'openai', baseUrl: 'http://gpu-box.example.invalid:8000/v1', auth: 'none' };
const proxy: ProviderConfig = { id: 'litellm', kind: 'openai', baseUrl: 'https://llm-proxy.example.invalid/v1', auth: 'apiKey' };
const copilot: ProviderConfig = { id: 'copilot', kind: 'vscode-lm', auth: 'none' };

function model(name: string, provider: ProviderConfig, extra: Partial<ModelConfig> = {}): ModelConfig {
  return { id: name.replace(/[^A-Za-z0-9._:/-]/g, '-'), provider: provider.id, name, tags: [], balance: 'round-robin', capabilities: ['chat'], ...extra };
}

/** The library's own per-million rates for a model, read the way a user of the library would. */
function library(name: string, providerId: string | undefined, timestamp?: Date): { input: number; output: number } {
  const result = calcPrice({ input_tokens: 0, output_tokens: 0 }, name, { providerId, timestamp });
  assert.ok(result, `the library prices ${name}`);
  const base = (rate: unknown) => (typeof rate === 'number' ? rate : (rate as { base: number }).base);
  return { input: base(result.model_price.input_mtok), output: base(result.model_price.output_mtok) };
}

function rates(price: ModelPrice | undefined): { input: number; output: number } {
  assert.ok(price);
  return { input: price.inputPerMTok, output: price.outputPerMTok };
}

describe('pricing', () => {
  it('the price setting wins over the library, local servers and VS Code models', () => {
    const price = { inputPerMTok: 0.5, outputPerMTok: 1.25 };
    for (const provider of [openai, ollama, copilot]) {
      const p = priceOf(model('gpt-4.1', provider, { price }), provider);
      assert.ok(p);
      assert.deepEqual({ ...p, note: undefined }, { ...price, source: 'settings', note: undefined });
      assert.match(p.note, /coderoute\.models/);
    }
  });

  it('known OpenAI and Anthropic models get the library price', () => {
    for (const [name, provider, libraryId] of [
      ['gpt-4.1-mini', openai, 'openai'],
      ['gpt-4.1', openai, 'openai'],
      ['claude-sonnet-4-5', anthropic, 'anthropic'],
    ] as const) {
      const price = priceOf(model(name, provider), provider);
      assert.equal(price?.source, 'library', name);
      assert.deepEqual(rates(price), library(name, libraryId), name);
      assert.ok(price.inputPerMTok > 0 && price.outputPerMTok > price.inputPerMTok, name);
      assert.match(price.note, /@pydantic\/genai-prices/);
    }
    assert.ok(estimateCost(openaiPrice('gpt-4.1'), 1000, 1000) > estimateCost(openaiPrice('gpt-4.1-mini'), 1000, 1000), 'gpt-4.1 costs more than gpt-4.1-mini');
  });

  it('a dated snapshot name gets its model family price', () => {
    assert.deepEqual(rates(priceOf(model('gpt-4.1-2025-04-14', openai), openai)), library('gpt-4.1', 'openai'));
  });

  it('keeps the library long-prompt rates and charges them above the threshold', () => {
    const result = calcPrice({ input_tokens: 0, output_tokens: 0 }, 'claude-sonnet-4-5', { providerId: 'anthropic' });
    const input = result?.model_price.input_mtok;
    const price = priceOf(model('claude-sonnet-4-5', anthropic), anthropic);
    assert.ok(price);
    if (typeof input !== 'object') return assert.equal(price.tiers, undefined);
    const tier = price.tiers?.[0];
    assert.ok(tier);
    assert.equal(tier.aboveInputTokens, input.tiers[0]?.start);
    assert.equal(tier.inputPerMTok, input.tiers[0]?.price);
    // Same arithmetic as the library for a prompt over the threshold.
    const big = tier.aboveInputTokens + 1000;
    const charged = calcPrice({ input_tokens: big, output_tokens: 2000 }, 'claude-sonnet-4-5', { providerId: 'anthropic' });
    assert.ok(Math.abs(estimateCost(price, big, 2000) - (charged?.total_price ?? NaN)) < 1e-9);
  });

  it('maps OpenRouter to its own price list and prices an unrecognised host by model name', () => {
    assert.deepEqual(rates(priceOf(model('anthropic/claude-sonnet-4', openrouter), openrouter)), library('anthropic/claude-sonnet-4', 'openrouter'));
    const viaProxy = priceOf(model('gpt-4.1-mini', proxy), proxy);
    assert.deepEqual(rates(viaProxy), library('gpt-4.1-mini', 'openai'));
    assert.match(viaProxy?.note ?? '', /model name alone/);
  });

  it('an invented model has no price', () => {
    assert.equal(priceOf(model('totally-invented-model-9000', openai), openai), undefined);
    assert.equal(priceOf(model('totally-invented-model-9000', proxy), proxy), undefined);
    assert.equal(priceOf(model('totally-invented-model-9000', anthropic), anthropic), undefined);
  });

  it('local servers and VS Code language models cost no dollars', () => {
    for (const [m, provider] of [
      [model('llama3.1:8b', ollama), ollama],
      [model('qwen2.5-coder-7b', lmStudio), lmStudio],
      // Tagged local: free even when its name is a priced model's.
      [model('gpt-4.1', gpuBox, { tags: ['local'] }), gpuBox],
    ] as const) {
      const price = priceOf(m, provider);
      assert.deepEqual(rates(price), { input: 0, output: 0 }, m.name);
      assert.equal(price?.source, 'included');
      assert.match(price.note, /local/);
    }
    const lm = priceOf(model('gpt-4.1', copilot, { premiumRequests: 1 }), copilot);
    assert.ok(lm);
    assert.deepEqual({ ...rates(lm), source: lm.source }, { input: 0, output: 0, source: 'included' });
    assert.match(lm.note, /premium request/);
  });

  it('a repeated lookup is answered from the cache', () => {
    const m = model('gpt-4.1', openai);
    assert.equal(priceOf(m, openai), priceOf({ ...m }, openai));
  });

  it('prices that depend on the date or time of day follow the request time', () => {
    for (const time of ['2026-01-05T03:00:00Z', '2026-01-05T20:00:00Z', '2026-01-05T03:00:30Z']) {
      const at = new Date(time);
      assert.deepEqual(rates(priceOf(model('deepseek-chat', deepseek), deepseek, at)), library('deepseek-chat', 'deepseek', at), time);
    }
  });

  it('estimates dollars from per-million rates', () => {
    const price: ModelPrice = { inputPerMTok: 2, outputPerMTok: 8, source: 'settings', note: '' };
    assert.equal(estimateCost(price, 1_000_000, 0), 2);
    assert.equal(estimateCost(price, 0, 1_000_000), 8);
    assert.ok(Math.abs(estimateCost(price, 1500, 500) - 0.007) < 1e-12);
    assert.equal(estimateCost(price, 0, 0), 0);
    const tiered: ModelPrice = { ...price, tiers: [{ aboveInputTokens: 200_000, inputPerMTok: 4, outputPerMTok: 12 }] };
    assert.equal(estimateCost(tiered, 200_000, 1_000_000), 200_000 * 2 / 1e6 + 8);
    assert.equal(estimateCost(tiered, 500_000, 1_000_000), 2 + 12);
  });

  it('the highest known price is the highest dollar rate among the configured models', () => {
    const providers = [openai, ollama, copilot];
    const models = [
      model('gpt-4.1-mini', openai),
      model('gpt-4.1', openai),
      model('cheap-override', openai, { price: { inputPerMTok: 0.01, outputPerMTok: 0.02 } }),
      model('dear-input', openai, { price: { inputPerMTok: 50, outputPerMTok: 1 } }),
      model('llama3.1:8b', ollama),
      model('gpt-4.1', copilot),
      model('totally-invented-model-9000', openai),
    ];
    const highest = highestKnownPrice(models, providers);
    assert.ok(highest);
    assert.equal(highest.inputPerMTok, 50);
    assert.equal(highest.outputPerMTok, library('gpt-4.1', 'openai').output);
    assert.match(highest.note, /dear-input/);
    // Nothing with a dollar price: there is no highest price, so an unknown one cannot be charged as zero.
    assert.equal(highestKnownPrice([model('llama3.1:8b', ollama), model('gpt-4.1', copilot), model('totally-invented-model-9000', openai)], providers), undefined);
  });

  it('the highest known price counts deployments on other providers', () => {
    const local = model('llama3.1:8b', ollama, { deployments: [{ provider: 'anthropic', name: 'claude-sonnet-4-5', weight: 1 }] });
    const highest = highestKnownPrice([local], [ollama, anthropic]);
    assert.ok(highest && highest.outputPerMTok >= library('claude-sonnet-4-5', 'anthropic').output);
    assert.match(highest.note, /llama3\.1:8b \(anthropic\)/);
  });
});

function openaiPrice(name: string): ModelPrice {
  const price = priceOf(model(name, openai), openai);
  assert.ok(price);
  return price;
}
