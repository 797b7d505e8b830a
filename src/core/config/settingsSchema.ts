import * as z from 'zod';
import { TASKS, type Task } from '../context/requestContext';

/**
 * The settings schema: the single source of truth for `contributes.configuration` in
 * package.json (a unit test compares the two) and for validating what the host reads.
 * Keys are relative to the `coderoute.` section.
 */

const idPattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const modelIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;

/** `openai`: any OpenAI-compatible API; `anthropic`: the Messages API; `vscode-lm`: VS Code's Language Model API (no URL, no key). */
export const PROVIDER_KINDS = ['openai', 'anthropic', 'vscode-lm'] as const;
export const MODEL_TAGS = ['cheap', 'code', 'strong', 'local'] as const;
export const BALANCE_POLICIES = ['round-robin', 'least-outstanding'] as const;
export const MODEL_CAPABILITIES = ['chat', 'fim', 'tools', 'images'] as const;
/** How a `fim` model is prompted (see `src/core/complete/fimPrompt.ts`). */
export const FIM_TEMPLATES = ['auto', 'suffix', 'chat', 'qwen', 'deepseek', 'codellama', 'starcoder', 'codestral'] as const;
export const ROUTING_MODES = ['task', 'performance', 'hybrid'] as const;
/** Task names a rule can match: the seven tasks and the three kinds of inline completion. */
export const RULE_TASKS = ['format', 'explain', 'generate', 'debug', 'complete', 'chat', 'agent', 'complete-line', 'complete-block', 'complete-comment'] as const;

export type ModelTag = (typeof MODEL_TAGS)[number];
export type ModelCapability = (typeof MODEL_CAPABILITIES)[number];
export type RoutingMode = (typeof ROUTING_MODES)[number];

/**
 * A routing rule: when every condition of `when` holds, the request goes to `use` (model ids or
 * tiers, in order). Rules are tried in order; the first that matches decides.
 */
export const ruleSchema = z
  .object({
    id: z.string().regex(idPattern),
    when: z
      .object({
        task: z.array(z.enum(RULE_TASKS)).min(1).optional(),
        language: z.array(z.string().min(1)).min(1).optional(),
        /** Workspace-relative globs, for example `src/billing/**`. */
        path: z.array(z.string().min(1)).min(1).optional(),
        /** Inclusive range within [0, 1]. */
        difficulty: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]).optional(),
        privacy: z.enum(['any', 'local-only']).optional(),
      })
      .strict()
      .default({}),
    use: z.array(z.string().min(1)).min(1).max(8),
  })
  .strict();

export type RoutingRule = z.output<typeof ruleSchema>;

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

/** An OpenTelemetry collector: empty (off), or an http(s) base URL without credentials in it. */
const otlpEndpoint = z
  .string()
  .trim()
  .refine((value) => value === '' || httpUrl.safeParse(value).success, { error: 'must be empty (off) or an http:// or https:// URL' })
  .refine((value) => value === '' || !/^[a-z]+:\/\/[^/?#]*@/i.test(value), {
    error: 'must not hold a user name or password; use CodeRoute: Set OpenTelemetry Collector Token',
  });

export const providerSchema = z
  .object({
    id: z.string().regex(idPattern),
    kind: z.enum(PROVIDER_KINDS),
    baseUrl: httpUrl.optional(),
    auth: z.enum(['apiKey', 'none']).default('apiKey'),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.kind === 'vscode-lm' && p.baseUrl !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['baseUrl'], message: 'vscode-lm providers have no base URL; VS Code chooses where its models run' });
    }
    if (p.kind !== 'vscode-lm' && p.baseUrl === undefined) {
      ctx.addIssue({ code: 'custom', path: ['baseUrl'], message: `a ${p.kind} provider needs a baseUrl` });
    }
  })
  .transform((p): ProviderConfig =>
    p.kind === 'vscode-lm'
      ? { id: p.id, kind: 'vscode-lm', auth: 'none' }
      : { id: p.id, kind: p.kind, baseUrl: p.baseUrl as string, auth: p.auth },
  );

/** A provider reached over HTTP with its own URL (and usually a key). */
export interface HttpProviderConfig {
  id: string;
  kind: 'openai' | 'anthropic';
  baseUrl: string;
  auth: 'apiKey' | 'none';
}

/** VS Code's Language Model API: the models the user's extensions (for example Copilot) offer. */
export interface LanguageModelProviderConfig {
  id: string;
  kind: 'vscode-lm';
  auth: 'none';
}

export type ProviderConfig = HttpProviderConfig | LanguageModelProviderConfig;

/** Where a provider sends requests, for messages: its URL, or VS Code for `vscode-lm`. */
export function providerEndpoint(provider: ProviderConfig): string {
  return provider.kind === 'vscode-lm' ? 'VS Code language models' : provider.baseUrl;
}

const deploymentSchema = z
  .object({
    provider: z.string().min(1),
    name: z.string().min(1).optional(),
    weight: z.number().min(0).max(1000).default(1),
  })
  .strict();

export const modelSchema = z
  .object({
    id: z.string().regex(modelIdPattern),
    provider: z.string().min(1),
    name: z.string().min(1),
    tags: z.array(z.enum(MODEL_TAGS)).default([]),
    /** Premium requests one call costs (`vscode-lm` models: the model's multiplier). */
    premiumRequests: z.number().min(0).max(100).optional(),
    /** More deployments of the same model (another provider or region), balanced with the first. */
    deployments: z.array(deploymentSchema).max(32).optional(),
    balance: z.enum(BALANCE_POLICIES).default('round-robin'),
    /**
     * `chat` answers messages; `fim` completes the middle between a prefix and a suffix; `tools`
     * calls tools (agent mode in VS Code's chat); `images` reads images. By default a chat model
     * that calls tools, as today's chat APIs do.
     */
    capabilities: z.array(z.enum(MODEL_CAPABILITIES)).min(1).default(['chat', 'tools']),
    /**
     * How inline completions are asked of a `fim` model: `auto` (the FIM tokens of a known family
     * from the model's name, else the endpoint's `suffix`), `suffix`, a family, or `chat`.
     */
    fimTemplate: z.enum(FIM_TEMPLATES).optional(),
    /** Tokens the model reads at most (prompt and answer); unknown when absent. */
    contextWindow: z.number().int().min(256).max(10_000_000).optional(),
    /** Why these tiers: written by CodeRoute when it suggested them (Detect Models, Add Provider); Why This Model? quotes it. */
    tierNote: z.string().max(400).optional(),
    /** Dollars per million tokens, overriding the pricing library. */
    price: z
      .object({ inputPerMTok: z.number().min(0).max(10_000), outputPerMTok: z.number().min(0).max(10_000) })
      .strict()
      .optional(),
  })
  .strict();

export type ModelConfig = z.output<typeof modelSchema>;
export type DeploymentConfig = z.output<typeof deploymentSchema>;

/**
 * No provider and no model by default: CodeRoute sends nothing anywhere until the user chooses
 * (by accepting the models it found, CodeRoute: Add Provider, or by hand). A default naming a paid
 * service would send a new user's first request there, and stop at a key they never meant to get.
 */
const defaultProviders: ProviderConfig[] = [];
const defaultModels: ModelConfig[] = [];
/** Tiers by default: format, explain and completions to cheap models; generate and debug to code models. */
const defaultTaskModels: Record<Task, string> = {
  format: 'cheap',
  explain: 'cheap',
  generate: 'code',
  debug: 'code',
  complete: 'cheap',
  chat: 'cheap',
  agent: 'code',
};

/**
 * A task's model id or tier (`cheap`, `code`, `strong`, `local`: every model with that tag), or an
 * ordered list of them: the first is tried first, the rest are its fallbacks.
 */
function taskModels(fallback: string) {
  return z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(8)]).default(fallback);
}

/** Completions everywhere but in prose and commit messages, unless the user says otherwise. */
const DEFAULT_COMPLETION_LANGUAGES: Readonly<Record<string, boolean>> = { '*': true, plaintext: false, markdown: false, scminput: false };

/** What a budget does at its limit: route to a model that fits what is left, or send nothing. */
export const ON_LIMIT = ['step-down', 'stop'] as const;

/** One entry per setting, keyed without the `coderoute.` prefix. */
export const SETTING_SCHEMAS = {
  // Functions, so that every caller gets its own copy of a default list.
  providers: z.array(providerSchema).default(() => structuredClone(defaultProviders)),
  models: z.array(modelSchema).default(() => structuredClone(defaultModels)),
  'tasks.format': taskModels(defaultTaskModels.format),
  'tasks.explain': taskModels(defaultTaskModels.explain),
  'tasks.generate': taskModels(defaultTaskModels.generate),
  'tasks.debug': taskModels(defaultTaskModels.debug),
  'tasks.complete': taskModels(defaultTaskModels.complete),
  'tasks.chat': taskModels(defaultTaskModels.chat),
  'tasks.agent': taskModels(defaultTaskModels.agent),
  'request.timeoutSeconds': z.number().min(1).max(3600).default(120),
  'request.connectTimeoutSeconds': z.number().min(1).max(600).default(30),
  'request.idleTimeoutSeconds': z.number().min(1).max(3600).default(60),
  'request.maxOutputTokens': z.number().int().min(16).max(65536).default(2048),
  'routing.mode': z.enum(ROUTING_MODES).default('hybrid'),
  'routing.rules': z.array(ruleSchema).max(200).default(() => []),
  'routing.priceWeight': z.number().min(0).max(10).default(0.4),
  'routing.latencyTargetMs': z.number().int().min(0).max(600_000).default(0),
  'privacy.localOnly': z.array(z.string().min(1)).max(200).default(() => []),
  'privacy.noAi': z.array(z.string().min(1)).max(200).default(() => []),
  'budget.dailyUsd': z.number().min(0).max(100_000).default(0),
  'budget.monthlyUsd': z.number().min(0).max(1_000_000).default(0),
  'budget.perTaskDailyUsd': z.partialRecord(z.enum(TASKS), z.number().min(0).max(100_000)).default(() => ({})),
  'budget.warnAt': z.array(z.number().int().min(1).max(99)).max(10).default(() => [50, 75, 90]),
  'budget.onLimit': z
    .object({ daily: z.enum(ON_LIMIT).default('step-down'), monthly: z.enum(ON_LIMIT).default('stop'), perTask: z.enum(ON_LIMIT).default('step-down') })
    .strict()
    .default(() => ({ daily: 'step-down' as const, monthly: 'stop' as const, perTask: 'step-down' as const })),
  'budget.unknownPrice': z.enum(['highest-known', 'refuse']).default('highest-known'),
  'learning.enabled': z.boolean().default(true),
  'learning.explore': z.boolean().default(true),
  'learning.shareAcrossWorkspaces': z.boolean().default(false),
  'telemetry.otlpEndpoint': otlpEndpoint.default(''),
  'completions.enabled': z.boolean().default(true),
  'completions.languages': z.record(z.string().min(1), z.boolean()).default(() => ({ ...DEFAULT_COMPLETION_LANGUAGES })),
  'completions.maxOutputTokens': z.number().int().min(16).max(4096).default(256),
  'completions.debounceMs': z.number().int().min(0).max(2000).default(75),
  'chat.showRoutingNote': z.boolean().default(false),
  'discovery.ollama': z.boolean().default(true),
  'discovery.ollamaPort': z.number().int().min(1).max(65535).default(11434),
} as const;

export type SettingKey = keyof typeof SETTING_SCHEMAS;
export const SETTING_KEYS = Object.keys(SETTING_SCHEMAS) as SettingKey[];

/**
 * Settings only the user may set (application scope): where code and keys are sent, what may be
 * spent, and which paths are private. A workspace's `.vscode/settings.json` would otherwise
 * override them (raise a budget, empty a no-AI list); a repository tightens through
 * `.vscode/coderoute.json` instead. Where learning is kept is also the user's choice: a workspace
 * could otherwise pour its signals into every other workspace's state. So is where spend is
 * exported: a workspace could otherwise send your usage (and the collector token) to its own host.
 */
export const APPLICATION_SCOPED_SETTINGS: readonly SettingKey[] = ['providers', 'models', 'budget.dailyUsd', 'budget.monthlyUsd', 'budget.perTaskDailyUsd', 'budget.warnAt', 'budget.onLimit', 'budget.unknownPrice', 'privacy.localOnly', 'privacy.noAi', 'learning.shareAcrossWorkspaces', 'telemetry.otlpEndpoint', 'discovery.ollama', 'discovery.ollamaPort'];

export interface Settings {
  providers: ProviderConfig[];
  models: ModelConfig[];
  /** Per task, the model ids to try in order. */
  tasks: Record<Task, string[]>;
  request: { timeoutSeconds: number; connectTimeoutSeconds: number; idleTimeoutSeconds: number; maxOutputTokens: number };
  routing: {
    mode: RoutingMode;
    rules: RoutingRule[];
    /** How much a dollar of estimated cost weighs against acceptance probability (performance mode). */
    priceWeight: number;
    /** Models expected to take longer to answer are dropped (0 = no target). */
    latencyTargetMs: number;
  };
  /** Workspace-relative globs whose files are local-only or never sent. */
  privacy: { localOnly: string[]; noAi: string[] };
  /** Dollars; 0 = no budget. */
  budget: {
    dailyUsd: number;
    monthlyUsd: number;
    /** Daily dollars per task. */
    perTaskDailyUsd: Partial<Record<Task, number>>;
    /** Percentages of a budget at which to warn, ascending. */
    warnAt: number[];
    onLimit: { daily: (typeof ON_LIMIT)[number]; monthly: (typeof ON_LIMIT)[number]; perTask: (typeof ON_LIMIT)[number] };
    /** A model with no known price: charged at the highest known price, or refused. */
    unknownPrice: 'highest-known' | 'refuse';
  };
  learning: {
    /** Route with learned acceptance estimates and record the users' signals. */
    enabled: boolean;
    /** Bounded exploration (Thompson sampling) when learning. */
    explore: boolean;
    /** One learning state in global storage for every workspace, instead of one per workspace. */
    shareAcrossWorkspaces: boolean;
  };
  telemetry: {
    /** The OpenTelemetry collector spend is exported to (OTLP/HTTP JSON); empty = off. */
    otlpEndpoint: string;
  };
  completions: {
    /** Inline completions (ghost text) on or off, everywhere. */
    enabled: boolean;
    /** Per language id, with `*` for the rest: whether completions are asked for. */
    languages: Record<string, boolean>;
    /** The longest completion asked of a model, in tokens (also what a budget holds for one). */
    maxOutputTokens: number;
    /** The shortest wait after a keystroke before asking; slower typing waits longer (about 1.5 intervals, up to 400 ms or this). */
    debounceMs: number;
  };
  discovery: {
    /** Ask the Ollama on this machine (127.0.0.1 only) which models it has, at start and on Detect Models. */
    ollama: boolean;
    /** The loopback port that Ollama listens on (OLLAMA_HOST's port; 11434 by default). */
    ollamaPort: number;
  };
  chat: {
    /** End each answer of CodeRoute's chat models with a line naming the model and why it was chosen. */
    showRoutingNote: boolean;
  };
}

/** Whether inline completions are on for a language: its own entry, else `*`, else on. */
export function completionsEnabledFor(settings: Settings, languageId: string): boolean {
  const { enabled, languages } = settings.completions;
  return enabled && (languages[languageId] ?? languages['*'] ?? true);
}

/** A problem found in the user's settings: which setting, and what is wrong, in one sentence. */
export interface SettingsIssue {
  setting: string;
  message: string;
}

export interface ParsedSettings {
  settings: Settings;
  issues: SettingsIssue[];
}

function describe(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

/** Validates a list item by item so that one broken entry does not discard the good ones. */
function parseList<T extends z.ZodTypeAny>(
  key: SettingKey,
  item: T,
  raw: unknown,
  issues: SettingsIssue[],
): z.output<T>[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw)) {
    issues.push({ setting: `coderoute.${key}`, message: 'must be a list; using the default' });
    return undefined;
  }
  const out: z.output<T>[] = [];
  const seen = new Set<string>();
  raw.forEach((entry, index) => {
    const parsed = item.safeParse(entry);
    if (!parsed.success) {
      issues.push({ setting: `coderoute.${key}[${index}]`, message: `${describe(parsed.error)}; entry ignored` });
      return;
    }
    const id = (parsed.data as { id: string }).id;
    if (seen.has(id)) {
      issues.push({ setting: `coderoute.${key}[${index}]`, message: `duplicate id "${id}"; entry ignored` });
      return;
    }
    seen.add(id);
    out.push(parsed.data);
  });
  return out;
}

function parseScalar<K extends SettingKey>(key: K, raw: unknown, issues: SettingsIssue[]): z.output<(typeof SETTING_SCHEMAS)[K]> {
  const schema = SETTING_SCHEMAS[key];
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data as z.output<(typeof SETTING_SCHEMAS)[K]>;
  issues.push({ setting: `coderoute.${key}`, message: `${describe(parsed.error)}; using the default` });
  return schema.parse(undefined) as z.output<(typeof SETTING_SCHEMAS)[K]>;
}

/**
 * Builds validated settings from raw values (undefined = not set). Invalid values fall back to
 * defaults (lists: the invalid entries are dropped) and are reported as issues, never thrown.
 */
export function parseSettings(read: (key: SettingKey) => unknown): ParsedSettings {
  const issues: SettingsIssue[] = [];
  const providers =
    parseList('providers', providerSchema, read('providers'), issues) ?? SETTING_SCHEMAS.providers.parse(undefined);
  const models = parseList('models', modelSchema, read('models'), issues) ?? SETTING_SCHEMAS.models.parse(undefined);
  const providerIds = new Set(providers.map((p) => p.id));
  models.forEach((model) => {
    if (!providerIds.has(model.provider)) {
      issues.push({
        setting: 'coderoute.models',
        message: `model "${model.id}" names provider "${model.provider}", which is not in coderoute.providers`,
      });
    }
    model.deployments?.forEach((d) => {
      if (providerIds.has(d.provider)) return;
      issues.push({
        setting: 'coderoute.models',
        message: `model "${model.id}" has a deployment on provider "${d.provider}", which is not in coderoute.providers`,
      });
    });
  });
  const tasks = Object.fromEntries(
    TASKS.map((task) => {
      const value = parseScalar(`tasks.${task}` as SettingKey, read(`tasks.${task}` as SettingKey), issues) as string | string[];
      return [task, typeof value === 'string' ? [value] : [...new Set(value)]];
    }),
  ) as Record<Task, string[]>;
  return {
    settings: {
      providers,
      models,
      tasks,
      request: {
        timeoutSeconds: parseScalar('request.timeoutSeconds', read('request.timeoutSeconds'), issues),
        connectTimeoutSeconds: parseScalar('request.connectTimeoutSeconds', read('request.connectTimeoutSeconds'), issues),
        idleTimeoutSeconds: parseScalar('request.idleTimeoutSeconds', read('request.idleTimeoutSeconds'), issues),
        maxOutputTokens: parseScalar('request.maxOutputTokens', read('request.maxOutputTokens'), issues),
      },
      routing: {
        mode: parseScalar('routing.mode', read('routing.mode'), issues),
        rules: parseList('routing.rules', ruleSchema, read('routing.rules'), issues) ?? [],
        priceWeight: parseScalar('routing.priceWeight', read('routing.priceWeight'), issues),
        latencyTargetMs: parseScalar('routing.latencyTargetMs', read('routing.latencyTargetMs'), issues),
      },
      privacy: {
        localOnly: parseScalar('privacy.localOnly', read('privacy.localOnly'), issues),
        noAi: parseScalar('privacy.noAi', read('privacy.noAi'), issues),
      },
      budget: {
        dailyUsd: parseScalar('budget.dailyUsd', read('budget.dailyUsd'), issues),
        monthlyUsd: parseScalar('budget.monthlyUsd', read('budget.monthlyUsd'), issues),
        perTaskDailyUsd: parseScalar('budget.perTaskDailyUsd', read('budget.perTaskDailyUsd'), issues),
        warnAt: [...new Set(parseScalar('budget.warnAt', read('budget.warnAt'), issues))].sort((a, b) => a - b),
        onLimit: parseScalar('budget.onLimit', read('budget.onLimit'), issues),
        unknownPrice: parseScalar('budget.unknownPrice', read('budget.unknownPrice'), issues),
      },
      learning: {
        enabled: parseScalar('learning.enabled', read('learning.enabled'), issues),
        explore: parseScalar('learning.explore', read('learning.explore'), issues),
        shareAcrossWorkspaces: parseScalar('learning.shareAcrossWorkspaces', read('learning.shareAcrossWorkspaces'), issues),
      },
      telemetry: {
        otlpEndpoint: parseScalar('telemetry.otlpEndpoint', read('telemetry.otlpEndpoint'), issues),
      },
      completions: {
        enabled: parseScalar('completions.enabled', read('completions.enabled'), issues),
        languages: parseScalar('completions.languages', read('completions.languages'), issues),
        maxOutputTokens: parseScalar('completions.maxOutputTokens', read('completions.maxOutputTokens'), issues),
        debounceMs: parseScalar('completions.debounceMs', read('completions.debounceMs'), issues),
      },
      discovery: {
        ollama: parseScalar('discovery.ollama', read('discovery.ollama'), issues),
        ollamaPort: parseScalar('discovery.ollamaPort', read('discovery.ollamaPort'), issues),
      },
      chat: {
        showRoutingNote: parseScalar('chat.showRoutingNote', read('chat.showRoutingNote'), issues),
      },
    },
    issues,
  };
}

export function defaultSettings(): Settings {
  return parseSettings(() => undefined).settings;
}
