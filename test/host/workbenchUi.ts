import { cpSync, mkdirSync, mkdtempSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { MockLlmServer } from '../mock/mockLlmServer';
import { launchChromium } from './browser';
import { startCodeServer, workbenchUrl, type InstalledHost, type RunningCodeServer } from './codeServer';
import { REPO_ROOT, removeRunDir } from './testResults';

/**
 * What the UI tests (`npm run test:ui`) share: a fresh VS Code (code-server) window in headless
 * Chromium with CodeRoute under development, pointed at a loopback mock, and the ways they drive
 * it and save its pictures.
 */

export const STEP_MS = 60_000;
/**
 * The screenshots go to out/screenshots/<host>/ on every run (so `npm test` leaves the tree clean);
 * with `--update-readme` (npm run screenshot) the newest selected host's replace the README's pictures.
 */
export const UPDATE_README = process.argv.includes('--update-readme');
const MAX_SCREENSHOT_BYTES = 300 * 1024;

/** Where a run's pictures for the README go. */
export function screenshotDir(host: InstalledHost): string {
  return UPDATE_README ? path.join(REPO_ROOT, 'media', 'screenshots') : artifactDir(host);
}

/** Where pictures that are never the README's go (what a step saw, for the log). */
export function artifactDir(host: InstalledHost): string {
  return path.join(REPO_ROOT, 'out', 'screenshots', host.spec.id);
}

/** Settings every UI test wants, so its pictures are about CodeRoute: no ghost text, minimap, trust prompt or tips. */
export const QUIET_WORKBENCH: Readonly<Record<string, unknown>> = {
  'coderoute.completions.enabled': false,
  'security.workspace.trust.enabled': false,
  'editor.minimap.enabled': false,
  'workbench.tips.enabled': false,
};

/** Waits for `selector` (or a locator) to be visible, naming the step when it is not. */
export async function waitVisible(page: Page, selector: string | Locator, step: string): Promise<void> {
  const locator = typeof selector === 'string' ? page.locator(selector) : selector;
  try {
    await locator.first().waitFor({ state: 'visible', timeout: STEP_MS });
  } catch {
    throw new Error(`${step}: "${typeof selector === 'string' ? selector : String(selector)}" was not visible within ${STEP_MS / 1000} s`);
  }
}

/**
 * Runs `command` from the command palette. The palette lists the commands known when it opens: one
 * opened while the extension host is still starting may never show an extension's command, so it
 * is closed and opened again until the command shows (within STEP_MS in all).
 */
export async function runFromPalette(page: Page, command: string): Promise<void> {
  const row = page.locator(`.quick-input-widget .monaco-list-row.focused[aria-label*="${command}"]`).first();
  const deadline = Date.now() + STEP_MS;
  for (;;) {
    await page.keyboard.press('F1');
    await waitVisible(page, '.quick-input-widget .quick-input-box input', 'opening the command palette');
    await page.keyboard.type(command);
    const found = await row.waitFor({ state: 'visible', timeout: Math.max(1000, Math.min(10_000, deadline - Date.now())) }).then(
      () => true,
      () => false,
    );
    if (found) break;
    if (Date.now() >= deadline) throw new Error(`finding "${command}": it was not in the command palette within ${STEP_MS / 1000} s`);
    await page.keyboard.press('Escape');
  }
  await page.keyboard.press('Enter');
}

/** Saves a PNG of the whole workbench (or of `clip` of the page) and checks it fits the README; returns its size in KiB. */
export async function saveScreenshot(page: Page, file: string, clip?: { x: number; y: number; width: number; height: number }): Promise<number> {
  mkdirSync(path.dirname(file), { recursive: true });
  if (clip) await page.screenshot({ path: file, clip, type: 'png' });
  else await page.locator('.monaco-workbench').screenshot({ path: file, type: 'png' });
  const size = statSync(file).size;
  if (size > MAX_SCREENSHOT_BYTES) throw new Error(`the screenshot ${path.basename(file)} is ${Math.round(size / 1024)} KiB; keep it under ${MAX_SCREENSHOT_BYTES / 1024} KiB`);
  return Math.round(size / 1024);
}

/** A path for the log: relative to the repository. */
export const shown = (file: string) => path.relative(REPO_ROOT, file);

export interface Workbench {
  page: Page;
  server: RunningCodeServer;
  workspace: string;
  mock: MockLlmServer;
}

export interface WorkbenchRun {
  /** One word for the run's folder and log lines, such as `palette` or `chat`. */
  name: string;
  /** User settings written before VS Code starts. */
  userSettings(mock: MockLlmServer): Record<string, unknown>;
}

/**
 * Runs `body` in a fresh VS Code window (its own user data, extensions and browser profile) on a
 * copy of the sample workspace, with the workbench loaded. True when it passed; a failure is
 * printed with a picture of the page, and the run's folder is kept for inspection.
 */
export async function inWorkbench(host: InstalledHost, run: WorkbenchRun, body: (workbench: Workbench) => Promise<void>): Promise<boolean> {
  const runDir = mkdtempSync(path.join(os.tmpdir(), `coderoute-ui-${run.name}-${host.spec.id}-`));
  const workspace = path.join(runDir, 'workspace');
  cpSync(path.join(REPO_ROOT, 'test', 'fixtures', 'sample-workspace'), workspace, { recursive: true });

  const mock = await MockLlmServer.start();
  let passed = false;
  try {
    const server = await startCodeServer(host, {
      workspace,
      stateDir: path.join(runDir, 'state'),
      trustWorkspace: true,
      userSettings: run.userSettings(mock),
    });
    try {
      const browser = await launchChromium();
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        try {
          await page.goto(workbenchUrl(server, workspace, REPO_ROOT));
          await waitVisible(page, '.monaco-workbench', 'loading the workbench');
          await body({ page, server, workspace, mock });
          passed = true;
        } catch (error) {
          const failure = path.join(runDir, 'failure.png');
          await page.screenshot({ path: failure }).catch(() => undefined);
          const toasts = await page.locator('.notifications-toasts').innerText({ timeout: 2000 }).catch(() => '');
          console.error(`[ui] ✘ ${run.name}: ${error instanceof Error ? error.message : String(error)}`);
          if (toasts.trim()) console.error(`[ui] notifications on screen:\n${toasts.trim()}`);
          console.error(`[ui] the mock received ${mock.requests.length} request(s)`);
          console.error(`[ui] what the page showed: ${failure}`);
        }
      } finally {
        await browser.close();
      }
    } finally {
      await server.stop();
    }
  } finally {
    await mock.close();
    if (passed) removeRunDir(runDir);
    else console.error(`[ui] kept ${runDir} for inspection (VS Code logs under state/user-data/logs)`);
  }
  return passed;
}
