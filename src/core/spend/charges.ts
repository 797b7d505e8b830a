import type { Attempt, ChatRunResult } from '../actions/runChatAttempt';
import type { CostSample } from '../learn/learner';
import type { ModelConfig, ProviderConfig } from '../config/settingsSchema';
import { estimateCost, highestKnownPrice, type ModelPrice } from '../route/pricing';
import type { RouteDecision, RoutedModel } from '../route/routeDecision';
import type { PriceLookup } from '../route/router';
import type { SettleLine } from './spendRecord';

export interface Catalogue {
  models: readonly ModelConfig[];
  providers: readonly ProviderConfig[];
}

/** How a model with no known price is charged: at the highest known price, or not at all (refused). */
export type UnknownPricePolicy = 'highest-known' | 'refuse';

/**
 * The price a model is charged at: its own, else the highest known price of the catalogue, else
 * undefined (the caller refuses). Never zero for a model that is not known to be free.
 */
export function chargePrice(model: ModelConfig, provider: ProviderConfig, prices: PriceLookup, catalogue: Catalogue, unknown: UnknownPricePolicy): ModelPrice | undefined {
  const own = prices(model, provider);
  if (own) return own;
  return unknown === 'highest-known' ? highestKnownPrice(catalogue.models, catalogue.providers) : undefined;
}

/** The most a call of `routed` can cost: the prompt and the full output allowance. */
export function maxCostUsd(routed: RoutedModel, tokens: { input: number; maxOutput: number }, prices: PriceLookup, catalogue: Catalogue, unknown: UnknownPricePolicy): number | undefined {
  const price = chargePrice(routed.model, routed.provider, prices, catalogue, unknown);
  return price ? estimateCost(price, tokens.input, tokens.maxOutput) : undefined;
}

/**
 * What to reserve before calling a decision's chain: the most any model of it can cost (a
 * fallback may answer). A model whose price is unknown and may not be charged is named instead.
 */
export function reservationFor(decision: RouteDecision, tokens: { input: number; maxOutput: number }, prices: PriceLookup, catalogue: Catalogue, unknown: UnknownPricePolicy): { usd: number } | { unpriced: string } {
  let usd = 0;
  for (const routed of [decision.chosen, ...decision.fallbacks]) {
    const cost = maxCostUsd(routed, tokens, prices, catalogue, unknown);
    if (cost === undefined) return { unpriced: routed.model.id };
    usd = Math.max(usd, cost);
  }
  return { usd };
}

/** What one attempt cost, at the price it is charged at (0 when nothing is known: it was reserved at the most). */
function attemptUsd(attempt: Attempt, prices: PriceLookup, catalogue: Catalogue, unknown: UnknownPricePolicy): number {
  const model = catalogue.models.find((m) => m.id === attempt.modelId);
  const provider = catalogue.providers.find((p) => p.id === attempt.providerId);
  const price = model && provider ? chargePrice(model, provider, prices, catalogue, unknown) : undefined;
  return price ? estimateCost(price, attempt.inputTokens, attempt.outputTokens) : 0;
}

/**
 * What the answering model's call cost against what the router's price list expected of it, for
 * the learner (which learns the ratio per context). Undefined when either is unknown, or when the
 * answer was not the model's own (a cached completion costs nothing).
 */
export function costSampleFor(
  decision: RouteDecision,
  run: Pick<ChatRunResult, 'attempts' | 'answeredBy'>,
  context: { prices: PriceLookup; catalogue: Catalogue; unknown: UnknownPricePolicy },
): CostSample | undefined {
  const answered = run.answeredBy?.model.id;
  if (!answered) return undefined;
  const attempt = [...run.attempts].reverse().find((a) => a.modelId === answered && a.status === 'ok');
  const candidate = decision.candidates.find((c) => c.modelId === answered);
  const estimatedUsd = candidate?.listCostUsd ?? candidate?.estCostUsd;
  if (!attempt || estimatedUsd === undefined) return undefined;
  const actualUsd = attemptUsd(attempt, context.prices, context.catalogue, context.unknown);
  return estimatedUsd > 0 && actualUsd > 0 ? { estimatedUsd, actualUsd } : undefined;
}

/**
 * The final ledger record of a call: every attempt's tokens at its model's price (a cancelled
 * stream pays for what it produced), and what the dearest model of the chain would have cost for
 * the same tokens. Undefined when nothing was produced or sent: the reservation is released.
 */
export function settlementFor(
  decision: RouteDecision,
  run: ChatRunResult,
  context: { language: string; at: number; prices: PriceLookup; catalogue: Catalogue; unknown: UnknownPricePolicy },
): Omit<SettleLine, 'type'> | undefined {
  const { attempts } = run;
  const tokensIn = attempts.reduce((a, t) => a + t.inputTokens, 0);
  const tokensOut = attempts.reduce((a, t) => a + t.outputTokens, 0);
  if (attempts.length === 0 || tokensIn + tokensOut === 0) return undefined;
  const usd = attempts.reduce((a, t) => a + attemptUsd(t, context.prices, context.catalogue, context.unknown), 0);
  const last = attempts[attempts.length - 1];
  const answered = run.answeredBy ?? decision.chosen;
  const chain = [decision.chosen, ...decision.fallbacks];
  let counterfactualUsd = usd;
  for (const routed of chain) {
    const price = chargePrice(routed.model, routed.provider, context.prices, context.catalogue, context.unknown);
    if (price) counterfactualUsd = Math.max(counterfactualUsd, estimateCost(price, last.inputTokens, last.outputTokens));
  }
  const premium = attempts.reduce((a, t) => a + (t.premiumRequests ?? 0), 0);
  return {
    requestId: decision.requestId,
    at: context.at,
    task: decision.task,
    language: context.language,
    model: run.answeredBy?.model.id ?? last.modelId,
    provider: run.answeredBy?.provider.id ?? last.providerId,
    tokensIn,
    tokensOut,
    estimated: attempts.some((t) => t.usageEstimated),
    usd,
    counterfactualUsd,
    premiumRequests: attempts.some((t) => t.premiumRequests !== undefined) ? premium : undefined,
    latencyMs: attempts.reduce((a, t) => a + t.latencyMs, 0),
    attempts: attempts.length,
    fallbackUsed: answered.model.id !== decision.chosen.model.id,
    status: run.result ? 'ok' : last.status === 'cancelled' ? 'cancelled' : 'error',
    tags: [...answered.model.tags],
  };
}

/**
 * When a budget says "step down": the models of the chain whose most expensive answer fits what
 * is left, in the chain's order. Empty when none does.
 */
export function stepDown(decision: RouteDecision, remainingUsd: number, tokens: { input: number; maxOutput: number }, prices: PriceLookup, catalogue: Catalogue, unknown: UnknownPricePolicy): RoutedModel[] {
  return [decision.chosen, ...decision.fallbacks].filter((routed) => {
    const cost = maxCostUsd(routed, tokens, prices, catalogue, unknown);
    return cost !== undefined && cost <= remainingUsd;
  });
}
