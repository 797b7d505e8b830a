import { MODEL_TAGS, type ModelConfig, type ModelTag } from '../config/settingsSchema';
import type { Task } from '../context/requestContext';
import type { Policy } from '../policy/policy';
import { expandEntries } from '../route/routeDecision';

/** The tasks a chat request can be classified as: the editor actions, a general question, an agent turn. */
export const CHAT_TASKS: readonly Task[] = ['explain', 'generate', 'debug', 'format', 'chat', 'agent'];

/** Tokens a model is taken to read when `contextWindow` is not set: a common window of today's chat models. */
export const DEFAULT_CONTEXT_WINDOW = 128_000;

/** The picker id of CodeRoute Auto. */
export const AUTO_MODEL_ID = 'auto';

/**
 * One model CodeRoute offers in VS Code's chat model picker: Auto (routed like every other
 * request) or a tier the user pinned, with what every model behind it supports.
 */
export interface ChatModelEntry {
  /** `auto`, or `tier-<tag>`. */
  id: string;
  name: string;
  /** The tier a pinned entry keeps to; absent for Auto. */
  tier?: ModelTag;
  /** The configured models (ids) the entry may route to. */
  modelIds: string[];
  /** Every model that may take an agent turn (one that offers tools) calls tools. */
  toolCalling: boolean;
  /** The smallest window behind the entry, less the output allowance. */
  maxInputTokens: number;
  maxOutputTokens: number;
  /** The picker's short line and its hover text. */
  detail: string;
  tooltip: string;
}

const chatCapable = (model: ModelConfig) => model.capabilities.includes('chat');

/** The models `task` may reach: its setting's entries and every rule that can apply to it, or every model in performance mode. */
function reachable(policy: Policy, task: Task): string[] {
  if (policy.mode === 'performance') return policy.models.map((m) => m.id);
  const entries = [...policy.tasks[task], ...policy.rules.filter((r) => !r.when.task || r.when.task.includes(task)).flatMap((r) => r.use)];
  return expandEntries(policy.models, entries);
}

function modelsOf(policy: Policy, ids: readonly string[]): ModelConfig[] {
  const denied = new Set(policy.deniedModels);
  return ids.map((id) => policy.models.find((m) => m.id === id)).filter((m): m is ModelConfig => !!m && !denied.has(m.id) && chatCapable(m));
}

function limits(models: readonly ModelConfig[], maxOutputTokens: number): Pick<ChatModelEntry, 'maxInputTokens' | 'maxOutputTokens'> {
  const window = Math.min(...models.map((m) => m.contextWindow ?? DEFAULT_CONTEXT_WINDOW));
  return {
    // A window too small for the output allowance still takes some input: the answer is cut short then.
    maxInputTokens: Math.max(1024, window - maxOutputTokens),
    maxOutputTokens: Math.min(maxOutputTokens, window),
  };
}

const list = (ids: readonly string[]) => (ids.length <= 4 ? ids.join(', ') : `${ids.slice(0, 4).join(', ')} and ${ids.length - 4} more`);
const title = (tag: string) => tag.charAt(0).toUpperCase() + tag.slice(1);

/**
 * The picker's models for the policy: CodeRoute Auto over every model a chat request may be routed
 * to, then one per configured tier. Limits and capabilities are the intersection over each entry's
 * models (image input is not offered: the providers' requests carry text and tools only), so
 * VS Code never hands an agent turn (with tools) to an entry one of whose models cannot call them;
 * for Auto, tool calling is judged on the models the `agent` task reaches, since only agent turns
 * carry tools (routing leaves out a model without `tools` for them in any case).
 */
export function chatModelEntries(policy: Policy, maxOutputTokens: number): ChatModelEntry[] {
  const entries: ChatModelEntry[] = [];
  const auto = modelsOf(policy, [...new Set(CHAT_TASKS.flatMap((task) => reachable(policy, task)))]);
  if (auto.length > 0) {
    const agent = modelsOf(policy, reachable(policy, 'agent'));
    const ids = auto.map((m) => m.id);
    entries.push({
      id: AUTO_MODEL_ID,
      name: 'CodeRoute Auto',
      modelIds: ids,
      toolCalling: agent.length > 0 && agent.every((m) => m.capabilities.includes('tools')),
      ...limits(auto, maxOutputTokens),
      detail: `routes each request · ${ids.length} model${ids.length === 1 ? '' : 's'}`,
      tooltip:
        'CodeRoute Auto classifies each request (explain, generate, debug, format, a general question, or an agent turn with tools) and sends it to ' +
        `the model your routing policy picks for it, among ${list(ids)}, within your budgets, with fallbacks. ` +
        'Why This Model? and the Requests panel show each decision.',
    });
  }
  for (const tag of MODEL_TAGS) {
    const models = modelsOf(
      policy,
      policy.models.filter((m) => m.tags.includes(tag)).map((m) => m.id),
    );
    if (models.length === 0) continue;
    const ids = models.map((m) => m.id);
    entries.push({
      id: `tier-${tag}`,
      name: `CodeRoute ${title(tag)}`,
      tier: tag,
      modelIds: ids,
      toolCalling: models.every((m) => m.capabilities.includes('tools')),
      ...limits(models, maxOutputTokens),
      detail: `${tag} tier · ${list(ids)}`,
      tooltip: `Always a ${tag} model (${list(ids)}), with CodeRoute's budgets, fallbacks and spend accounting.`,
    });
  }
  return entries;
}
