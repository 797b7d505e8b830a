import type { Task } from '../context/requestContext';
import type { ModelConfig, ProviderConfig, Settings } from '../config/settingsSchema';

/** A model the router considered, with the score it gave it (higher is better). */
export interface RouteCandidate {
  modelId: string;
  score: number;
  note: string;
}

/** A model resolved together with the provider that serves it. */
export interface RoutedModel {
  model: ModelConfig;
  provider: ProviderConfig;
}

export interface RouteDecision {
  requestId: string;
  task: Task;
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
  return { model, provider };
}

/**
 * The first routing rule: the task's model from `coderoute.tasks.<task>`. The routing engine
 * (rules, performance-based choice, fallbacks) builds on this shape.
 */
export function routeByTask(requestId: string, task: Task, settings: Settings): RouteDecision {
  const setting = `coderoute.tasks.${task}`;
  const chosen = resolve(settings, settings.tasks[task], setting);
  return {
    requestId,
    task,
    chosen,
    fallbacks: [],
    candidates: [{ modelId: chosen.model.id, score: 1, note: `set by ${setting}` }],
    decidedBy: 'task-setting',
    reason: `${task} goes to ${chosen.model.id} (${chosen.provider.id}) because ${setting} names it.`,
  };
}
