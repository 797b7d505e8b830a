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

const isText = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isCount = (v: unknown): v is number => isNumber(v) && v >= 0 && Number.isInteger(v);
const isUsd = (v: unknown): v is number => isNumber(v) && v >= 0;

/**
 * The ledger line a parsed JSON value is, checked by hand: the same rules as the schemas above,
 * without their cost (a window reads every line of a long history when it opens). Undefined when
 * the value does not pass; the schema then says why.
 */
export function asLedgerLine(value: unknown): LedgerLine | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (!isText(v.requestId) || v.requestId === '' || !isNumber(v.at)) return undefined;
  switch (v.type) {
    case 'settle': {
      const ok =
        isText(v.task) && isText(v.language) && isText(v.model) && isText(v.provider) && isCount(v.tokensIn) && isCount(v.tokensOut) &&
        typeof v.estimated === 'boolean' && isUsd(v.usd) && (v.counterfactualUsd === undefined || isUsd(v.counterfactualUsd)) &&
        (v.premiumRequests === undefined || isUsd(v.premiumRequests)) && isUsd(v.latencyMs) && isCount(v.attempts) && typeof v.fallbackUsed === 'boolean' &&
        (v.status === 'ok' || v.status === 'error' || v.status === 'cancelled' || v.status === 'orphaned') &&
        (v.tags === undefined || (Array.isArray(v.tags) && v.tags.every(isText)));
      if (!ok) return undefined;
      if (v.tags === undefined) v.tags = [];
      return v as unknown as SettleLine;
    }
    case 'reserve':
      return isText(v.task) && isUsd(v.usd) && Number.isInteger(v.pid) && isText(v.owner) ? (v as unknown as ReserveLine) : undefined;
    case 'release':
      return v as unknown as ReleaseLine;
    case 'outcome':
      return isText(v.kind) ? (v as unknown as OutcomeLine) : undefined;
    default:
      return undefined;
  }
}
