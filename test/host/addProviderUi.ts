import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import type { InstalledHost } from './codeServer';
import { QUIET_WORKBENCH, STEP_MS, inWorkbench, runFromPalette, saveScreenshot, screenshotDir, shown, waitVisible } from './workbenchUi';

/**
 * CodeRoute: Add Provider driven through its quick picks and input boxes in the workbench, the way
 * a new user with no settings does it: first against a provider whose model list fails (reported,
 * nothing saved), then one that answers, whose models are picked with their suggested tiers (the
 * README's picture). The provider is the loopback mock standing in for a vLLM server (which takes
 * a key when started with --api-key).
 */

const KEY = 'sk-ui-add-provider-1';
const QUICK_INPUT = '.quick-input-widget .quick-input-box input';

async function answerInput(page: Page, value: string, step: string): Promise<void> {
  await waitVisible(page, QUICK_INPUT, step);
  await page.locator(QUICK_INPUT).first().fill(value);
  await page.keyboard.press('Enter');
}

/** Add Provider up to the test call: vLLM's kind, the mock's base URL, the key. */
async function startAddProvider(page: Page, baseUrl: string): Promise<void> {
  await runFromPalette(page, 'CodeRoute: Add Provider');
  await waitVisible(page, '.quick-input-widget .monaco-list-row[aria-label*="Anthropic"]', 'the list of provider kinds');
  await page.keyboard.type('vLLM');
  await waitVisible(page, '.quick-input-widget .monaco-list-row.focused[aria-label*="vLLM"]', 'finding vLLM');
  await page.keyboard.press('Enter');
  await waitVisible(page, '.quick-input-widget .quick-input-title:has-text("vLLM")', 'the base URL, prefilled');
  const prefilled = await page.locator(QUICK_INPUT).first().inputValue();
  if (prefilled !== 'http://127.0.0.1:8000/v1') throw new Error(`the base URL should be prefilled with vLLM's default; it is "${prefilled}"`);
  await answerInput(page, baseUrl, 'the base URL');
  await page.locator('.quick-input-widget .quick-input-title:has-text("API key")').first().waitFor({ state: 'visible', timeout: STEP_MS });
  const type = await page.locator(QUICK_INPUT).first().getAttribute('type');
  if (type !== 'password') throw new Error(`the key box should hide what is typed; its type is ${type}`);
  await answerInput(page, KEY, 'the API key');
}

export function runAddProviderUi(host: InstalledHost): Promise<boolean> {
  const shots = screenshotDir(host);
  return inWorkbench(host, { name: 'add-provider', userSettings: () => ({ ...QUIET_WORKBENCH, 'coderoute.discovery.ollama': false }) }, async ({ page, mock, workspace }) => {
    await waitVisible(page, '.explorer-folders-view .monaco-list-row', 'showing the explorer');
    mock.models = [{ name: 'Qwen/Qwen2.5-Coder-7B-Instruct' }, { name: 'meta-llama/Llama-3.3-70B-Instruct' }, { name: 'Qwen/Qwen2.5-Coder-1.5B' }];

    // 1. The model list fails: the message says so, and Cancel saves nothing.
    mock.listQueue.push({ kind: 'fail', status: 500, message: 'upstream down' });
    await startAddProvider(page, mock.baseUrl);
    const dialog = page.locator('.monaco-dialog-box').first();
    await dialog.waitFor({ state: 'visible', timeout: STEP_MS });
    const said = await dialog.innerText();
    if (!/HTTP 500: upstream down\. The provider was not saved\./.test(said)) throw new Error(`the failed test call should be reported; the dialog says:\n${said}`);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden', timeout: STEP_MS });
    console.log('[ui] ✔ Add Provider: a model list answering HTTP 500 is reported and nothing is saved');

    // 2. The model list answers: its models are offered with their tiers, and the picks are saved.
    await startAddProvider(page, mock.baseUrl);
    await waitVisible(page, '.quick-input-widget .monaco-list-row[aria-label*="Llama-3.3-70B"]', 'the models the provider offers');
    await page.mouse.move(0, 0);
    const screenshot = path.join(shots, 'add-provider.png');
    const size = await saveScreenshot(page, screenshot);
    await page.keyboard.press('Enter');

    const listCall = mock.requests.find((r) => r.method === 'GET' && r.path === '/v1/models' && r.headers.authorization === `Bearer ${KEY}`);
    if (!listCall) throw new Error(`the test call should ask /v1/models with the key; the mock saw ${JSON.stringify(mock.requests.map((r) => `${r.method} ${r.path}`))}`);
    const settingsFile = path.join(path.dirname(workspace), 'state', 'user-data', 'User', 'settings.json');
    const deadline = Date.now() + STEP_MS;
    let written = readFileSync(settingsFile, 'utf8');
    while (!written.includes('Llama-3.3-70B') && Date.now() < deadline) {
      await page.waitForTimeout(200);
      written = readFileSync(settingsFile, 'utf8');
    }
    if (written.includes(KEY)) throw new Error('the key was written into the user settings');
    const settings = JSON.parse(written) as { 'coderoute.providers'?: { id: string; baseUrl?: string }[]; 'coderoute.models'?: { name: string; tags: string[] }[] };
    const provider = settings['coderoute.providers']?.find((p) => p.id === 'vllm');
    if (provider?.baseUrl !== mock.baseUrl) throw new Error(`the provider should be in the user settings; they hold ${written}`);
    const models = settings['coderoute.models'] ?? [];
    const tiers = Object.fromEntries(models.map((m) => [m.name, m.tags.join(', ')]));
    if (tiers['Qwen/Qwen2.5-Coder-7B-Instruct'] !== 'local, code, cheap' || tiers['meta-llama/Llama-3.3-70B-Instruct'] !== 'local, strong' || models.length !== 3) throw new Error(`the three models should be saved with their tiers; the settings hold ${JSON.stringify(models)}`);
    console.log(`[ui] ✔ Add Provider: vLLM (the loopback mock) saved with ${models.map((m) => `${m.name} (${m.tags.join(', ')})`).join(', ')}; the key is not in settings.json`);
    console.log(`[ui] screenshot: ${shown(screenshot)} (${size} KiB)`);
  });
}

