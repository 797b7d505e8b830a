import * as path from 'node:path';
import * as vscode from 'vscode';
import { scopeOf, type SettingScope } from '../../core/config/settingOrigin';
import { APPLICATION_SCOPED_SETTINGS } from '../../core/config/settingsSchema';
import { SETTINGS_SECTION } from './settingsReader';

/**
 * Where the value of `coderoute.<key>` that CodeRoute uses comes from, read the way the settings
 * reader reads it: the user's own value only for the settings a workspace may not change.
 */
export function settingScope(key: string): SettingScope {
  const config = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  const inspected = config.inspect(key);
  if ((APPLICATION_SCOPED_SETTINGS as readonly string[]).includes(key)) return inspected?.globalValue !== undefined ? 'user' : 'default';
  return scopeOf(inspected, config.get(key));
}

/** The file the workspace's settings are in, as a message names it. */
export function workspaceSettingsFile(): string {
  const file = vscode.workspace.workspaceFile;
  return file && file.scheme !== 'untitled' ? path.basename(file.path) : '.vscode/settings.json';
}
