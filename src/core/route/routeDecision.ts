import type { Task } from '../context/requestContext';
import { MODEL_TAGS, type ModelConfig, type ModelTag, type ProviderConfig, type Settings } from '../config/settingsSchema';
import { allowedFor, type PrivacyClass } from '../policy/privacy';

/** A model the router considered, with the score it gave it (higher is better). */
export interface RouteCandidate {
  modelId: string;
  score: number;
  note: string;
}

/** One place a model can be called: a provider, and the model's name there. */
export interface RoutedDeployment {
  /** `provider/name`: the endpoint whose health is tracked and whose load is balanced. */
  key: string;
  provider: ProviderConfig;
  name: string;
  weight: number;
}

/**
 * A model resolved together with the provider that serves it. `deployments` lists every place
 * it can be called, the model's own provider first; a call goes to one of them.
 */
export interface RoutedModel {
  model: ModelConfig;
  provider: ProviderConfig;
  deployments?: RoutedDeployment[];
}

export interface RouteDecision {
  requestId: string;
  task: Task;
  /** Where the request's code may go; every model of the chain respects it. */
  privacy: PrivacyClass;
  chosen: RoutedModel;
  /** Models to try, in order, when the chosen one fails. */
  fallbacks: RoutedModel[];
  candidates: RouteCandidate[];
  /** What decided: the name of the rule or estimate. */
  decidedBy: 'task-setting';
  /** One sentence a user can read to see why this model was chosen. */
  reason: string;
}

/** The decision could not be made from the settings; `setting` names what to fix. */
export class RouteError extends Error {
  constructor(
    message: string,
    readonly setting: string,
  ) {
    super(message);
    this.name = 'RouteError';
  }
}

/**
 * Task entries as model ids, in order: a model id stands for itself, a tier (`cheap`, `code`,
 * `strong`, `local`) for every model with that tag, in the order of coderoute.models. A name that
 * is neither is kept, so that resolving it names the setting to fix.
 */
export function expandEntries(models: readonly ModelConfig[], entries: readonly string[]): string[] {
  const ids: string[] = [];
  for (const entry of entries) {
    const byId = models.some((m) => m.id === entry);
    const tier = !byId && (MODEL_TAGS as readonly string[]).includes(entry);
    for (const id of tier ? models.filter((m) => m.tags.includes(entry as ModelTag)).map((m) => m.id) : [entry]) {
      if (!ids.includes(id)) ids.push(id);
    }
  }
  return ids;
}

function deployment(provider: ProviderConfig, name: string, weight: number): RoutedDeployment {
  return { key: `${provider.id}/${name}`, provider, name, weight };
}

function resolve(settings: Settings, modelId: string, setting: string): RoutedModel {
  const model = settings.models.find((m) => m.id === modelId);
  if (!model) {
    throw new RouteError(`Model "${modelId}" named by ${setting} is not in coderoute.models.`, setting);
  }
  const provider = settings.providers.find((p) => p.id === model.provider);
  if (!provider) {
    throw new RouteError(
      `Model "${model.id}" uses provider "${model.provider}", which is not in coderoute.providers.`,
      'coderoute.providers',
    );
  }
  const deployments = [deployment(provider, model.name, 1)];
  for (const extra of model.deployments ?? []) {
    // A deployment on an unknown provider was reported when the settings were read.
    const other = settings.providers.find((p) => p.id === extra.provider);
    if (other) deployments.push(deployment(other, extra.name ?? model.name, extra.weight));
  }
  return { model, provider, deployments };
}

/**
 * The first routing rule: the task's models from `coderoute.tasks.<task>`, in order; the first is
 * chosen and the rest are its fallbacks. For a `local-only` request the models not tagged `local`
 * are left out of the chain (and listed as excluded); when none is left, the first configured
 * model stays chosen so that the caller refuses with a message naming it, and nothing is sent.
 * The routing engine (rules, performance-based choice) builds on this shape.
 */
export function routeByTask(requestId: string, task: Task, settings: Settings, privacy: PrivacyClass = 'any'): RouteDecision {
  const setting = `coderoute.tasks.${task}`;
  const configured = expandEntries(settings.models, settings.tasks[task]).map((id) => resolve(settings, id, setting));
  const eligible = configured.filter((r) => allowedFor(privacy, r.model));
  const [chosen, ...fallbacks] = eligible.length > 0 ? eligible : configured.slice(0, 1);
  const candidates = configured.map((r, index): RouteCandidate => {
    const excluded = !allowedFor(privacy, r.model);
    return {
      modelId: r.model.id,
      score: excluded ? 0 : 1 - index / configured.length,
      note: excluded ? 'excluded: not tagged local, and the file is local-only' : `position ${index + 1} in ${setting}`,
    };
  });
  const rest = fallbacks.length > 0 ? `, then ${fallbacks.map((f) => f.model.id).join(', ')} if it fails` : '';
  return {
    requestId,
    task,
    privacy,
    chosen,
    fallbacks,
    candidates,
    decidedBy: 'task-setting',
    reason: `${task} goes to ${chosen.model.id} (${chosen.provider.id}) because ${setting} names it${rest}.`,
  };
}
