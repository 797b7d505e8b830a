import { z } from 'zod';

/**
 * The lines of the spend ledger (`ledger.jsonl`, one JSON object per line, append-only):
 * a reservation before a call, then exactly one final line for it — settled with what the call
 * cost, or released when it cost nothing — and, later, the user's verdict on the answer.
 */

const usd = z.number().finite().min(0);

/** Money set aside before a call: the most the call can cost (max tokens × price). */
export const reserveLineSchema = z.object({
  type: z.literal('reserve'),
  requestId: z.string().min(1),
  /** Milliseconds since the epoch. */
  at: z.number().finite(),
  task: z.string(),
  usd,
  /** The process that holds it: a reservation whose process is gone is charged in full. */
  pid: z.number().int(),
  /** Distinguishes a process from a later one that got the same pid. */
  owner: z.string(),
});
export type ReserveLine = z.infer<typeof reserveLineSchema>;

/** What one request cost, written once when it ends. */
export const settleLineSchema = z.object({
  type: z.literal('settle'),
  requestId: z.string().min(1),
  at: z.number().finite(),
  task: z.string(),
  language: z.string(),
  /** The model that answered (the last one tried when none did). */
  model: z.string(),
  provider: z.string(),
  tokensIn: z.number().int().min(0),
  tokensOut: z.number().int().min(0),
  /** True when the tokens (and so the cost) are estimates rather than the provider's count. */
  estimated: z.boolean(),
  usd,
  /** What the most expensive model of the chain would have cost for the same tokens (for "saved"). */
  counterfactualUsd: usd.optional(),
  /** VS Code language-model premium requests (a unit of their own, not dollars). */
  premiumRequests: z.number().min(0).optional(),
  latencyMs: z.number().min(0),
  attempts: z.number().int().min(0),
  fallbackUsed: z.boolean(),
  /** How the call ended. */
  status: z.enum(['ok', 'error', 'cancelled', 'orphaned']),
  /** Tier tags of the model that answered, for the "cheap" share. */
  tags: z.array(z.string()).default(() => []),
});
export type SettleLine = z.infer<typeof settleLineSchema>;

/** A reservation given back without a charge (the call was refused before anything was sent). */
export const releaseLineSchema = z.object({
  type: z.literal('release'),
  requestId: z.string().min(1),
  at: z.number().finite(),
});
export type ReleaseLine = z.infer<typeof releaseLineSchema>;

/** The user's verdict on a settled request (accepted, discarded…), for acceptance rates. */
export const outcomeLineSchema = z.object({
  type: z.literal('outcome'),
  requestId: z.string().min(1),
  at: z.number().finite(),
  kind: z.string(),
});
export type OutcomeLine = z.infer<typeof outcomeLineSchema>;

export const ledgerLineSchema = z.discriminatedUnion('type', [reserveLineSchema, settleLineSchema, releaseLineSchema, outcomeLineSchema]);
export type LedgerLine = z.infer<typeof ledgerLineSchema>;
