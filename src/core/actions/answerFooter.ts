import { formatUsd } from '../format/formatUsd';
import type { RouteDecision } from '../route/routeDecision';
import type { Attempt } from './runChatAttempt';

/** The line under an answer: who answered, tokens, cost, time, and why that model. */
export function footerFor(attempt: Attempt, decision: RouteDecision, costUsd: number | undefined): string {
  const tokens = `${attempt.inputTokens} in / ${attempt.outputTokens} out tokens${attempt.usageEstimated ? ' (estimated)' : ''}`;
  const seconds = (attempt.latencyMs / 1000).toFixed(1);
  const status = attempt.status === 'ok' ? '' : attempt.status === 'cancelled' ? ' · cancelled' : ` · failed (${attempt.errorKind})`;
  const premium =
    attempt.premiumRequests === undefined ? '' : ` · ${attempt.premiumRequests} premium request${attempt.premiumRequests === 1 ? '' : 's'}`;
  return `_${attempt.modelId} via ${attempt.providerId} · ${tokens} · ${formatUsd(costUsd)}${premium} · ${seconds} s${status}_  \n_${decision.reason}_`;
}
