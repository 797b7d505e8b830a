import * as vscode from 'vscode';
import type { ModelConfig, ProviderConfig } from '../../core/config/settingsSchema';
import { listProviderModels, type ListedModel, type ModelListResult } from '../../core/discovery/modelLists';
import { suggestTiers, type FoundModel } from '../../core/discovery/modelTiers';
import { PROVIDER_PRESETS, baseUrlProblem, freeProviderId, type ProviderPreset } from '../../core/discovery/providerPresets';
import { candidatesFrom, describeCandidates, mergeIntoSettings, type Candidate, type RawProvider } from '../../core/discovery/settingsPlan';
import { priceOf } from '../../core/route/pricing';
import type { CodeRouteContext } from '../coderouteContext';
import { platformFetch } from '../discovery/modelDiscovery';
import { OWN_VENDOR } from '../providers/languageModelChatProvider';
import { validateApiKey } from '../secrets/apiKeyStore';
import { readUserEntries, writeUserEntries } from '../settings/userModels';

/**
 * What a caller (a keybinding, another command, a test) may answer in advance; every answer not
 * given is asked with a quick pick or an input box. With answers given, nothing modal is shown: a
 * failing test call is then saved only when `insist` is true.
 */
export interface AddProviderArgs {
  /** A preset's id or label: `openai`, `Anthropic`, `ollama`, `vscode-lm`… */
  kind?: string;
  baseUrl?: string;
  key?: string;
  /** The provider's names of the models to add. */
  models?: string[];
  insist?: boolean;
}

export interface AddProviderResult {
  status: 'saved' | 'cancelled' | 'test-failed';
  providerId?: string;
  /** The model entries written, with their tiers. */
  models?: { id: string; name: string; tags: string[] }[];
  /** What the test call said, when it failed. */
  problem?: string;
}

const TITLE = 'CodeRoute: Add Provider';
const CANCELLED: AddProviderResult = { status: 'cancelled' };

/** CodeRoute: Add Provider. Writes the user settings only; the key goes to secret storage only. */
export async function addProvider(ctx: CodeRouteContext, given?: unknown): Promise<AddProviderResult> {
  const args: AddProviderArgs | undefined = typeof given === 'object' && given !== null ? (given as AddProviderArgs) : undefined;
  const preset = args?.kind ? PROVIDER_PRESETS.find((p) => p.id === args.kind || p.label.toLowerCase() === args.kind?.toLowerCase()) : await pickPreset();
  if (!preset) return CANCELLED;
  const existing = readUserEntries();
  const id = freeProviderId(preset.id, existing.providers.map((p) => p.id));

  const baseUrl = preset.kind === 'vscode-lm' ? undefined : (args?.baseUrl ?? (await askBaseUrl(preset)));
  if (preset.kind !== 'vscode-lm' && baseUrl === undefined) return CANCELLED;
  const urlProblem = baseUrl === undefined ? undefined : baseUrlProblem(baseUrl);
  if (urlProblem) {
    void vscode.window.showErrorMessage(urlProblem);
    return { status: 'cancelled', problem: urlProblem };
  }
  const key = preset.key === 'none' ? '' : (args?.key ?? (await askKey(preset, id)));
  if (key === undefined) return CANCELLED;
  const provider: RawProvider =
    preset.kind === 'vscode-lm' ? { id, kind: 'vscode-lm' } : { id, kind: preset.kind, baseUrl: (baseUrl as string).trim().replace(/\/+$/, ''), auth: key ? 'apiKey' : 'none' };

  const listed = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `CodeRoute: asking ${preset.label} for its models…` }, () => listModels(provider, key));
  let names: string[] | undefined;
  if (!listed.ok) {
    ctx.log.warn(`add provider: the test call to ${provider.baseUrl ?? 'VS Code'} failed: ${listed.problem}`);
    const insist = args ? args.insist === true : (await vscode.window.showWarningMessage(`${listed.problem} The provider was not saved.`, { modal: true, detail: 'Save it anyway, and name its models yourself?' }, 'Save Anyway')) === 'Save Anyway';
    if (!insist) {
      if (args) void vscode.window.showErrorMessage(`${listed.problem} The provider was not saved.`);
      return { status: 'test-failed', problem: listed.problem };
    }
    names = args?.models ?? (await askModelNames());
  } else {
    names = args?.models ?? (await pickModels(provider, listed.models, preset));
  }
  if (!names?.length) return CANCELLED;

  const found = names.map((name): FoundModel => ({ ...(listed.ok ? listed.models.find((m) => m.name === name) : undefined), name, local: isLocal(provider), price: priceFor(provider, name) }));
  const candidates = candidatesFrom([{ provider, models: found }]);
  const merged = mergeIntoSettings(existing, [provider], candidates);
  await writeUserEntries(merged);
  if (key) await ctx.apiKeys.set(id, key.trim());
  const added = merged.models.slice(existing.models.length);
  ctx.log.info(`add provider: ${id} (${provider.kind}${provider.baseUrl ? `, ${provider.baseUrl}` : ''}) with ${added.length} model(s) written to the user settings${key ? '; its key is in secret storage' : ''}`);
  void vscode.window.showInformationMessage(`Added ${preset.label} as ${id} with ${describeCandidates(candidates)}.`, 'Manage Models').then((choice) => choice && vscode.commands.executeCommand('coderoute.manageModels'));
  return { status: 'saved', providerId: id, models: added.map((m) => ({ id: m.id, name: m.name, tags: m.tags })) };
}

async function pickPreset(): Promise<ProviderPreset | undefined> {
  type Item = vscode.QuickPickItem & { preset?: ProviderPreset };
  const items: Item[] = [];
  for (const preset of PROVIDER_PRESETS) {
    if (items.length === 0 || items[items.length - 1].preset?.group !== preset.group) items.push({ label: preset.group, kind: vscode.QuickPickItemKind.Separator });
    items.push({ label: preset.label, description: preset.baseUrl, detail: preset.detail, preset });
  }
  const picked = await vscode.window.showQuickPick(items, { title: TITLE, placeHolder: 'Which provider? Its base URL comes next, then its key and models', matchOnDescription: true });
  return picked?.preset;
}

function askBaseUrl(preset: ProviderPreset): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: `${TITLE}: ${preset.label}`,
    prompt: 'The base URL of its API (prefilled where known). Only your user settings hold it, so no workspace can change it.',
    value: preset.baseUrl ?? 'https://',
    ignoreFocusOut: true,
    validateInput: baseUrlProblem,
  });
}

function askKey(preset: ProviderPreset, id: string): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: `${TITLE}: API key for ${id}`,
    prompt: `Stored in VS Code secret storage (your OS keychain), never in settings files.${preset.key === 'optional' ? ' Leave empty if the server takes no key.' : ''}`,
    password: true,
    ignoreFocusOut: true,
    validateInput: (value) => (preset.key === 'optional' && value === '' ? undefined : validateApiKey(value)),
  });
}

async function listModels(provider: RawProvider, key: string): Promise<ModelListResult> {
  if (provider.kind === 'vscode-lm') {
    const models = (await vscode.lm.selectChatModels()).filter((m) => m.vendor !== OWN_VENDOR);
    return models.length ? { ok: true, models: models.map((m) => ({ name: m.id, family: m.family })) } : { ok: false, problem: "VS Code offers no chat models besides CodeRoute's own (install or sign in to an extension that provides them, such as Copilot)." };
  }
  return listProviderModels(platformFetch, { kind: provider.kind, baseUrl: provider.baseUrl as string }, key || undefined);
}

async function pickModels(provider: RawProvider, models: readonly ListedModel[], preset: ProviderPreset): Promise<string[] | undefined> {
  if (models.length === 0) return askModelNames();
  const items = models.map((m) => {
    const suggestion = suggestTiers({ ...m, local: isLocal(provider), price: priceFor(provider, m.name) });
    return { label: m.name, description: suggestion.tags.join(', '), detail: suggestion.why.join('; '), picked: models.length <= 3 };
  });
  const picked = await vscode.window.showQuickPick(items, { title: `${TITLE}: ${preset.label} models`, placeHolder: 'Pick the models to use; the tiers are suggestions you can change in Manage Models', canPickMany: true, matchOnDetail: true });
  return picked?.map((p) => p.label);
}

async function askModelNames(): Promise<string[] | undefined> {
  const typed = await vscode.window.showInputBox({ title: `${TITLE}: models`, prompt: "The provider's names of the models to use, separated by commas", ignoreFocusOut: true });
  return typed?.split(',').map((s) => s.trim()).filter(Boolean);
}

function isLocal(provider: RawProvider): boolean {
  if (!provider.baseUrl) return false;
  const host = new URL(provider.baseUrl).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
}

function priceFor(provider: RawProvider, name: string): Candidate['found']['price'] {
  if (provider.kind === 'vscode-lm' || !provider.baseUrl) return undefined;
  const model: ModelConfig = { id: name, provider: provider.id, name, tags: [], balance: 'round-robin', capabilities: ['chat'] };
  const config: ProviderConfig = { id: provider.id, kind: provider.kind, baseUrl: provider.baseUrl, auth: provider.auth ?? 'apiKey' };
  const price = priceOf(model, config);
  return price && price.source === 'library' ? { inputPerMTok: price.inputPerMTok, outputPerMTok: price.outputPerMTok } : undefined;
}
