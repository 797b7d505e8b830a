import type { ModelCapability, ModelTag } from '../config/settingsSchema';
import { detectFimFamily } from '../complete/fimPrompt';

/**
 * Tiers for a model CodeRoute found (VS Code's models, a local Ollama, a provider's model list)
 * from what is known of it: its name and family, its size, FIM support, and the bundled price
 * data. Every tier comes with the reason, so a decision can say where it came from.
 */

export interface FoundModel {
  /** The name the provider knows it by (Ollama's `qwen2.5-coder:7b`, VS Code's model id). */
  name: string;
  /** A family the host reports (VS Code's `family`, Ollama's `details.family`). */
  family?: string;
  /** Ollama's `details.parameter_size`, for example `7.6B`. */
  parameterSize?: string;
  /** Runs on this machine (no dollar cost, may take local-only files). */
  local: boolean;
  /** Dollars per million tokens from the bundled price data, when known. */
  price?: { inputPerMTok: number; outputPerMTok: number };
}

export interface TierSuggestion {
  tags: ModelTag[];
  capabilities: ModelCapability[];
  /** One clause per tier: "code: qwen2.5-coder is a code model family". */
  why: string[];
}

const CODE_NAME = /(coder|codestral|codellama|code-?llama|starcoder|codegemma|devstral|codex|granite-code|\bcode\b)/i;
const STRONG_NAME =
  /(gpt-?5(?![\w.-]*(mini|nano))|gpt-?4\.1(?![\w.-]*(mini|nano))|gpt-?4o(?![\w.-]*mini)|\bo[134](?![\w.-]*mini)\b|opus|sonnet|gemini[\w.-]*pro|deepseek-?(r1|reasoner)|grok-?[34](?![\w.-]*mini)|mistral-large|qwen3-coder-plus|kimi-k2)/i;
const CHEAP_NAME = /(?<![a-z])(mini|nano|haiku|flash|lite|small|tiny|turbo|instant|[0-3](?:\.\d)?b)(?![a-z])/i;

/** Billions of parameters from `7.6B`, `32B`, `350M`, or a `:7b` / `-70b` in the name. */
export function parameterBillions(model: Pick<FoundModel, 'name' | 'parameterSize'>): number | undefined {
  const fromSize = /^(\d+(?:\.\d+)?)\s*([BM])$/i.exec(model.parameterSize?.trim() ?? '');
  if (fromSize) return Number(fromSize[1]) / (fromSize[2].toUpperCase() === 'M' ? 1000 : 1);
  const fromName = /[:\-_](\d+(?:\.\d+)?)b\b/i.exec(model.name);
  return fromName ? Number(fromName[1]) : undefined;
}

/**
 * The tiers CodeRoute suggests for a found model. At least one tier always: a model about which
 * nothing is known is suggested as `cheap`, and says so.
 */
export function suggestTiers(model: FoundModel): TierSuggestion {
  const tags = new Set<ModelTag>();
  const why: string[] = [];
  const add = (tag: ModelTag, reason: string) => {
    if (tags.has(tag)) return;
    tags.add(tag);
    why.push(`${tag}: ${reason}`);
  };
  const named = `${model.name} ${model.family ?? ''}`;
  const size = parameterBillions(model);
  const fim = model.local && detectFimFamily(model.name) !== undefined;

  if (model.local) add('local', 'runs on this machine');
  const codeMatch = CODE_NAME.exec(named);
  if (codeMatch) add('code', `${codeMatch[1].toLowerCase()} in its name is a code model family`);

  if (model.local) {
    if (size !== undefined && size >= 30) add('strong', `${size}B parameters`);
    else add('cheap', size !== undefined ? `${size}B parameters, no dollar cost` : 'no dollar cost');
  } else if (model.price) {
    const out = model.price.outputPerMTok;
    if (out >= 8) add('strong', `$${out} per million output tokens in the bundled price data`);
    else if (out <= 2.5) add('cheap', `$${out} per million output tokens in the bundled price data`);
  }
  if (!model.local && !tags.has('strong') && !tags.has('cheap')) {
    const strong = STRONG_NAME.exec(named);
    const cheap = CHEAP_NAME.exec(named);
    if (cheap) add('cheap', `${cheap[1].toLowerCase()} in its name is a small model's`);
    else if (strong) add('strong', `${strong[1].toLowerCase()} is a known flagship model`);
  }
  if (tags.size === 0 || (tags.size === 1 && tags.has('local'))) add('cheap', 'nothing more is known of it');

  const capabilities: ModelCapability[] = fim ? ['chat', 'fim'] : ['chat', 'tools'];
  if (fim) why.push(`fill-in-the-middle: ${detectFimFamily(model.name)} family`);
  return { tags: [...tags], capabilities, why };
}

/**
 * Makes sure a set of found models covers the tiers the default task settings use (cheap for
 * explain and format, code for generate and debug): without a cheap model the cheapest one is
 * also cheap, without a code model the strongest one is also code.
 */
export function coverDefaultTiers<T extends { suggestion: TierSuggestion }>(models: T[]): T[] {
  if (models.length === 0) return models;
  const has = (tag: ModelTag) => models.some((m) => m.suggestion.tags.includes(tag));
  const rank = (m: T) => (m.suggestion.tags.includes('strong') ? 2 : m.suggestion.tags.includes('code') ? 1 : 0);
  const extend = (m: T, tag: ModelTag, reason: string) => {
    m.suggestion = { ...m.suggestion, tags: [...m.suggestion.tags, tag], why: [...m.suggestion.why, `${tag}: ${reason}`] };
  };
  if (!has('cheap')) {
    const least = [...models].sort((a, b) => rank(a) - rank(b))[0];
    extend(least, 'cheap', 'the least strong of the models found');
  }
  if (!has('code')) {
    const most = [...models].sort((a, b) => rank(b) - rank(a))[0];
    extend(most, 'code', 'the strongest of the models found');
  }
  return models;
}
