import { calcPrice, findProvider, type PriceCalculation } from '@pydantic/genai-prices';
import type { ModelConfig, ProviderConfig } from '../config/settingsSchema';
import { isLocalModel } from '../policy/privacy';

/**
 * Dollar prices of the configured models. The numbers come from `@pydantic/genai-prices`, whose
 * data ships inside the package: nothing is fetched at run time (its `updatePrices` is never
 * called), so prices are those of the installed version until the dependency is updated.
 */

/** From this many input tokens on, a request is charged these rates for all its tokens. */
export interface PriceTier {
  aboveInputTokens: number;
  inputPerMTok: number;
  outputPerMTok: number;
}

export interface ModelPrice {
  /** Dollars per million input tokens. */
  inputPerMTok: number;
  /** Dollars per million output tokens. */
  outputPerMTok: number;
  /** `settings`: the model's `price` override; `library`: the pricing library; `included`: no dollar cost. */
  source: 'settings' | 'library' | 'included';
  /** Where the price came from, for a decision's explanation. */
  note: string;
  /** Long-prompt rates, in ascending order (some providers charge more above 200k input tokens). */
  tiers?: readonly PriceTier[];
}

const LIBRARY = '@pydantic/genai-prices';

/** Base URL hosts of the services the library prices, mapped to the library's provider ids. */
const LIBRARY_PROVIDER_BY_HOST: Readonly<Record<string, string>> = {
  'api.openai.com': 'openai',
  'api.anthropic.com': 'anthropic',
  'openrouter.ai': 'openrouter',
  'api.groq.com': 'groq',
  'api.together.xyz': 'together',
  'api.deepseek.com': 'deepseek',
  'api.mistral.ai': 'mistral',
};

const LOCAL_PRICE: ModelPrice = Object.freeze({
  inputPerMTok: 0,
  outputPerMTok: 0,
  source: 'included',
  note: 'runs on a local server: no dollar cost',
});

interface CacheEntry {
  price: ModelPrice | undefined;
  /** Set when the library's price depends on the date or time of day: the minute it was resolved for. */
  minute?: number;
}

// The router asks for every candidate of every request; matching a name against the library's
// patterns takes tens of microseconds, a map lookup well under one.
const cache = new Map<string, CacheEntry>();
/** The settings' own prices, one object per model entry (settings objects are replaced, not changed). */
const declaredPrices = new WeakMap<ModelConfig, ModelPrice>();

/**
 * The model's price: its `price` setting if set, else the pricing library's price for the
 * provider's name of the model. Local servers and VS Code's language models cost no dollars
 * (source `included`). `undefined` when no price is known: such a model must never be treated as
 * free. `at` is when the request is made; it matters for the few prices that change by date or time
 * of day.
 */
export function priceOf(model: ModelConfig, provider: ProviderConfig, at?: Date): ModelPrice | undefined {
  if (model.price) {
    let declared = declaredPrices.get(model);
    if (!declared) declaredPrices.set(model, (declared = { ...model.price, source: 'settings', note: `set in coderoute.models for "${model.id}"` }));
    return declared;
  }
  if (provider.kind === 'vscode-lm') {
    const premium = model.premiumRequests === undefined ? 'premium requests' : `${model.premiumRequests} premium request(s) per call`;
    return { inputPerMTok: 0, outputPerMTok: 0, source: 'included', note: `VS Code language model: no dollar cost, it uses ${premium}` };
  }
  if (isLocalModel(model)) return LOCAL_PRICE;

  const key = `${provider.baseUrl}\n${model.name}`;
  const cached = cache.get(key);
  if (cached && cached.minute === undefined) return cached.price;
  const when = at ?? new Date();
  const minute = Math.floor(when.getTime() / 60_000);
  if (cached && cached.minute === minute) return cached.price;

  const entry = lookUp(provider.baseUrl, model.name, when, minute);
  cache.set(key, entry);
  return entry.price;
}

/** Dollars for one request of these token counts (the long-prompt rate applies to all tokens). */
export function estimateCost(price: ModelPrice, inputTokens: number, outputTokens: number): number {
  let rates: Pick<ModelPrice, 'inputPerMTok' | 'outputPerMTok'> = price;
  for (const tier of price.tiers ?? []) {
    if (inputTokens > tier.aboveInputTokens) rates = tier;
  }
  return (Math.max(0, inputTokens) * rates.inputPerMTok + Math.max(0, outputTokens) * rates.outputPerMTok) / 1_000_000;
}

/**
 * The highest input and output rates (long-prompt rates included) among the configured models
 * that cost dollars, for charging a model whose price is unknown. `undefined` when no model has a
 * dollar price: an unknown price is then refused rather than charged at zero.
 */
export function highestKnownPrice(models: readonly ModelConfig[], providers: readonly ProviderConfig[], at?: Date): ModelPrice | undefined {
  let input: { rate: number; from: string; price: ModelPrice } | undefined;
  let output: { rate: number; from: string; price: ModelPrice } | undefined;
  for (const model of models) {
    const places = [{ provider: model.provider, name: model.name }, ...(model.deployments ?? []).map((d) => ({ provider: d.provider, name: d.name ?? model.name }))];
    for (const place of places) {
      const provider = providers.find((p) => p.id === place.provider);
      const price = provider && priceOf({ ...model, name: place.name }, provider, at);
      if (!price || price.source === 'included') continue;
      const from = `${model.id} (${place.provider})`;
      const inputRate = Math.max(price.inputPerMTok, ...(price.tiers ?? []).map((t) => t.inputPerMTok));
      const outputRate = Math.max(price.outputPerMTok, ...(price.tiers ?? []).map((t) => t.outputPerMTok));
      if (!input || inputRate > input.rate) input = { rate: inputRate, from, price };
      if (!output || outputRate > output.rate) output = { rate: outputRate, from, price };
    }
  }
  if (!input || !output || (input.rate === 0 && output.rate === 0)) return undefined;
  return {
    inputPerMTok: input.rate,
    outputPerMTok: output.rate,
    source: output.price.source,
    note: input.from === output.from ? `highest known price: ${input.from}` : `highest known price: input as ${input.from}, output as ${output.from}`,
  };
}

function lookUp(baseUrl: string, name: string, at: Date, minute: number): CacheEntry {
  const host = hostOf(baseUrl);
  if (host === undefined) return { price: undefined };
  if (isLoopback(host)) return { price: LOCAL_PRICE };
  // A known service's price list, else the library's own URL patterns (Azure, Fireworks, …), else
  // the model name alone (a proxy such as LiteLLM passing provider model names through).
  const providerId = LIBRARY_PROVIDER_BY_HOST[host] ?? findProvider({ providerApiUrl: baseUrl })?.id;
  let result: PriceCalculation | null;
  try {
    result = calcPrice({ input_tokens: 0, output_tokens: 0 }, name, { providerId, timestamp: at });
  } catch {
    // Malformed entries in the library's data throw; such a price is as good as unknown.
    return { price: undefined };
  }
  if (!result) return { price: undefined };
  const price = fromLibrary(result, providerId === undefined);
  return Array.isArray(result.model.prices) ? { price, minute } : { price };
}

type LibraryRate = PriceCalculation['model_price'][string];

function fromLibrary(result: PriceCalculation, byNameOnly: boolean): ModelPrice | undefined {
  const input = result.model_price.input_mtok;
  const output = result.model_price.output_mtok;
  const inputPerMTok = rateAbove(input, -1);
  const outputPerMTok = rateAbove(output, -1);
  // A model priced per request, image or second rather than per token is not one we can estimate.
  if (inputPerMTok === undefined || outputPerMTok === undefined) return undefined;
  const starts = [...new Set([...tierStarts(input), ...tierStarts(output)])].sort((a, b) => a - b);
  const tiers = starts.map((start) => ({
    aboveInputTokens: start,
    inputPerMTok: rateAbove(input, start) ?? inputPerMTok,
    outputPerMTok: rateAbove(output, start) ?? outputPerMTok,
  }));
  const what = `${result.provider.name} ${result.model.id}`;
  const price: ModelPrice = {
    inputPerMTok,
    outputPerMTok,
    source: 'library',
    note: byNameOnly ? `${LIBRARY}: ${what}, matched by model name alone` : `${LIBRARY}: ${what}`,
  };
  if (tiers.length) price.tiers = Object.freeze(tiers);
  return Object.freeze(price);
}

/** The per-million rate for requests with more than `inputTokens` input tokens. */
function rateAbove(rate: LibraryRate, inputTokens: number): number | undefined {
  if (isRate(rate)) return rate;
  if (typeof rate !== 'object' || !isRate(rate.base)) return undefined;
  let value = rate.base;
  for (const tier of rate.tiers) {
    if (tier.start <= inputTokens && isRate(tier.price)) value = tier.price;
  }
  return value;
}

function tierStarts(rate: LibraryRate): number[] {
  return typeof rate === 'object' ? rate.tiers.map((t) => t.start) : [];
}

function isRate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function hostOf(baseUrl: string): string | undefined {
  try {
    return new URL(baseUrl).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}
