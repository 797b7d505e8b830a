import type { ModelConfig, ProviderConfig } from '../config/settingsSchema';
import { estimateCost } from './pricing';
import type { BudgetState, PriceLookup } from './router';

export interface PricedAttempt {
  finishedAt: number;
  modelId: string;
  providerId: string;
  inputTokens: number;
  outputTokens: number;
}

/** What one attempt cost in dollars, from its tokens and its model's price; undefined when the price is unknown. */
export function attemptCostUsd(
  attempt: Omit<PricedAttempt, 'finishedAt'>,
  catalogue: { models: readonly ModelConfig[]; providers: readonly ProviderConfig[] },
  prices: PriceLookup,
): number | undefined {
  const model = catalogue.models.find((m) => m.id === attempt.modelId);
  const provider = catalogue.providers.find((p) => p.id === attempt.providerId);
  const price = model && provider ? prices(model, provider) : undefined;
  return price ? estimateCost(price, attempt.inputTokens, attempt.outputTokens) : undefined;
}

/**
 * What the given attempts cost today and this month (local time), priced with `prices`, and how
 * much of the day and month has passed. Attempts of models without a known price are counted at
 * nothing here and said so in `source`; the spend ledger (its own issue) replaces this estimate.
 */
export function budgetFromAttempts(
  attempts: readonly PricedAttempt[],
  catalogue: { models: readonly ModelConfig[]; providers: readonly ProviderConfig[] },
  prices: PriceLookup,
  now: Date,
  source: string,
): BudgetState {
  const dayStart = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();
  const monthStart = new Date(now.getFullYear(), now.getMonth(), 1).getTime();
  const monthEnd = new Date(now.getFullYear(), now.getMonth() + 1, 1).getTime();
  let today = 0;
  let month = 0;
  let unpriced = 0;
  for (const a of attempts) {
    if (a.finishedAt < monthStart) continue;
    const cost = attemptCostUsd(a, catalogue, prices);
    if (cost === undefined) {
      if (a.inputTokens + a.outputTokens > 0) unpriced++;
      continue;
    }
    month += cost;
    if (a.finishedAt >= dayStart) today += cost;
  }
  return {
    spentTodayUsd: today,
    spentMonthUsd: month,
    dayElapsed: (now.getTime() - dayStart) / 86_400_000,
    monthElapsed: (now.getTime() - monthStart) / (monthEnd - monthStart),
    source: unpriced > 0 ? `${source}; ${unpriced} request(s) with no known price not counted` : source,
  };
}
