import * as vscode from 'vscode';
import type { RawModel, RawProvider } from '../../core/discovery/settingsPlan';
import { SETTINGS_SECTION } from './settingsReader';

/**
 * The user's own coderoute.providers and coderoute.models as written in their settings.json
 * (never a workspace's: those two are application-scoped), for the commands that add, edit or
 * remove entries and write them back where the user can see and change them.
 */
export interface UserEntries {
  providers: RawProvider[];
  models: RawModel[];
}

function inspect<T>(key: 'providers' | 'models'): T[] | undefined {
  const value = vscode.workspace.getConfiguration(SETTINGS_SECTION).inspect<T[]>(key)?.globalValue;
  return Array.isArray(value) ? value : undefined;
}

/** True when the user has written either list (even an empty one) in their settings. */
export function userHasConfigured(): boolean {
  return inspect('providers') !== undefined || inspect('models') !== undefined;
}

export function readUserEntries(): UserEntries {
  return { providers: structuredClone(inspect<RawProvider>('providers') ?? []), models: structuredClone(inspect<RawModel>('models') ?? []) };
}

/** Writes both lists into the user settings (ConfigurationTarget.Global), never the workspace's. */
export async function writeUserEntries(entries: UserEntries): Promise<void> {
  const config = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  await config.update('providers', entries.providers, vscode.ConfigurationTarget.Global);
  await config.update('models', entries.models, vscode.ConfigurationTarget.Global);
}
