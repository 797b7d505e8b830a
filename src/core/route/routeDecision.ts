import type { Task } from '../context/requestContext';
import { MODEL_TAGS, type ModelConfig, type ModelTag, type ProviderConfig, type RoutingMode, type Settings } from '../config/settingsSchema';
import type { ClassifiedTask } from '../classify/classification';
import { mergePolicy } from '../policy/policy';
import type { PrivacyClass } from '../policy/privacy';
import type { EstimateContext } from './estimates';
import { route } from './router';

/** A model the router considered, with the score it gave it (higher is better). */
export interface RouteCandidate {
  modelId: string;
  score: number;
  /** Predicted probability of acceptance. */
  pAccept?: number;
  /** Estimated dollars for this request (the price list, times what was learned of this model's cost here); undefined when the price is unknown. */
  estCostUsd?: number;
  /** The price list's estimate alone, when what was learned changed it. */
  listCostUsd?: number;
  note: string;
  /** Left out (privacy, policy, capability, budget, latency); `note` says why. */
  excluded?: boolean;
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
  /** The classified kind (for completions: line, block or comment); the task otherwise. */
  kind?: ClassifiedTask | Task;
  mode?: RoutingMode;
  /** Where the request's code may go; every model of the chain respects it. */
  privacy: PrivacyClass;
  chosen: RoutedModel;
  /** Models to try, in order, when the chosen one fails. */
  fallbacks: RoutedModel[];
  candidates: RouteCandidate[];
  /** True when bounded exploration chose a model other than the best expected one. */
  explored?: boolean;
  /** The context the estimates were asked for: what a learner records the answer's signal against. */
  estimateContext?: EstimateContext;
  /** Models rejected earlier for this request (escalation). */
  rejected?: string[];
  /** What decided: a rule, the task's setting, or the estimates (score). */
  decidedBy: 'rule' | 'task-setting' | 'estimate';
  /** The rule that fired, by id. */
  rule?: string;
  /** The facts of the request that routing looked at ("task debug", "40-line function", "2 errors"). */
  features?: string[];
  /** Estimated dollars for the chosen model; undefined when its price is unknown. */
  estimatedCostUsd?: number;
  budget?: { spentTodayUsd: number; spentMonthUsd: number; dailyUsd: number; monthlyUsd: number; source: string };
  /** What the repository policy changed or refused. */
  policyNotes?: string[];
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

/** A model id resolved with its provider and deployments; names the setting to fix when it cannot be. */
export function resolveModel(settings: Pick<Settings, 'models' | 'providers'>, modelId: string, setting: string): RoutedModel {
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
 * The task's models from `coderoute.tasks.<task>` in order, by the routing engine in `task` mode,
 * for callers that have no file or classification (the command line's `route --task`, tests).
 */
export function routeByTask(requestId: string, task: Task, settings: Settings, privacy: PrivacyClass = 'any'): RouteDecision {
  const policy = mergePolicy({ ...settings, routing: { ...settings.routing, mode: 'task', rules: [] } });
  return route({ requestId, task, languageId: 'plaintext', path: '', policy, directives: { noAi: false, localOnly: privacy === 'local-only' } });
}
