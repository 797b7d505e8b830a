import * as vscode from 'vscode';
import type { ChatRunResult } from '../../core/actions/runChatAttempt';
import { allowedFor } from '../../core/policy/privacy';
import { messageText, type ChatMessage } from '../../core/providers/chatProvider';
import { formatUsd } from '../../core/format/formatUsd';
import { resolveModel, type RouteDecision, type RoutedModel } from '../../core/route/routeDecision';
import { maxCostUsd, reservationFor, settlementFor, stepDown } from '../../core/spend/charges';
import type { CodeRouteContext } from '../coderouteContext';

/** Money held for one call; `settle` writes what it cost (or gives it back) exactly once. */
export interface Reservation {
  /** The decision to call: the router's, or a cheaper one when a budget said "step down". */
  decision: RouteDecision;
  settle(run: ChatRunResult): Promise<void>;
  /** Gives the money back when the call is not made after all. */
  release(): Promise<void>;
}

/** A rough upper bound of a prompt's tokens (three characters a token, plus message overhead), unless the caller counted them. */
function promptTokens(prompt: readonly ChatMessage[] | { tokens: number }): number {
  if ('tokens' in prompt) return prompt.tokens;
  // Tool calls and results are prompt too: an agent turn's file contents are mostly there.
  return prompt.reduce((a, m) => a + Math.ceil(messageText(m).length / 3) + 8, 0);
}

/**
 * Takes the most the call can cost (the prompt and the full output allowance, at the dearest
 * model of the chain) against every budget, under the ledger's lock shared by all windows. When a
 * budget would be passed, it steps down to the chain's models that fit — or any allowed model
 * that fits — if the budget says so, and otherwise refuses with a message; nothing is sent then.
 */
export async function reserveBudget(
  ctx: CodeRouteContext,
  decision: RouteDecision,
  /** The prompt, or its token count. */
  messages: readonly ChatMessage[] | { tokens: number },
  /** The output allowance of this call; `coderoute.request.maxOutputTokens` by default. */
  maxOutputTokens?: number,
): Promise<Reservation | { refused: string }> {
  const ledger = await ctx.spend.ready();
  const { settings } = ctx.settings.current;
  const unknown = settings.budget.unknownPrice;
  const catalogue = settings;
  const tokens = { input: promptTokens(messages), maxOutput: maxOutputTokens ?? settings.request.maxOutputTokens };
  const settleWith = (chosen: RouteDecision): Reservation => {
    let done = false;
    return {
      decision: chosen,
      settle: async (run) => {
        if (done || !ledger) return;
        done = true;
        const line = settlementFor(chosen, run, { language: chosen.estimateContext?.language ?? '', at: Date.now(), prices: ctx.prices, catalogue, unknown });
        try {
          if (line) await ledger.settle(line);
          else await ledger.release(chosen.requestId);
        } catch (error) {
          ctx.log.error(`spend: could not settle ${chosen.requestId}: ${error instanceof Error ? error.message : String(error)}`);
        }
      },
      release: async () => {
        if (done || !ledger) return;
        done = true;
        await ledger.release(chosen.requestId).catch((error: unknown) => ctx.log.error(`spend: could not release ${chosen.requestId}: ${String(error)}`));
      },
    };
  };
  if (!ledger) return settleWith(decision);

  const take = async (chosen: RouteDecision) => {
    const amount = reservationFor(chosen, tokens, ctx.prices, catalogue, unknown);
    if ('unpriced' in amount) {
      const anyBudget = ledger.budgets().length > 0;
      if (!anyBudget) return { ok: true as const, usd: 0 };
      return {
        ok: false as const,
        message:
          unknown === 'refuse'
            ? `${amount.unpriced} has no known price and coderoute.budget.unknownPrice is "refuse": set its price in coderoute.models to use it under a budget.`
            : `${amount.unpriced} has no known price and no configured model has one to charge it at: set its price in coderoute.models.`,
      };
    }
    // Completions, asked at every pause in typing, skip the reservation's fsync (see Ledger.reserve).
    const result = await ledger.reserve({ requestId: chosen.requestId, task: chosen.task, usd: amount.usd, sync: chosen.task !== 'complete' });
    return result.ok ? { ok: true as const, usd: amount.usd } : { ok: false as const, refusal: result.refusal, message: result.refusal.message };
  };

  const first = await take(decision);
  if (first.ok) return settleWith(decision);
  const refusal = 'refusal' in first ? first.refusal : undefined;
  if (!refusal || refusal.kind !== 'budget' || refusal.onLimit !== 'step-down') return { refused: `${first.message} Nothing was sent.` };

  // Step down: the chain's models that fit what is left, else the dearest allowed model that does.
  const left = refusal.remainingUsd;
  let chain: RoutedModel[] = stepDown(decision, left, tokens, ctx.prices, catalogue, unknown);
  if (chain.length === 0) {
    const policy = ctx.policy();
    const fits = policy.models
      .filter((m) => !policy.deniedModels.includes(m.id) && allowedFor(decision.privacy, m) && policy.providers.some((p) => p.id === m.provider))
      .map((m) => resolveModel(policy, m.id, 'coderoute.models'))
      .map((routed) => ({ routed, cost: maxCostUsd(routed, tokens, ctx.prices, catalogue, unknown) }))
      .filter((c): c is { routed: RoutedModel; cost: number } => c.cost !== undefined && c.cost <= left)
      .sort((a, b) => b.cost - a.cost);
    chain = fits.slice(0, 1).map((c) => c.routed);
  }
  if (chain.length === 0) {
    return { refused: `${refusal.message} No model's answer fits the ${formatUsd(left)} left. Nothing was sent.` };
  }
  const [chosen, ...fallbacks] = chain;
  const stepped: RouteDecision = {
    ...decision,
    chosen,
    fallbacks,
    reason: `Stepped down to ${chosen.model.id}: the ${refusal.budget?.label.toLowerCase() ?? ''} budget has ${formatUsd(left)} left. ${decision.reason}`,
  };
  const second = await take(stepped);
  if (!second.ok) return { refused: `${second.message} Nothing was sent.` };
  ctx.log.info(`spend: ${decision.requestId} stepped down from ${decision.chosen.model.id} to ${chosen.model.id} (${refusal.budget?.id} budget, ${formatUsd(left)} left)`);
  void vscode.window.setStatusBarMessage(`CodeRoute: stepped down to ${chosen.model.id} to stay within the ${refusal.budget?.label.toLowerCase()} budget`, 8000);
  return settleWith(stepped);
}
