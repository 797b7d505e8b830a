import * as vscode from 'vscode';
import { listOllamaModels, ollamaRoot, type FetchLike } from '../../core/discovery/modelLists';
import type { FoundSource, RawProvider } from '../../core/discovery/settingsPlan';
import type { Settings } from '../../core/config/settingsSchema';
import { OWN_VENDOR } from '../providers/languageModelChatProvider';

/** The provider entry VS Code's models are written under. */
export const VSCODE_LM_PROVIDER: RawProvider = { id: 'vscode-lm', kind: 'vscode-lm' };

export function ollamaProvider(port: number): RawProvider {
  return { id: 'ollama', kind: 'openai', baseUrl: `${ollamaRoot(port)}/v1`, auth: 'none' };
}

export interface Discovery {
  sources: FoundSource[];
  /** What was looked at and what it said, for the log and the Detect Models message. */
  notes: string[];
}

export const platformFetch: FetchLike = (url, init) => fetch(url, init);

/**
 * The chat models VS Code offers (CodeRoute's own left out) and the models of an Ollama on
 * 127.0.0.1 (unless coderoute.discovery.ollama is off). Asks nothing else on the network.
 */
export async function discoverModels(settings: Settings, fetchFn: FetchLike = platformFetch): Promise<Discovery> {
  const notes: string[] = [];
  const sources: FoundSource[] = [];
  const [lm, ollama] = await Promise.all([
    Promise.resolve(vscode.lm.selectChatModels())
      .then((models) => models.filter((m) => m.vendor !== OWN_VENDOR))
      .catch((error: unknown) => {
        notes.push(`VS Code's models could not be listed (${error instanceof Error ? error.message : String(error)})`);
        return [] as vscode.LanguageModelChat[];
      }),
    settings.discovery.ollama ? listOllamaModels(fetchFn, settings.discovery.ollamaPort) : Promise.resolve(undefined),
  ]);
  notes.push(`VS Code offers ${lm.length} chat model${lm.length === 1 ? '' : 's'} besides CodeRoute's own`);
  if (lm.length) sources.push({ provider: VSCODE_LM_PROVIDER, models: lm.map((m) => ({ name: m.id, family: m.family, local: false })) });
  if (!ollama) notes.push('the Ollama probe is off (coderoute.discovery.ollama)');
  else if (!ollama.ok) notes.push(`no Ollama on this machine: ${ollama.problem}`);
  else {
    notes.push(`Ollama at ${ollamaRoot(settings.discovery.ollamaPort)} has ${ollama.models.length} model${ollama.models.length === 1 ? '' : 's'}`);
    if (ollama.models.length) sources.push({ provider: ollamaProvider(settings.discovery.ollamaPort), models: ollama.models.map((m) => ({ ...m, local: true })) });
  }
  return { sources, notes };
}
