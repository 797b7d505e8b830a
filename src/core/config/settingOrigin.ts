/**
 * Where a setting's value in effect comes from, and how a message says so: a value that breaks a
 * request is fixed where it was written, which may be a workspace's .vscode/settings.json the user
 * never opened.
 */

export type SettingScope = 'folder' | 'workspace' | 'user' | 'default';

/** What VS Code's `WorkspaceConfiguration.inspect` reports (language-specific values left out). */
export interface InspectedSetting {
  defaultValue?: unknown;
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The most specific scope that holds the value in effect. Compared with the value in use, not just
 * by presence: in Restricted Mode VS Code ignores a workspace's value of a restricted setting, and
 * the user's then applies.
 */
export function scopeOf(inspected: InspectedSetting | undefined, effective: unknown): SettingScope {
  if (!inspected) return 'default';
  if (inspected.workspaceFolderValue !== undefined && same(inspected.workspaceFolderValue, effective)) return 'folder';
  if (inspected.workspaceValue !== undefined && same(inspected.workspaceValue, effective)) return 'workspace';
  if (inspected.globalValue !== undefined && same(inspected.globalValue, effective)) return 'user';
  return 'default';
}

/** "the workspace settings (.vscode/settings.json)", "your user settings", "CodeRoute's defaults". */
export function scopeWords(scope: SettingScope, workspaceFile = '.vscode/settings.json'): string {
  switch (scope) {
    case 'folder':
      return "this folder's settings (.vscode/settings.json)";
    case 'workspace':
      return `the workspace settings (${workspaceFile})`;
    case 'user':
      return 'your user settings';
    case 'default':
      return "CodeRoute's defaults";
  }
}

/** The `coderoute.…` key a message names, without what follows it ("coderoute.routing.rules (id)"). */
export function settingKeyOf(setting: string): string | undefined {
  return /^coderoute\.([A-Za-z][\w.]*[A-Za-z])/.exec(setting)?.[1];
}

/** A settings error, with where the value that caused it was written when that is not the user's own settings. */
export function settingErrorMessage(message: string, setting: string, scope: SettingScope, workspaceFile?: string): string {
  if (scope === 'folder' || scope === 'workspace') return `${message} The value of ${setting} comes from ${scopeWords(scope, workspaceFile)}, not from your user settings.`;
  if (scope === 'user') return `${message} The value of ${setting} is in your user settings.`;
  return message;
}

export interface MissingKey {
  /** The action, as the user knows it ("Explain"). */
  action: string;
  modelId: string;
  providerId: string;
  /** The setting that chose the model ("coderoute.tasks.explain", or a rule's). */
  modelSetting: string;
  modelScope: SettingScope;
  /** Where coderoute.providers came from: CodeRoute's defaults when the user chose none. */
  providerScope: SettingScope;
  workspaceFile?: string;
}

/**
 * The first thing a new user may see: a request routed to a model whose provider needs a key. When
 * the provider is only CodeRoute's default, the message does not talk as if the user had chosen
 * it: it says where the choice came from and that they may choose their own.
 */
export function missingKeyMessage(m: MissingKey): string {
  const chosenBy = m.modelScope === 'default' ? `CodeRoute's default for ${m.modelSetting}` : `${m.modelSetting} in ${scopeWords(m.modelScope, m.workspaceFile)}`;
  if (m.providerScope === 'default') {
    return `${m.action} was routed to ${m.modelId} (${chosenBy}), a model of CodeRoute's default provider, which needs an API key. Set its key, or choose your own provider and models in the walkthrough.`;
  }
  return `${m.action} was routed to ${m.modelId} (${chosenBy}) on your provider ${m.providerId}, which has no API key set.`;
}

/** The first action with no model in coderoute.models: nothing was sent, and how to get a model. */
export function noModelMessage(action: string): string {
  return `${action} needs a model, and none is set up yet: nothing was sent. Add a provider (OpenAI, Anthropic, a local server such as Ollama, …), or detect the models VS Code and a local Ollama offer.`;
}
