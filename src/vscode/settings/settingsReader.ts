import * as vscode from 'vscode';
import type { Logger } from '../../core/log/logger';
import {
  APPLICATION_SCOPED_SETTINGS,
  parseSettings,
  type ParsedSettings,
  type SettingKey,
} from '../../core/config/settingsSchema';

export const SETTINGS_SECTION = 'coderoute';

/**
 * Reads and validates `coderoute.*` once per change (on first use after it). Settings that decide where code and keys go
 * are taken from the user's own settings only, whatever a workspace's `.vscode/settings.json` says.
 */
export class SettingsReader implements vscode.Disposable {
  private cached: ParsedSettings | undefined;
  private lastReported = '';
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly logger: Logger) {
    vscode.workspace.onDidChangeConfiguration(
      (event) => {
        // Re-read lazily, on the next request that needs the settings.
        if (event.affectsConfiguration(SETTINGS_SECTION)) this.cached = undefined;
      },
      this,
      this.disposables,
    );
  }

  get current(): ParsedSettings {
    if (!this.cached) {
      const config = vscode.workspace.getConfiguration(SETTINGS_SECTION);
      this.cached = parseSettings((key: SettingKey) =>
        APPLICATION_SCOPED_SETTINGS.includes(key) ? config.inspect(key)?.globalValue : config.get(key),
      );
      this.report(this.cached);
    }
    return this.cached;
  }

  private report(parsed: ParsedSettings): void {
    const text = parsed.issues.map((issue) => `${issue.setting}: ${issue.message}`).join('\n');
    if (text === this.lastReported) return;
    this.lastReported = text;
    parsed.issues.forEach((issue) => this.logger.warn(`settings: ${issue.setting}: ${issue.message}`));
  }

  dispose(): void {
    vscode.Disposable.from(...this.disposables).dispose();
  }
}
