import * as vscode from 'vscode';
import { candidatesFrom, describeCandidates, mergeIntoSettings, type Candidate } from '../../core/discovery/settingsPlan';
import type { CodeRouteContext } from '../coderouteContext';
import { readUserEntries, userHasConfigured, writeUserEntries } from '../settings/userModels';
import { discoverModels } from './modelDiscovery';

/** Set once the user answered the first-run offer (either way): it is made once. */
const OFFER_ANSWERED = 'coderoute.modelOffer.answered';

export const USE_THESE = 'Use These Models';
/** The start offer is made at most once a session, even when VS Code's models change after it. */
let offeredThisSession = false;
export const CHOOSE = 'Choose…';
export const NOT_NOW = 'Not Now';

export interface DetectResult {
  /** Found models not configured yet, with the tiers CodeRoute suggests. */
  found: { provider: string; name: string; tags: string[]; why: string[] }[];
  /** The notification offering them was shown. */
  offered: boolean;
  notes: string[];
}

/**
 * Looks for models (VS Code's, a local Ollama) and offers those not configured yet. At start
 * (`trigger` 'start') only when the user has configured nothing and never answered the offer;
 * from CodeRoute: Detect Models always. Returns without waiting for the answer: accepting writes
 * the user settings when it comes. Nothing is sent to any model before that.
 */
export async function detectModels(ctx: CodeRouteContext, trigger: 'start' | 'command'): Promise<DetectResult> {
  if (trigger === 'start' && (userHasConfigured() || ctx.globalState.get(OFFER_ANSWERED) || offeredThisSession)) return { found: [], offered: false, notes: ['models are configured, or the offer was made or answered'] };
  const discovery = await discoverModels(ctx.settings.current.settings);
  const existing = readUserEntries();
  const candidates = candidatesFrom(discovery.sources).filter((c) => !existing.models.some((m) => m.provider === c.providerId && m.name === c.found.name));
  ctx.log.info(`discovery (${trigger}): ${discovery.notes.join('; ')}; ${candidates.length} not configured yet`);
  const found = candidates.map((c) => ({ provider: c.providerId, name: c.found.name, tags: c.suggestion.tags, why: c.suggestion.why }));
  if (candidates.length === 0) {
    if (trigger === 'command') {
      const text = discovery.sources.length
        ? 'Every model CodeRoute found is already in your settings.'
        : `CodeRoute found no models: VS Code offers none besides CodeRoute's own, and ${ctx.settings.current.settings.discovery.ollama ? 'no Ollama answers on this machine' : 'the Ollama probe is off (coderoute.discovery.ollama)'}.`;
      void vscode.window.showInformationMessage(text, 'Add Provider', 'Manage Models').then((choice) => {
        if (choice === 'Add Provider') void vscode.commands.executeCommand('coderoute.addProvider');
        if (choice === 'Manage Models') void vscode.commands.executeCommand('coderoute.manageModels');
      });
    }
    return { found, offered: false, notes: discovery.notes };
  }
  const providers = discovery.sources.map((s) => s.provider);
  const message = `CodeRoute found ${candidates.length} model${candidates.length === 1 ? '' : 's'}: ${describeCandidates(candidates)}. Use ${candidates.length === 1 ? 'it' : 'them'} for CodeRoute's actions? They are written to your user settings, where you can change them.`;
  offeredThisSession = true;
  void vscode.window.showInformationMessage(message, USE_THESE, CHOOSE, NOT_NOW).then(async (answer) => {
    if (answer) await ctx.globalState.update(OFFER_ANSWERED, true);
    const chosen = answer === USE_THESE ? candidates : answer === CHOOSE ? await choose(candidates) : undefined;
    if (!chosen?.length) return;
    await writeUserEntries(mergeIntoSettings(readUserEntries(), providers, chosen));
    ctx.log.info(`discovery: ${chosen.length} model(s) written to the user settings: ${chosen.map((c) => `${c.found.name} (${c.suggestion.tags.join(', ')})`).join(', ')}`);
    void vscode.window.showInformationMessage(`CodeRoute will use ${describeCandidates(chosen)}.`, 'Manage Models').then((choice) => choice && vscode.commands.executeCommand('coderoute.manageModels'));
  });
  return { found, offered: true, notes: discovery.notes };
}

async function choose(candidates: readonly Candidate[]): Promise<Candidate[] | undefined> {
  const items = candidates.map((candidate) => ({
    label: candidate.found.name,
    description: `${candidate.suggestion.tags.join(', ')} · ${candidate.providerId}`,
    detail: candidate.suggestion.why.join('; '),
    picked: true,
    candidate,
  }));
  const picked = await vscode.window.showQuickPick(items, { canPickMany: true, title: 'CodeRoute: models to use', placeHolder: 'The tiers are suggestions; edit them later with CodeRoute: Manage Models' });
  return picked?.map((p) => p.candidate);
}

/**
 * The first-run discovery: once right after activation, and again when VS Code's models change
 * (an extension such as Copilot often registers its models after CodeRoute started), until an
 * offer was made or the user configured models.
 */
export function startDiscovery(ctx: CodeRouteContext, disposables: vscode.Disposable[]): Promise<DetectResult | undefined> {
  const run = () =>
    detectModels(ctx, 'start').catch((error: unknown) => {
      ctx.log.warn(`discovery failed: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    });
  let again: ReturnType<typeof setTimeout> | undefined;
  vscode.lm.onDidChangeChatModels(
    () => {
      if (offeredThisSession || userHasConfigured()) return;
      clearTimeout(again);
      again = setTimeout(() => void run(), 500);
    },
    undefined,
    disposables,
  );
  return new Promise((resolve) => {
    // Off the critical path: after activation returns, and never in its way if it fails.
    const timer = setTimeout(() => resolve(run()), 0);
    disposables.push({ dispose: () => (clearTimeout(timer), clearTimeout(again), resolve(undefined)) });
  });
}
