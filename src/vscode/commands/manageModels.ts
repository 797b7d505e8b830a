import * as vscode from 'vscode';
import { MODEL_TAGS, providerEndpoint, type ModelTag } from '../../core/config/settingsSchema';
import { formatUsd } from '../../core/format/formatUsd';
import type { CodeRouteContext } from '../coderouteContext';
import { readUserEntries, writeUserEntries } from '../settings/userModels';

/** One configured model as Manage Models shows it (also what the command returns). */
export interface ModelRow {
  id: string;
  provider: string;
  name: string;
  tags: string[];
  /** "$0.40 / $1.60 per million tokens", "no dollar cost…", or "price unknown". */
  price: string;
  key: 'set' | 'missing' | 'not needed';
  lastError?: string;
}

export interface ManageModelsArgs {
  /** Returns the rows without showing anything. */
  list?: boolean;
  /** Removes this model id from the user settings. */
  remove?: string;
  /** Sets the tiers of `model`. */
  model?: string;
  tags?: string[];
}

async function rows(ctx: CodeRouteContext): Promise<ModelRow[]> {
  const { models, providers } = ctx.settings.current.settings;
  return Promise.all(
    models.map(async (model) => {
      const provider = providers.find((p) => p.id === model.provider);
      const price = provider && ctx.prices(model, provider);
      const priceText = !price ? 'price unknown' : price.source === 'included' ? price.note : `${formatUsd(price.inputPerMTok)} in / ${formatUsd(price.outputPerMTok)} out per million tokens`;
      const key = !provider || provider.auth === 'none' ? 'not needed' : (await ctx.apiKeys.get(provider.id)) ? 'set' : 'missing';
      const failed = ctx.history.all.find((a) => a.modelId === model.id);
      return { id: model.id, provider: model.provider, name: model.name, tags: [...model.tags], price: priceText, key, lastError: failed?.status === 'error' ? (failed.errorKind ?? 'error') : undefined } satisfies ModelRow;
    }),
  );
}

/**
 * CodeRoute: Manage Models. Lists the configured models with their tiers, price, key state and
 * last error; picking one changes its tiers, sets its provider's key or removes it. Only the
 * user's settings are changed.
 */
export async function manageModels(ctx: CodeRouteContext, given?: unknown): Promise<ModelRow[] | undefined> {
  const args: ManageModelsArgs | undefined = typeof given === 'object' && given !== null ? (given as ManageModelsArgs) : undefined;
  if (args?.remove) await edit(ctx, args.remove, 'remove');
  if (args?.model && args.tags) await edit(ctx, args.model, args.tags.filter((t): t is ModelTag => (MODEL_TAGS as readonly string[]).includes(t)));
  if (args) return rows(ctx);

  const list = await rows(ctx);
  type Item = vscode.QuickPickItem & { row?: ModelRow; command?: string };
  const { providers } = ctx.settings.current.settings;
  const items: Item[] = [
    ...list.map((row) => {
      const provider = providers.find((p) => p.id === row.provider);
      return {
        label: row.id,
        description: `${row.tags.join(', ') || 'no tier'} · ${row.provider}${provider ? ` (${providerEndpoint(provider)})` : ''}`,
        detail: [row.price, `key ${row.key}`, row.lastError ? `last error: ${row.lastError}` : undefined].filter(Boolean).join(' · '),
        row,
      };
    }),
    { label: '', kind: vscode.QuickPickItemKind.Separator },
    { label: '$(add) Add Provider…', command: 'coderoute.addProvider' },
    { label: '$(search) Detect Models…', command: 'coderoute.detectModels' },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'CodeRoute: Manage Models', placeHolder: list.length ? 'Pick a model to change its tiers or remove it' : 'No model is configured yet', matchOnDescription: true });
  if (picked?.command) {
    void vscode.commands.executeCommand(picked.command);
    return list;
  }
  if (!picked?.row) return list;
  const row = picked.row;
  const action = await vscode.window.showQuickPick(['Change Tiers', ...(row.key === 'not needed' ? [] : ['Set API Key']), 'Remove', 'Open User Settings'], { title: `CodeRoute: ${row.id}` });
  if (action === 'Change Tiers') {
    const tags = await vscode.window.showQuickPick(
      MODEL_TAGS.map((tag) => ({ label: tag, picked: row.tags.includes(tag) })),
      { canPickMany: true, title: `CodeRoute: tiers of ${row.id}` },
    );
    if (tags) await edit(ctx, row.id, tags.map((t) => t.label as ModelTag));
  } else if (action === 'Set API Key') {
    await vscode.commands.executeCommand('coderoute.setApiKey', row.provider);
  } else if (action === 'Remove') {
    await edit(ctx, row.id, 'remove');
  } else if (action === 'Open User Settings') {
    await vscode.commands.executeCommand('workbench.action.openSettingsJson');
  }
  return rows(ctx);
}

/** Changes one model entry in the user settings; a provider left with no model goes too. */
async function edit(ctx: CodeRouteContext, modelId: string, change: ModelTag[] | 'remove'): Promise<void> {
  const entries = readUserEntries();
  const model = entries.models.find((m) => m.id === modelId);
  if (!model) {
    void vscode.window.showErrorMessage(`There is no model "${modelId}" in your user settings.`);
    return;
  }
  if (change === 'remove') {
    entries.models = entries.models.filter((m) => m !== model);
    if (!entries.models.some((m) => m.provider === model.provider)) entries.providers = entries.providers.filter((p) => p.id !== model.provider);
  } else {
    model.tags = change;
    // The tiers are now the user's, not CodeRoute's suggestion.
    delete model.tierNote;
  }
  await writeUserEntries(entries);
  ctx.log.info(`manage models: ${modelId} ${change === 'remove' ? 'removed' : `now ${change.join(', ')}`} in the user settings`);
}
