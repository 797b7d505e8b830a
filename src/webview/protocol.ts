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
