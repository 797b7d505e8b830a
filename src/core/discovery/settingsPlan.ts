import type { ModelTag } from '../config/settingsSchema';
import { coverDefaultTiers, suggestTiers, type FoundModel, type TierSuggestion } from './modelTiers';

/**
 * What the first-run offer and Add Provider write into the user's settings: plain provider and
 * model entries, the same as hand-written ones, so they can be read and edited in settings.json.
 */

export interface RawProvider {
  id: string;
  kind: 'openai' | 'anthropic' | 'vscode-lm';
  baseUrl?: string;
  auth?: 'apiKey' | 'none';
}

export interface RawModel {
  id: string;
  provider: string;
  name: string;
  tags: ModelTag[];
  capabilities?: string[];
  /** Why CodeRoute suggested these tiers; shown by Why This Model? and Manage Models. */
  tierNote?: string;
}

export interface Candidate {
  providerId: string;
  found: FoundModel;
  suggestion: TierSuggestion;
}

/** A discovered source of models: VS Code's, the local Ollama. */
export interface FoundSource {
  provider: RawProvider;
  models: FoundModel[];
}

const idSafe = (text: string) => text.replace(/[^A-Za-z0-9._:/-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'model';

/** A model id unique among `taken`: the provider's name of it, prefixed when it clashes. */
export function modelIdFor(providerId: string, name: string, taken: ReadonlySet<string>): string {
  const plain = idSafe(name);
  if (!taken.has(plain)) return plain;
  for (let n = 1; ; n++) {
    const id = n === 1 ? idSafe(`${providerId}-${name}`) : idSafe(`${providerId}-${name}-${n}`);
    if (!taken.has(id)) return id;
  }
}

/** The found models with their suggested tiers, covering the tiers the default tasks use. */
export function candidatesFrom(sources: readonly FoundSource[]): Candidate[] {
  return coverDefaultTiers(sources.flatMap((s) => s.models.map((found) => ({ providerId: s.provider.id, found, suggestion: suggestTiers(found) }))));
}

export function modelEntry(candidate: Candidate, taken: ReadonlySet<string>): RawModel {
  const { tags, capabilities, why } = candidate.suggestion;
  return {
    id: modelIdFor(candidate.providerId, candidate.found.name, taken),
    provider: candidate.providerId,
    name: candidate.found.name,
    tags,
    capabilities,
    tierNote: `suggested by CodeRoute: ${why.join('; ')}`,
  };
}

/**
 * New user settings: the existing entries kept as they are, the chosen providers and models
 * added after them (a provider already there by id is not added twice).
 */
export function mergeIntoSettings(
  existing: { providers: readonly RawProvider[]; models: readonly RawModel[] },
  providers: readonly RawProvider[],
  candidates: readonly Candidate[],
): { providers: RawProvider[]; models: RawModel[] } {
  const providerIds = new Set(existing.providers.map((p) => p.id));
  const outProviders = [...existing.providers, ...providers.filter((p) => !providerIds.has(p.id) && candidates.some((c) => c.providerId === p.id))];
  const taken = new Set(existing.models.map((m) => m.id));
  const outModels = [...existing.models];
  for (const candidate of candidates) {
    if (existing.models.some((m) => m.provider === candidate.providerId && m.name === candidate.found.name)) continue;
    const entry = modelEntry(candidate, taken);
    taken.add(entry.id);
    outModels.push(entry);
  }
  return { providers: outProviders, models: outModels };
}

/** "3 models: qwen2.5-coder:7b (local, code), gpt-4.1 (strong) …" for the offer's sentence. */
export function describeCandidates(candidates: readonly Candidate[], max = 4): string {
  const shown = candidates.slice(0, max).map((c) => `${c.found.name} (${c.suggestion.tags.join(', ')})`);
  const more = candidates.length > max ? ` and ${candidates.length - max} more` : '';
  return `${shown.join(', ')}${more}`;
}
