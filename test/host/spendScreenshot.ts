import { mkdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { learnedPicks } from '../../src/core/spend/learnedPicks';
import { summarizeSpend } from '../../src/core/spend/spendSummary';
import { generateLedger, learnerFrom, recentDecisions } from '../support/spendLedger';
import { openSpendPanel, postAndWaitForRender, serveSpendPanel, summaryMessage } from '../support/spendPanelHarness';
import { launchChromium } from './browser';
import { REPO_ROOT } from './testResults';

/**
 * The README's picture of CodeRoute: Show Spend: the panel's page in headless Chromium with VS Code's
 * Dark Modern colours, fed two months of generated requests (the same page the e2e test checks).
 * Like the explain screenshot, it goes to out/ unless `--update-readme` (npm run screenshot) asks
 * for the README's copy in media/screenshots.
 */

const SCREENSHOT = process.argv.includes('--update-readme')
  ? path.join(REPO_ROOT, 'media', 'screenshots', 'spend-panel.png')
  : path.join(REPO_ROOT, 'out', 'screenshots', 'spend-panel.png');
const MAX_SCREENSHOT_BYTES = 300 * 1024;
/** A fixed afternoon, so the picture changes only when the panel does. */
const NOW = new Date(2026, 10, 25, 16, 20).getTime();

async function main(): Promise<void> {
  const ledger = generateLedger({ records: 600, days: 60, now: NOW, seed: 11 });
  const { today, month } = summarizeSpend(ledger.settled, ledger.outcomes, [], NOW);
  const message = summaryMessage({
    ledger,
    now: NOW,
    budgets: [
      { id: 'daily', label: 'Daily', limitUsd: 2, spentUsd: today.usd, reservedUsd: 0.04, share: (today.usd + 0.04) / 2, level: 0, onLimit: 'step-down' },
      { id: 'monthly', label: 'Monthly', limitUsd: 25, spentUsd: month.usd, reservedUsd: 0, share: month.usd / 25, level: month.usd / 25 >= 0.75 ? 0.75 : 0.5, onLimit: 'stop' },
    ],
    decisions: recentDecisions(ledger, 6),
    picks: learnedPicks(learnerFrom(ledger, NOW).toJSON()).slice(0, 8),
  });
  const server = await serveSpendPanel();
  const browser = await launchChromium();
  try {
    const { page, errors } = await openSpendPanel(browser, server.origin, 'dark', { width: 1000, height: 800 });
    await postAndWaitForRender(page, message);
    await page.evaluate(() => document.fonts.ready);
    if (errors.length) throw new Error(`the page failed: ${errors.join('; ')}`);
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true, type: 'png' });
    const size = statSync(SCREENSHOT).size;
    if (size > MAX_SCREENSHOT_BYTES) throw new Error(`the screenshot is ${Math.round(size / 1024)} KiB; keep it under ${MAX_SCREENSHOT_BYTES / 1024} KiB`);
    console.log(`[spend] screenshot: ${path.relative(REPO_ROOT, SCREENSHOT)} (${Math.round(size / 1024)} KiB)`);
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
