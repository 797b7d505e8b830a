import type { Task } from '../../src/core/context/requestContext';
import { Learner } from '../../src/core/learn/learner';
import type { OutcomeKind } from '../../src/core/learn/outcomes';
import { seededRandom } from '../../src/core/learn/random';
import type { OutcomeLine, SettleLine } from '../../src/core/spend/spendRecord';
import type { DecisionRow } from '../../src/webview/protocol';

/**
 * A realistic spend ledger for tests and benchmarks: requests spread over `days` days up to `now`
 * (more on weekdays and in working hours), several models at their real list prices with
 * fallbacks and a strongest model per chain, several tasks and languages, some estimated usage,
 * errors and premium requests, and verdicts on about half of the answers.
 */

export interface GeneratedLedger {
  settled: SettleLine[];
  outcomes: OutcomeLine[];
}

export interface LedgerOptions {
  records: number;
  days: number;
  now: number;
  seed?: number;
}

/** id, provider, $/MTok in, $/MTok out, tier tags. */
const MODELS: [string, string, number, number, string[]][] = [
  ['gpt-4.1-mini', 'openai', 0.4, 1.6, ['cheap']],
  ['gpt-4.1', 'openai', 2, 8, ['code']],
  ['claude-sonnet-4-5', 'anthropic', 3, 15, ['code', 'strong']],
  ['claude-haiku-4-5', 'anthropic', 1, 5, ['cheap']],
  ['o4-mini', 'openai', 1.1, 4.4, ['strong']],
  ['qwen2.5-coder:7b', 'ollama', 0, 0, ['cheap', 'local']],
  ['copilot-gpt-4o', 'copilot', 0, 0, ['code']],
];
/** Task, share of requests, typical tokens in / out. */
const TASKS: [string, number, number, number][] = [
  ['complete', 0.45, 900, 40],
  ['explain', 0.2, 2200, 450],
  ['generate', 0.15, 3000, 900],
  ['debug', 0.12, 4200, 700],
  ['format', 0.08, 1500, 1200],
];
const LANGUAGES = ['typescript', 'python', 'rust', 'go', 'java'];
const VERDICTS = ['accepted', 'accepted', 'accepted', 'thumbs-up', 'partially-accepted', 'discarded', 'thumbs-down', 'undone', 'ignored', 'retried-stronger'];
/** The strongest model's prices, for the counterfactual. */
const STRONGEST = MODELS[2];
const DAY_MS = 86_400_000;

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)];
}

export function generateLedger({ records, days, now, seed = 42 }: LedgerOptions): GeneratedLedger {
  const random = seededRandom(seed);
  const start = now - days * DAY_MS;
  const times = Array.from({ length: records }, () => {
    // Working hours, mostly on weekdays: redraw a weekend time three times in four.
    for (;;) {
      const t = start + random() * (now - start);
      const day = new Date(t).getUTCDay();
      if ((day === 0 || day === 6) && random() < 0.75) continue;
      return t;
    }
  }).sort((a, b) => a - b);

  const settled: SettleLine[] = [];
  const outcomes: OutcomeLine[] = [];
  times.forEach((at, i) => {
    let r = random();
    const [task, , typicalIn, typicalOut] = TASKS.find(([, share]) => (r -= share) < 0) ?? TASKS[0];
    const modelIndex = task === 'complete' ? pick([0, 3, 5], random) : pick([0, 1, 2, 3, 4, 6, 1, 2], random);
    const [model, provider, priceIn, priceOut, tags] = MODELS[modelIndex];
    const tokensIn = Math.round(typicalIn * (0.3 + random() * 1.4));
    const tokensOut = Math.round(typicalOut * (0.3 + random() * 1.4));
    const status = random() < 0.04 ? 'error' : random() < 0.02 ? 'cancelled' : 'ok';
    const usd = status === 'error' ? 0 : (tokensIn * priceIn + tokensOut * priceOut) / 1e6;
    const strongest = (tokensIn * STRONGEST[2] + tokensOut * STRONGEST[3]) / 1e6;
    const requestId = `req-${i.toString(36)}-${Math.floor(random() * 1e9).toString(36)}`;
    settled.push({
      type: 'settle',
      requestId,
      at,
      task,
      language: pick(LANGUAGES, random),
      model,
      provider,
      tokensIn,
      tokensOut,
      estimated: provider === 'ollama' || random() < 0.05,
      usd,
      // Older records (before the counterfactual was written) have none: they count their own cost.
      ...(random() < 0.9 ? { counterfactualUsd: Math.max(usd, strongest) } : {}),
      ...(provider === 'copilot' ? { premiumRequests: 1 } : {}),
      latencyMs: Math.round(200 + random() * 4000),
      attempts: 1 + (random() < 0.1 ? 1 : 0),
      fallbackUsed: random() < 0.06,
      status,
      tags,
    });
    if (status === 'ok' && random() < 0.55) {
      outcomes.push({ type: 'outcome', requestId, at: at + 5_000, kind: pick(VERDICTS, random) });
      // Now and then an acceptance is undone a little later: the last verdict counts.
      if (random() < 0.05) outcomes.push({ type: 'outcome', requestId, at: at + 30_000, kind: 'undone' });
    }
  });
  outcomes.sort((a, b) => a.at - b.at);
  return { settled, outcomes };
}

/** The learner trained on the ledger's verdicts, as the extension would have it (for the picks). */
export function learnerFrom(ledger: GeneratedLedger, now: number): Learner {
  const learner = new Learner({ now: () => now });
  const random = seededRandom(7);
  for (const r of ledger.settled) learner.record(r.requestId, r.model, { task: r.task as Task, language: r.language, difficulty: random() });
  for (const o of ledger.outcomes) learner.observe(o.requestId, o.kind as OutcomeKind);
  return learner;
}

const HOW = [
  (m: string) => `${m}: rule "cheap-first", est. $0.0011.`,
  (m: string) => `${m}: best score among 3 (acceptance 0.81 learned from 46 signals), runner-up gpt-4.1 (0.74), est. $0.021.`,
  (m: string) => `${m}: best score among 4 (acceptance 0.66 by tier prior), est. $0.014.`,
];

/** The last routing decisions of a window, with the router's kind of one-line reason. */
export function recentDecisions(ledger: GeneratedLedger, count = 12): DecisionRow[] {
  return ledger.settled
    .slice(-count)
    .reverse()
    .map((r, i) => ({
      requestId: r.requestId,
      at: r.at,
      task: r.task,
      model: r.model,
      reason: `${r.task === 'complete' ? 'complete-line' : r.task} in a ${12 + ((i * 7) % 40)}-line ${r.language} function → ${HOW[i % HOW.length](r.model)}`,
    }));
}
