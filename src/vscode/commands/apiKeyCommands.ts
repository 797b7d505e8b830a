import * as vscode from 'vscode';
import { providerEndpoint } from '../../core/config/settingsSchema';
import type { CodeRouteContext } from '../coderouteContext';
import { validateApiKey } from '../secrets/apiKeyStore';

/** Asks which provider when there is more than one that takes a key. */
async function pickProvider(ctx: CodeRouteContext, placeHolder: string): Promise<string | undefined> {
  const withKeys = ctx.settings.current.settings.providers.filter((p) => p.auth === 'apiKey');
  if (withKeys.length === 0) {
    void vscode.window
      .showWarningMessage('No provider in coderoute.providers takes an API key.', 'Open Settings')
      .then((choice) => choice && vscode.commands.executeCommand('workbench.action.openSettings', 'coderoute.providers'));
    return undefined;
  }
  if (withKeys.length === 1) return withKeys[0].id;
  const picked = await vscode.window.showQuickPick(
    withKeys.map((p) => ({ label: p.id, description: providerEndpoint(p) })),
    { placeHolder },
  );
  return picked?.label;
}

/**
 * CodeRoute: Set API Key. `providerId` and `key` may be passed by a caller (another command, a
 * keybinding, a test); otherwise the user is asked. The key goes to SecretStorage only.
 */
export async function setApiKey(ctx: CodeRouteContext, providerId?: unknown, key?: unknown): Promise<boolean> {
  const known = ctx.settings.current.settings.providers.map((p) => p.id);
  const id = typeof providerId === 'string' ? providerId : await pickProvider(ctx, 'Which provider is the key for?');
  if (!id) return false;
  if (!known.includes(id)) {
    void vscode.window.showErrorMessage(`There is no provider "${id}" in coderoute.providers.`);
    return false;
  }
  return storeSecret(ctx, id, key, {
    title: `CodeRoute: API key for ${id}`,
    prompt: 'Stored in VS Code secret storage (your OS keychain), never in settings files.',
    what: `API key for ${id}`,
  });
}

/**
 * Stores a secret under `id` in SecretStorage: `given` when a caller passed one, else what the
 * user types in a password box; refuses a value that is not a plausible key, saying why.
 */
export async function storeSecret(ctx: CodeRouteContext, id: string, given: unknown, ask: { title: string; prompt: string; what: string }): Promise<boolean> {
  const value = typeof given === 'string' ? given : await vscode.window.showInputBox({ title: ask.title, prompt: ask.prompt, password: true, ignoreFocusOut: true, validateInput: validateApiKey });
  if (value === undefined) return false;
  const problem = validateApiKey(value);
  if (problem) {
    void vscode.window.showErrorMessage(problem);
    return false;
  }
  await ctx.apiKeys.set(id, value.trim());
  ctx.log.info(`${ask.what} stored`);
  void vscode.window.showInformationMessage(`${ask.what} saved in secret storage.`);
  return true;
}

/** CodeRoute: Clear API Key. */
export async function clearApiKey(ctx: CodeRouteContext, providerId?: unknown): Promise<boolean> {
  const id = typeof providerId === 'string' ? providerId : await pickProvider(ctx, 'Whose API key should be removed?');
  if (!id) return false;
  await ctx.apiKeys.delete(id);
  ctx.log.info(`api key for ${id} removed`);
  void vscode.window.showInformationMessage(`API key for ${id} removed.`);
  return true;
}
