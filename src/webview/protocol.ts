// zod/mini: the same schemas at a fraction of the size, since this file is bundled into the webview.
import * as z from 'zod/mini';

/**
 * The one protocol between the extension host and its webview panels. Both sides validate what
 * they receive with these schemas; anything else is dropped.
 */

export const attemptRowSchema = z.object({
  requestId: z.string(),
  task: z.string(),
  modelId: z.string(),
  providerId: z.string(),
  status: z.enum(['ok', 'error', 'cancelled']),
  errorKind: z.optional(z.string()),
  inputTokens: z.number(),
  outputTokens: z.number(),
  usageEstimated: z.boolean(),
  latencyMs: z.number(),
  finishedAt: z.number(),
});

export type AttemptRow = z.infer<typeof attemptRowSchema>;

export const toWebviewSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('attempts'), attempts: z.array(attemptRowSchema) }),
]);

export const fromWebviewSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('openLog') }),
]);

export type ToWebview = z.infer<typeof toWebviewSchema>;
export type FromWebview = z.infer<typeof fromWebviewSchema>;

// ---- The spend panel (CodeRoute: Show Spend) ----

const spendTotalsSchema = z.object({
  usd: z.number(),
  counterfactualUsd: z.number(),
  savedUsd: z.number(),
  requests: z.number(),
  estimated: z.number(),
  premiumRequests: z.number(),
});

const seriesLineSchema = z.object({ key: z.string(), usd: z.array(z.number()), total: z.number() });

export const granularitySchema = z.enum(['day', 'week', 'month']);
export const groupBySchema = z.enum(['model', 'task']);

const spendSeriesSchema = z.object({
  granularity: granularitySchema,
  starts: z.array(z.number()),
  total: z.array(z.number()),
  byModel: z.array(seriesLineSchema),
  byTask: z.array(seriesLineSchema),
});

const keyTotalSchema = z.object({ key: z.string(), usd: z.number(), counterfactualUsd: z.number(), requests: z.number() });

export const spendSummarySchema = z.object({
  now: z.number(),
  today: spendTotalsSchema,
  week: spendTotalsSchema,
  month: spendTotalsSchema,
  all: spendTotalsSchema,
  series: z.object({ day: spendSeriesSchema, week: spendSeriesSchema, month: spendSeriesSchema }),
  byModel: z.array(keyTotalSchema),
  byTask: z.array(keyTotalSchema),
  acceptance: z.array(
    z.object({ model: z.string(), task: z.string(), accepted: z.number(), rejected: z.number(), noSignal: z.number(), rate: z.nullable(z.number()) }),
  ),
  budgets: z.array(
    z.object({
      id: z.string(),
      label: z.string(),
      limitUsd: z.number(),
      spentUsd: z.number(),
      reservedUsd: z.number(),
      share: z.number(),
      level: z.number(),
      onLimit: z.enum(['step-down', 'stop']),
    }),
  ),
});

/** A recent routing decision and its one-line reason. */
export const decisionRowSchema = z.object({ requestId: z.string(), at: z.number(), task: z.string(), model: z.string(), reason: z.string() });
export type DecisionRow = z.infer<typeof decisionRowSchema>;

export const learnedPickSchema = z.object({
  bucket: z.string(),
  model: z.string(),
  mean: z.number(),
  successes: z.number(),
  observations: z.number(),
  contenders: z.number(),
  runnerUp: z.optional(z.object({ model: z.string(), mean: z.number(), observations: z.number() })),
});

export const spendViewSchema = z.object({ granularity: granularitySchema, groupBy: groupBySchema });
export type SpendView = z.infer<typeof spendViewSchema>;

export const toSpendWebviewSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('spendSummary'),
    summary: spendSummarySchema,
    decisions: z.array(decisionRowSchema),
    picks: z.array(learnedPickSchema),
    view: spendViewSchema,
    canExportCsv: z.boolean(),
  }),
]);

export const fromSpendWebviewSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('openLog') }),
  z.object({ type: z.literal('exportCsv') }),
  z.object({ type: z.literal('setView'), view: spendViewSchema }),
]);

export type ToSpendWebview = z.infer<typeof toSpendWebviewSchema>;
export type FromSpendWebview = z.infer<typeof fromSpendWebviewSchema>;
export type SpendSummaryMessage = Extract<ToSpendWebview, { type: 'spendSummary' }>;
