import * as vscode from 'vscode';
import { completionsEnabledFor } from '../../core/config/settingsSchema';
import type { SettingsReader } from '../settings/settingsReader';

/** What the item says besides on / off: a request in flight, or the last reason nothing was shown. */
export type CompletionActivity = { kind: 'idle' } | { kind: 'busy' } | { kind: 'problem'; message: string } | { kind: 'held'; message: string };

/**
 * The completions item in the status bar: on, off, off for this language, working, or a problem
 * (with the reason in the tooltip). A click opens the menu with the global and per-language switches.
 */
export class CompletionStatus implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private activity: CompletionActivity = { kind: 'idle' };
  private lastModel: string | undefined;

  constructor(private readonly settings: SettingsReader) {
    // Just right of the spend item.
    this.item = vscode.window.createStatusBarItem('coderoute.completions', vscode.StatusBarAlignment.Right, 99);
    this.item.name = 'CodeRoute Completions';
    this.item.command = 'coderoute.completionsMenu';
    this.disposables.push(this.item);
    vscode.window.onDidChangeActiveTextEditor(() => this.render(), this, this.disposables);
    vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('coderoute.completions') && this.render(), this, this.disposables);
    this.render();
    this.item.show();
  }

  set(activity: CompletionActivity, modelId?: string): void {
    this.activity = activity;
    if (modelId) this.lastModel = modelId;
    this.render();
  }

  private render(): void {
    const { settings } = this.settings.current;
    const language = vscode.window.activeTextEditor?.document.languageId;
    const on = language === undefined ? settings.completions.enabled : completionsEnabledFor(settings, language);
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.isTrusted = { enabledCommands: ['coderoute.completionsMenu', 'coderoute.showSpend', 'coderoute.showLog'] };
    if (!settings.completions.enabled) {
      this.item.text = '$(circle-slash) Completions';
      tooltip.appendMarkdown('**CodeRoute inline completions are off.**');
    } else if (!on) {
      this.item.text = '$(circle-slash)';
      tooltip.appendMarkdown(`**CodeRoute inline completions are off for \`${escape(language ?? '')}\`.**`);
    } else if (this.activity.kind === 'busy') {
      this.item.text = '$(loading~spin)';
      tooltip.appendMarkdown('**CodeRoute is asking for a completion…**');
    } else if (this.activity.kind === 'problem' || this.activity.kind === 'held') {
      this.item.text = '$(warning)';
      tooltip.appendMarkdown(`**CodeRoute inline completions are on.**\n\nLast request: ${escape(this.activity.message)}`);
    } else {
      this.item.text = '$(sparkle)';
      tooltip.appendMarkdown('**CodeRoute inline completions are on.**');
    }
    if (this.lastModel) tooltip.appendMarkdown(`\n\nLast completion from \`${escape(this.lastModel)}\`.`);
    tooltip.appendMarkdown('\n\n[Menu](command:coderoute.completionsMenu) · [Spend](command:coderoute.showSpend) · [Log](command:coderoute.showLog)');
    this.item.tooltip = tooltip;
    this.item.accessibilityInformation = { label: `CodeRoute completions ${on ? 'on' : 'off'}`, role: 'button' };
    this.item.backgroundColor = this.activity.kind === 'problem' && on ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  }

  dispose(): void {
    vscode.Disposable.from(...this.disposables).dispose();
  }
}

/** Model names and reasons are shown as text, never as Markdown. */
function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

/** The configuration target that decides a setting now: the most specific one holding a value. */
function targetOf(key: string): vscode.ConfigurationTarget {
  const inspected = vscode.workspace.getConfiguration('coderoute').inspect(key);
  if (inspected?.workspaceFolderValue !== undefined) return vscode.ConfigurationTarget.WorkspaceFolder;
  if (inspected?.workspaceValue !== undefined) return vscode.ConfigurationTarget.Workspace;
  return vscode.ConfigurationTarget.Global;
}

/** Turns inline completions on or off everywhere; returns the new state. */
export async function toggleCompletions(settings: SettingsReader, on?: boolean): Promise<boolean> {
  const next = on ?? !settings.current.settings.completions.enabled;
  await vscode.workspace.getConfiguration('coderoute').update('completions.enabled', next, targetOf('completions.enabled'));
  return next;
}

/** Turns inline completions on or off for one language. */
async function toggleLanguage(settings: SettingsReader, languageId: string, on: boolean): Promise<void> {
  const languages = { ...settings.current.settings.completions.languages, [languageId]: on };
  await vscode.workspace.getConfiguration('coderoute').update('completions.languages', languages, targetOf('completions.languages'));
}

/** The status bar menu: the global switch, this language's switch, and where to look further. */
export async function completionsMenu(settings: SettingsReader): Promise<void> {
  const current = settings.current.settings;
  const language = vscode.window.activeTextEditor?.document.languageId;
  type Item = vscode.QuickPickItem & { run: () => Thenable<unknown> };
  const items: Item[] = [
    current.completions.enabled
      ? { label: '$(circle-slash) Turn Off Inline Completions', description: 'everywhere', run: () => toggleCompletions(settings, false) }
      : { label: '$(sparkle) Turn On Inline Completions', description: 'everywhere', run: () => toggleCompletions(settings, true) },
  ];
  if (language && current.completions.enabled) {
    const on = completionsEnabledFor(current, language);
    items.push({
      label: on ? `$(circle-slash) Turn Off for ${language}` : `$(sparkle) Turn On for ${language}`,
      description: 'this language only',
      run: () => toggleLanguage(settings, language, !on),
    });
  }
  items.push(
    { label: '', kind: vscode.QuickPickItemKind.Separator, run: () => Promise.resolve() },
    { label: '$(graph) Show Spend', run: () => vscode.commands.executeCommand('coderoute.showSpend') },
    { label: '$(gear) Completion Settings', description: 'models: coderoute.tasks.complete', run: () => vscode.commands.executeCommand('workbench.action.openSettings', 'coderoute.completions') },
    { label: '$(output) Show Log', run: () => vscode.commands.executeCommand('coderoute.showLog') },
  );
  const picked = await vscode.window.showQuickPick(items, { title: 'CodeRoute Inline Completions', placeHolder: 'Switch completions or look at what they cost' });
  if (picked) await picked.run();
}
