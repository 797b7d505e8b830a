import * as jsonc from 'jsonc-parser';
import * as z from 'zod';
import { TASKS, type Task } from '../context/requestContext';
import { MODEL_TAGS, type ModelConfig, type ModelTag, type ProviderConfig, type RoutingMode, type RoutingRule, type Settings } from '../config/settingsSchema';

/**
 * `.vscode/coderoute.json`: what a repository may say about routing. It can only tighten the
 * user's policy: lower budgets, deny providers or models, pin tasks to a tier, mark paths
 * local-only or no-AI. It names no endpoint, adds no model and raises nothing; unknown keys are
 * errors, so an attempt to do any of that is reported rather than quietly half-applied.
 */
const repoBudgetAboveZero = 'must be above 0 (0 means no budget, which a repository policy cannot set)';

export const repoPolicySchema = z
  .object({
    $schema: z.string().optional(),
    // Above 0: in settings 0 means "no budget", so a repository's 0 would lift the user's.
    budget: z
      .object({
        dailyUsd: z.number().gt(0, repoBudgetAboveZero).max(100_000).optional(),
        monthlyUsd: z.number().gt(0, repoBudgetAboveZero).max(1_000_000).optional(),
        /** Daily dollars per task, lowering (or adding) the user's. */
        perTaskDailyUsd: z.partialRecord(z.enum(TASKS), z.number().gt(0, repoBudgetAboveZero).max(100_000)).optional(),
      })
      .strict()
      .optional(),
    deny: z
      .object({
        providers: z.array(z.string().min(1)).max(100).optional(),
        models: z.array(z.string().min(1)).max(500).optional(),
      })
      .strict()
      .optional(),
    /** Per task, the only tier its models may come from (for example `cheap`). */
    tasks: z.partialRecord(z.enum(TASKS), z.enum(MODEL_TAGS)).optional(),
    privacy: z
      .object({
        localOnly: z.array(z.string().min(1)).max(200).optional(),
        noAi: z.array(z.string().min(1)).max(200).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type RepoPolicy = z.output<typeof repoPolicySchema>;

/** The JSON schema contributed for `.vscode/coderoute.json` (completion and errors in the editor). */
export function repoPolicyJsonSchema(): Record<string, unknown> {
  return {
    ...(z.toJSONSchema(repoPolicySchema, { io: 'input' }) as Record<string, unknown>),
    // VS Code's JSON support reads these, so the editor accepts what parseRepoPolicy accepts.
    allowComments: true,
    allowTrailingCommas: true,
    title: 'CodeRoute repository policy',
    description: 'Tightens the routing policy for this repository: lower budgets, deny providers or models, pin tasks to a tier, mark paths local-only or no-AI. It cannot name endpoints, add models or raise budgets.',
  };
}

/** The user's settings and the repository's policy, merged: what routing obeys. */
export interface Policy {
  mode: RoutingMode;
  rules: RoutingRule[];
  priceWeight: number;
  latencyTargetMs: number;
  providers: ProviderConfig[];
  /** The user's models minus the denied ones and those of denied providers. */
  models: ModelConfig[];
  /** Per task, model ids or tiers in order. */
  tasks: Record<Task, string[]>;
  /** Per task, the one tier the repository allows. */
  taskTiers: Partial<Record<Task, ModelTag>>;
  /** Model ids the repository policy took away (directly or through their provider). */
  deniedModels: string[];
  privacy: { localOnly: string[]; noAi: string[] };
  /** Dollars; 0 = no budget. */
  budget: { dailyUsd: number; monthlyUsd: number; perTaskDailyUsd?: Partial<Record<Task, number>>; onLimit?: { daily: 'step-down' | 'stop'; monthly: 'step-down' | 'stop' } };
  /** Set when a repository policy applies: its content hash, for the approval it was given. */
  repo?: { hash: string };
  /** What the repository policy changed, and what it asked for that was refused, one sentence each. */
  notes: string[];
}

/** The lower of two budgets, where 0 means "no budget". */
function tighter(user: number, repo: number | undefined): number {
  if (repo === undefined) return user;
  if (user === 0) return repo;
  return Math.min(user, repo);
}

/**
 * Merges the repository's policy into the user's settings, tighten-only. Without a repository
 * policy (absent, untrusted, unapproved or malformed) the user's settings apply unchanged.
 */
export function mergePolicy(settings: Settings, repo?: { policy: RepoPolicy; hash: string }): Policy {
  const base: Policy = {
    mode: settings.routing.mode,
    rules: settings.routing.rules,
    priceWeight: settings.routing.priceWeight,
    latencyTargetMs: settings.routing.latencyTargetMs,
    providers: settings.providers,
    models: settings.models,
    tasks: settings.tasks,
    taskTiers: {},
    deniedModels: [],
    privacy: settings.privacy,
    budget: settings.budget,
    notes: [],
  };
  if (!repo) return base;
  const { policy } = repo;
  const notes: string[] = [];
  const deniedProviders = new Set(policy.deny?.providers ?? []);
  const deniedModels = new Set(policy.deny?.models ?? []);
  const providers = settings.providers.filter((p) => !deniedProviders.has(p.id));
  if (providers.length < settings.providers.length) {
    notes.push(`The repository policy denies provider(s) ${settings.providers.filter((p) => !providers.includes(p)).map((p) => p.id).join(', ')}.`);
  }
  const models = settings.models
    .filter((m) => !deniedModels.has(m.id) && !deniedProviders.has(m.provider))
    // A deployment on a denied provider would still send requests there.
    .map((m) => (m.deployments?.some((d) => deniedProviders.has(d.provider)) ? { ...m, deployments: m.deployments.filter((d) => !deniedProviders.has(d.provider)) } : m));
  if (models.length < settings.models.length) {
    const kept = new Set(models.map((m) => m.id));
    notes.push(`The repository policy denies ${settings.models.length - models.length} model(s): ${settings.models.filter((m) => !kept.has(m.id)).map((m) => m.id).join(', ')}.`);
  }
  for (const id of deniedModels) if (!settings.models.some((m) => m.id === id)) notes.push(`The repository policy denies model "${id}", which is not configured.`);
  const perTaskDailyUsd: Partial<Record<Task, number>> = { ...(settings.budget.perTaskDailyUsd ?? {}) };
  for (const [task, asked] of Object.entries(policy.budget?.perTaskDailyUsd ?? {}) as [Task, number][]) {
    const mine = perTaskDailyUsd[task] ?? 0;
    perTaskDailyUsd[task] = tighter(mine, asked);
    if (perTaskDailyUsd[task] === asked && asked !== mine) notes.push(`The repository policy lowers the daily ${task} budget to $${asked}.`);
  }
  const budget = {
    ...settings.budget,
    dailyUsd: tighter(settings.budget.dailyUsd, policy.budget?.dailyUsd),
    monthlyUsd: tighter(settings.budget.monthlyUsd, policy.budget?.monthlyUsd),
    perTaskDailyUsd,
  };
  for (const key of ['dailyUsd', 'monthlyUsd'] as const) {
    const asked = policy.budget?.[key];
    if (asked === undefined) continue;
    if (budget[key] === asked && asked !== settings.budget[key]) notes.push(`The repository policy lowers budget.${key} to $${asked}.`);
    else if (asked > budget[key] && settings.budget[key] !== 0) notes.push(`The repository policy asked for budget.${key} $${asked}, above yours ($${settings.budget[key]}); yours applies.`);
  }
  const taskTiers = { ...(policy.tasks ?? {}) };
  for (const [task, tier] of Object.entries(taskTiers)) {
    const none = models.some((m) => m.tags.includes(tier)) ? '' : `, but none of your models is tagged ${tier}`;
    notes.push(`The repository policy pins ${task} to ${tier} models${none}.`);
  }
  const privacy = {
    localOnly: [...new Set([...settings.privacy.localOnly, ...(policy.privacy?.localOnly ?? [])])],
    noAi: [...new Set([...settings.privacy.noAi, ...(policy.privacy?.noAi ?? [])])],
  };
  if (policy.privacy?.localOnly?.length) notes.push(`The repository policy marks ${policy.privacy.localOnly.join(', ')} local-only.`);
  if (policy.privacy?.noAi?.length) notes.push(`The repository policy marks ${policy.privacy.noAi.join(', ')} no-AI.`);
  const deniedIds = settings.models.filter((m) => !models.some((kept) => kept.id === m.id)).map((m) => m.id);
  return { ...base, providers, models, deniedModels: deniedIds, budget, taskTiers, privacy, repo: { hash: repo.hash }, notes };
}

/** A problem in the repository policy file, with where it is (character offsets) for the Problems view. */
export interface RepoPolicyProblem {
  /** The JSON path of the value at fault (empty for the whole file). */
  path: (string | number)[];
  offset: number;
  length: number;
  message: string;
}

/**
 * Reads the policy file's text (JSON with comments, as `.vscode` files are): the policy, or every
 * problem found with its place in the text. A file that does not parse or validate does not apply
 * at all (the user's policy stands), and each problem is reported.
 */
export function parseRepoPolicy(text: string): { policy?: RepoPolicy; problems: RepoPolicyProblem[] } {
  const syntax: jsonc.ParseError[] = [];
  const raw: unknown = jsonc.parse(text, syntax, { allowTrailingComma: true, disallowComments: false });
  if (syntax.length > 0) {
    return {
      problems: syntax.map((e) => ({ path: [], offset: e.offset, length: Math.max(1, e.length), message: `Not valid JSON: ${jsonc.printParseErrorCode(e.error)}` })),
    };
  }
  const parsed = repoPolicySchema.safeParse(raw);
  if (parsed.success) return { policy: parsed.data, problems: [] };
  const tree = jsonc.parseTree(text, [], { allowTrailingComma: true });
  return {
    problems: parsed.error.issues.flatMap((issue) => {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      if (issue.code === 'unrecognized_keys') {
        // Point at each unknown key itself.
        return issue.keys.map((key) => {
          const node = tree && jsonc.findNodeAtLocation(tree, [...path, key])?.parent?.children?.[0];
          return {
            path: [...path, key],
            offset: node?.offset ?? 0,
            length: node?.length ?? 1,
            message:
              path.length === 0
                ? `"${key}" is not allowed: a repository policy can only tighten (budget, deny, tasks, privacy); it cannot name endpoints, add models or raise budgets.`
                : `"${key}" is not allowed in ${path.join('.')}.`,
          };
        });
      }
      const node = tree && jsonc.findNodeAtLocation(tree, path);
      return [{ path, offset: node?.offset ?? 0, length: node?.length ?? 1, message: issue.message }];
    }),
  };
}
