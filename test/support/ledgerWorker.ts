/**
 * One "window" for the ledger's multi-process tests: runs N requests against the ledger in a
 * folder (reserve, a short call, settle), prints one JSON line with the ids it was allowed to send
 * and the ids it was refused, and exits. With `hold`, it reserves once and waits to be killed.
 */
import { Ledger, NO_LIMITS } from '../../src/core/spend/ledger';

async function main(): Promise<void> {
  const [dir, name, countText, capText, usdText, mode] = process.argv.slice(2);
  const ledger = await Ledger.open({ dir, limits: () => ({ ...NO_LIMITS, dailyUsd: Number(capText), onLimit: { daily: 'stop', monthly: 'stop', task: 'stop' } }) });
  if (mode === 'hold') {
    await ledger.reserve({ requestId: `${name}-held`, task: 'debug', usd: Number(usdText) });
    process.stdout.write('held\n');
    setInterval(() => undefined, 1000);
    return;
  }
  const sent: string[] = [];
  const refused: string[] = [];
  await Promise.all(
    Array.from({ length: Number(countText) }, async (_, i) => {
      const requestId = `${name}-${i}`;
      const usd = Number(usdText);
      const result = await ledger.reserve({ requestId, task: 'debug', usd });
      if (!result.ok) {
        refused.push(requestId);
        return;
      }
      sent.push(requestId);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
      // The call used part of what was reserved.
      await ledger.settle({
        requestId, at: Date.now(), task: 'debug', language: 'typescript', model: 'm', provider: 'p', tokensIn: 10, tokensOut: 5,
        estimated: false, usd: usd * 0.8, latencyMs: 3, attempts: 1, fallbackUsed: false, status: 'ok', tags: ['cheap'],
      });
    }),
  );
  process.stdout.write(`${JSON.stringify({ sent, refused })}\n`);
}

void main();
