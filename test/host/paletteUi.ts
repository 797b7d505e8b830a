import { statSync } from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import type { MockLlmServer } from '../mock/mockLlmServer';
import { runAddProviderUi } from './addProviderUi';
import { runChatUi } from './chatUi';
import { ensureHost, selectedHosts, type InstalledHost } from './codeServer';
import { REPO_ROOT } from './testResults';
import { QUIET_WORKBENCH, STEP_MS, UPDATE_README, inWorkbench, runFromPalette, saveScreenshot, screenshotDir, shown, waitVisible, type Workbench } from './workbenchUi';

/**
 * `npm run test:ui`: CodeRoute: Explain Selection driven the way a person does it, through the
 * workbench UI of a real VS Code (code-server) in headless Chromium: open a file with Quick Open,
 * select lines, run the command from the command palette, and wait for the explanation beside
 * the code; then the spend item in the status bar and its tooltip. Both are saved as the README's
 * screenshots. Then CodeRoute: Add Provider through its quick picks (addProviderUi.ts). Then, in each host that has the chat model provider API, CodeRoute's models in the
 * Chat view (chatUi.ts).
 */

const MODEL = 'mock-small';
const PROVIDER = 'mock';
const COMMAND = 'CodeRoute: Explain Selection';

/** The mock's answer; the first sentence is short so it stays on one rendered (wrapped) line. */
const FIRST_SENTENCE = 'This method builds one greeting per call.';
const EXPLANATION = [
  FIRST_SENTENCE,
  '',
  '- The loop runs `times` times and numbers each line from 1.',
  '- Each entry reads `Hello, <name> (<n>)`.',
  '- The final `map` trims every line, which changes nothing here because the template has no outer spaces.',
  '',
  'It returns a new array, so callers may change it freely.',
].join('\n');

function userSettings(mock: MockLlmServer): Record<string, unknown> {
  return {
    'coderoute.providers': [{ id: PROVIDER, kind: 'openai', baseUrl: mock.baseUrl, auth: 'none' }],
    'coderoute.models': [{ id: MODEL, provider: PROVIDER, name: MODEL, tags: ['cheap'], price: { inputPerMTok: 0.4, outputPerMTok: 1.6 } }],
    'coderoute.budget.dailyUsd': 2,
    'coderoute.tasks.explain': MODEL,
    'coderoute.routing.mode': 'task',
    ...QUIET_WORKBENCH,
  };
}

async function openFile(page: Page, name: string): Promise<void> {
  await page.keyboard.press('Control+P');
  await waitVisible(page, '.quick-input-widget .quick-input-box input', 'Quick Open');
  await page.keyboard.type(name);
  await waitVisible(page, `.quick-input-widget .monaco-list-row[aria-label*="${name}"]`, `Quick Open finding ${name}`);
  await page.keyboard.press('Enter');
  await waitVisible(page, `.tabs-container .tab.active[aria-label*="${name}"]`, `opening ${name}`);
  await waitVisible(page, '.editor-group-container.active .monaco-editor .view-lines', `showing ${name}`);
}

/** Selects lines `from`..`to` (1-based, from the first non-blank character) with Go to Line, Shift+Down and Shift+End. */
async function selectLines(page: Page, from: number, to: number): Promise<void> {
  await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+G');
  await waitVisible(page, '.quick-input-widget .quick-input-box input', 'Go to Line');
  await page.keyboard.type(String(from));
  await page.keyboard.press('Enter');
  for (let line = from; line < to; line++) await page.keyboard.press('Shift+ArrowDown');
  await page.keyboard.press('Shift+End');
  await waitVisible(page, '.editor-group-container.active .monaco-editor .selected-text', 'selecting lines');
}

async function explainThroughPalette({ page, mock }: Workbench): Promise<void> {
  mock.enqueue({ kind: 'reply', text: EXPLANATION, chunks: 6, chunkDelayMs: 30 });
  await waitVisible(page, '.explorer-folders-view .monaco-list-row', 'showing the explorer');
  await openFile(page, 'greeter.ts');
  await selectLines(page, 4, 10);
  await runFromPalette(page, COMMAND);

  // The explanation opens beside the code, streams, and ends with a footer naming the model.
  await waitVisible(page, `.tabs-container .tab[aria-label*="Explain greeter.ts"]`, 'opening the explanation');
  await waitVisible(page, `.view-lines >> text=${FIRST_SENTENCE}`, 'showing the explanation');
  await waitVisible(page, `.view-lines >> text=${MODEL} via ${PROVIDER}`, 'showing the footer with the model id');

  const asked = mock.requests.map((r) => (r.body as { model?: string } | undefined)?.model);
  if (asked.length !== 1 || asked[0] !== MODEL) {
    throw new Error(`the mock should have received exactly one request for ${MODEL}; it received ${JSON.stringify(asked)}`);
  }
  // Let the "explaining…" progress notification finish fading out before the picture.
  await page.locator('.notifications-toasts .notification-toast').first().waitFor({ state: 'hidden', timeout: STEP_MS }).catch(() => undefined);
  await page.mouse.move(0, 0);
}

/**
 * The spend item in the status bar after the request settled: today's dollars against the daily
 * budget and the cheap share; hovering shows the breakdown. Saves a picture of the corner.
 */
async function checkStatusBar(page: Page, statusScreenshot: string): Promise<void> {
  const item = page.locator('.statusbar-item[aria-label^="CodeRoute spend today"]').first();
  await item.waitFor({ state: 'visible', timeout: STEP_MS });
  const deadline = Date.now() + STEP_MS;
  let text = '';
  while (Date.now() < deadline) {
    text = (await item.innerText()).trim();
    if (/\$0\.\d+ \/ \$2\.00 · 100% cheap/.test(text)) break;
    await page.waitForTimeout(200);
  }
  if (!/\$0\.\d+ \/ \$2\.00 · 100% cheap/.test(text)) throw new Error(`the status bar should show today's spend against the $2 budget and 100% cheap; it shows "${text}"`);
  await item.hover();
  const hover = page.locator('.monaco-hover').filter({ hasText: 'CodeRoute spend today' }).first();
  await hover.waitFor({ state: 'visible', timeout: STEP_MS });
  const tip = await hover.innerText();
  if (!tip.includes(MODEL) || !tip.includes('explain')) throw new Error(`the tooltip should break today's spend down by task and model; it shows:\n${tip}`);
  const itemBox = await item.boundingBox();
  const hoverBox = await hover.boundingBox();
  if (!itemBox || !hoverBox) throw new Error('the status bar item or its tooltip has no box');
  const x = Math.max(0, Math.min(itemBox.x, hoverBox.x) - 16);
  const y = Math.max(0, hoverBox.y - 16);
  const right = Math.min(1280, Math.max(itemBox.x + itemBox.width, hoverBox.x + hoverBox.width) + 16);
  const size = await saveScreenshot(page, statusScreenshot, { x, y, width: right - x, height: Math.min(800, itemBox.y + itemBox.height) - y });
  console.log(`[ui] ✔ the status bar shows "${text}" with the breakdown on hover; screenshot: ${shown(statusScreenshot)} (${size} KiB)`);
}

function runPaletteUi(host: InstalledHost): Promise<boolean> {
  const shots = screenshotDir(host);
  return inWorkbench(host, { name: 'palette', userSettings }, async (workbench) => {
    await explainThroughPalette(workbench);
    const screenshot = path.join(shots, 'explain.png');
    const size = await saveScreenshot(workbench.page, screenshot);
    console.log(`[ui] ✔ "${COMMAND}" from the command palette showed the explanation from ${MODEL}`);
    console.log(`[ui] screenshot: ${shown(screenshot)} (${size} KiB)`);
    await checkStatusBar(workbench.page, path.join(shots, 'status-bar.png'));
  });
}

async function main(): Promise<number> {
  if (!statSync(path.join(REPO_ROOT, 'dist', 'extension.js'), { throwIfNoEntry: false })) {
    throw new Error('build first: npm run build && npm run build:tests');
  }
  // The README shows the newest VS Code the run covers, the last of the selected hosts.
  const hosts = UPDATE_README ? selectedHosts().slice(-1) : selectedHosts();
  const tally = { passed: 0, failed: 0, skipped: 0 };
  for (const spec of hosts) {
    const host = ensureHost(spec);
    console.log(`[ui] ${host.label}, CodeRoute from ${REPO_ROOT}`);
    tally[(await runPaletteUi(host)) ? 'passed' : 'failed']++;
    tally[(await runAddProviderUi(host)) ? 'passed' : 'failed']++;
    tally[await runChatUi(host)]++;
  }
  console.log(`ui: ${tally.passed} passed, ${tally.failed} failed, ${tally.skipped} skipped`);
  return tally.failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`[ui] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
