import type { ProviderErrorKind } from './chatProvider';

/** How the router retries one model before it falls back to the next. */
export interface RetryPolicy {
  /** Attempts on one model, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A wait longer than this (summed over the retries, Retry-After included) means: fall back now. */
  maxTotalWaitMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 250, maxDelayMs: 4_000, maxTotalWaitMs: 8_000 };

/** Failures worth trying again: the service was busy or the network hiccupped. */
const RETRYABLE: ReadonlySet<ProviderErrorKind> = new Set(['rate-limit', 'server', 'connection']);

type HeaderSource = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

function header(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') return (headers as { get(n: string): string | null }).get(name) ?? undefined;
  const value = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The wait a server asked for, in milliseconds: `retry-after-ms`, or `retry-after` as seconds or
 * as an HTTP date. Undefined when absent or unreadable.
 */
export function parseRetryAfter(headers: HeaderSource | undefined, now: number): number | undefined {
  if (!headers) return undefined;
  const ms = header(headers, 'retry-after-ms');
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.round(Number(ms));
  const value = header(headers, 'retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export type RetryVerdict =
  | { retry: true; delayMs: number }
  | { retry: false; why: 'not-retryable' | 'output-reached-user' | 'attempts-exhausted' | 'wait-too-long' };

export interface RetryQuestion {
  kind: ProviderErrorKind;
  /** 1 for the first attempt. */
  attempt: number;
  /** Milliseconds already spent waiting between attempts on this model. */
  waitedMs: number;
  /** Text already reached the user: a retry would show a different answer. */
  outputDelivered: boolean;
  retryAfterMs?: number;
  policy?: RetryPolicy;
  /** A number in [0, 1); jitter keeps many clients from retrying in step. */
  random: () => number;
}

/** Whether to try the same model again, and after how long (exponential backoff, full jitter). */
export function decideRetry(q: RetryQuestion): RetryVerdict {
  const policy = q.policy ?? DEFAULT_RETRY_POLICY;
  if (q.outputDelivered) return { retry: false, why: 'output-reached-user' };
  if (!RETRYABLE.has(q.kind)) return { retry: false, why: 'not-retryable' };
  if (q.attempt >= policy.maxAttempts) return { retry: false, why: 'attempts-exhausted' };
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (q.attempt - 1)) * q.random();
  const delayMs = Math.round(Math.max(backoff, q.retryAfterMs ?? 0));
  if (q.waitedMs + delayMs > policy.maxTotalWaitMs) return { retry: false, why: 'wait-too-long' };
  return { retry: true, delayMs };
}
