import type { Task } from '../../core/context/requestContext';
import { missingKeyMessage, settingErrorMessage, settingKeyOf } from '../../core/config/settingOrigin';
import type { RouteDecision } from '../../core/route/routeDecision';
import { settingScope, workspaceSettingsFile } from '../settings/settingOrigin';
import { OPEN_LOG, OPEN_WALKTHROUGH, openScopeAction, type ErrorAction } from './userErrors';
import { noModelMessage } from '../../core/config/settingOrigin';

/** What a request is called in a message. */
export const ACTION_NAMES: Record<Task, string> = {
  explain: 'Explain',
  format: 'Format / Tidy',
  generate: 'Generate',
  debug: 'Debug / Fix',
  complete: 'Inline completion',
  chat: 'Chat',
  agent: 'Agent',
};

/**
 * A settings error as the user sees it: where the value that caused it was written (a workspace's
 * value is fixed in the workspace's file), and the action that opens that file.
 */
export function settingError(message: string, setting: string): { message: string; actions: ErrorAction[] } {
  const key = settingKeyOf(setting);
  const scope = key ? settingScope(key) : 'default';
  const open = openScopeAction(scope);
  return {
    message: key ? settingErrorMessage(message, `coderoute.${key}`, scope, workspaceSettingsFile()) : message,
    actions: [...(open ? [open] : []), { label: 'Open Settings', query: setting }, OPEN_LOG],
  };
}

/**
 * No key for the provider a request was routed to: which model it was, what chose it, and what to
 * do: set the key, or (when the provider is only CodeRoute's default) choose one in the walkthrough.
 */
export function missingKeyError(task: Task, decision: RouteDecision): { message: string; actions: ErrorAction[]; providerIsDefault: boolean } {
  const { model, provider } = decision.chosen;
  const modelSetting = decision.decidedBy === 'rule' ? 'coderoute.routing.rules' : decision.decidedBy === 'estimate' && decision.mode === 'performance' ? 'coderoute.models' : `coderoute.tasks.${task}`;
  const providerScope = settingScope('providers');
  const message = missingKeyMessage({
    action: ACTION_NAMES[task],
    modelId: model.id,
    providerId: provider.id,
    modelSetting,
    modelScope: settingScope(settingKeyOf(modelSetting) ?? `tasks.${task}`),
    providerScope,
    workspaceFile: workspaceSettingsFile(),
  });
  const setKey: ErrorAction = { label: 'Set API Key', providerId: provider.id };
  const providerIsDefault = providerScope === 'default';
  return { message, actions: [setKey, providerIsDefault ? OPEN_WALKTHROUGH : { label: 'Open Settings', query: 'coderoute.providers' }], providerIsDefault };
}

/**
 * No model configured at all (a new user with neither VS Code's models nor a local Ollama, or who
 * has not answered the offer yet): what to do instead of a bare error.
 */
export function noModelError(task: Task): { message: string; actions: ErrorAction[] } {
  return { message: noModelMessage(ACTION_NAMES[task]), actions: [{ label: 'Add Provider' }, { label: 'Detect Models' }] };
}
