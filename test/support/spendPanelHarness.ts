import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { LearnedPick } from '../../src/core/spend/learnedPicks';
import type { BudgetStatus } from '../../src/core/spend/spendSource';
import { summarizeSpend } from '../../src/core/spend/spendSummary';
import { toSpendWebviewSchema, type DecisionRow, type SpendView, type ToSpendWebview } from '../../src/webview/protocol';
import { spendPanelPage } from '../../src/webview/spendPanel/page';
import { REPO_ROOT } from '../host/testResults';
import type { GeneratedLedger } from './spendLedger';

/**
 * The spend panel outside VS Code, for the e2e test, the benchmark and the README screenshot:
 * the page the extension serves (same HTML, CSP, bundle and stylesheets) from a loopback server,
 * `acquireVsCodeApi` standing in for the webview host, and VS Code's theme variables on <html>
 * as the workbench sets them.
 */

const FILES: Record<string, [string, string]> = {
  '/spendPanel.js': ['dist/webview/spendPanel.js', 'text/javascript'],
  '/uPlot.min.css': ['dist/webview/uPlot.min.css', 'text/css'],
  '/codicons/codicon.css': ['dist/webview/codicons/codicon.css', 'text/css'],
  '/codicons/codicon.ttf': ['dist/webview/codicons/codicon.ttf', 'font/ttf'],
  '/spendPanel.css': ['media/spendPanel.css', 'text/css'],
};

export interface SpendPanelServer {
  origin: string;
  /** Paths the page asked for that do not exist (a stylesheet or font that would be missing in VS Code). */
  missing: string[];
  close(): Promise<void>;
}

export async function serveSpendPanel(): Promise<SpendPanelServer> {
  const missing: string[] = [];
  let origin = '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        spendPanelPage({
          cspSource: origin,
          nonce: randomBytes(16).toString('base64'),
          scriptUri: `${origin}/spendPanel.js`,
          styleUri: `${origin}/spendPanel.css`,
          chartStyleUri: `${origin}/uPlot.min.css`,
          codiconStyleUri: `${origin}/codicons/codicon.css`,
        }),
      );
      return;
    }
    const file = FILES[url.pathname];
    if (!file) {
      if (url.pathname !== '/favicon.ico') missing.push(url.pathname);
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': file[1] });
    res.end(readFileSync(path.join(REPO_ROOT, file[0])));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, missing, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export type ThemeName = 'dark' | 'light' | 'high-contrast';

const COMMON = {
  '--vscode-font-family': '-apple-system, BlinkMacSystemFont, "Segoe UI", Ubuntu, "Droid Sans", sans-serif',
  '--vscode-font-size': '13px',
  '--vscode-editor-font-family': '"Droid Sans Mono", "monospace", monospace',
};

/** The variables VS Code sets for its default themes (Dark Modern, Light Modern, Dark High Contrast). */
export const THEMES: Record<ThemeName, { bodyClass: string; vars: Record<string, string> }> = {
  dark: {
    bodyClass: 'vscode-dark',
    vars: {
      ...COMMON,
      '--vscode-foreground': '#cccccc',
      '--vscode-editor-background': '#1f1f1f',
      '--vscode-descriptionForeground': '#9d9d9d',
      '--vscode-focusBorder': '#0078d4',
      '--vscode-button-background': '#0078d4',
      '--vscode-button-foreground': '#ffffff',
      '--vscode-button-hoverBackground': '#026ec1',
      '--vscode-button-border': '#ffffff12',
      '--vscode-button-secondaryBackground': '#313131',
      '--vscode-button-secondaryForeground': '#cccccc',
      '--vscode-button-secondaryHoverBackground': '#3c3c3c',
      '--vscode-panel-border': '#2b2b2b',
      '--vscode-widget-border': '#313131',
      '--vscode-editorWidget-background': '#202020',
      '--vscode-editorWidget-border': '#454545',
      '--vscode-list-hoverBackground': '#2a2d2e',
      '--vscode-textPreformat-foreground': '#d0d0d0',
      '--vscode-charts-foreground': '#cccccc',
      '--vscode-charts-lines': 'rgba(204, 204, 204, 0.5)',
      '--vscode-charts-red': '#f14c4c',
      '--vscode-charts-blue': '#3794ff',
      '--vscode-charts-yellow': '#cca700',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-green': '#89d185',
      '--vscode-charts-purple': '#b180d7',
    },
  },
  light: {
    bodyClass: 'vscode-light',
    vars: {
      ...COMMON,
      '--vscode-foreground': '#3b3b3b',
      '--vscode-editor-background': '#ffffff',
      '--vscode-descriptionForeground': '#3b3b3b',
      '--vscode-focusBorder': '#005fb8',
      '--vscode-button-background': '#005fb8',
      '--vscode-button-foreground': '#ffffff',
      '--vscode-button-hoverBackground': '#0258a8',
      '--vscode-button-border': '#0000001a',
      '--vscode-button-secondaryBackground': '#e5e5e5',
      '--vscode-button-secondaryForeground': '#3b3b3b',
      '--vscode-button-secondaryHoverBackground': '#cccccc',
      '--vscode-panel-border': '#e5e5e5',
      '--vscode-widget-border': '#e5e5e5',
      '--vscode-editorWidget-background': '#f8f8f8',
      '--vscode-editorWidget-border': '#c8c8c8',
      '--vscode-list-hoverBackground': '#f2f2f2',
      '--vscode-textPreformat-foreground': '#3b3b3b',
      '--vscode-charts-foreground': '#616161',
      '--vscode-charts-lines': 'rgba(97, 97, 97, 0.5)',
      '--vscode-charts-red': '#e51400',
      '--vscode-charts-blue': '#1a85ff',
      '--vscode-charts-yellow': '#bf8803',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-green': '#388a34',
      '--vscode-charts-purple': '#652d90',
    },
  },
  'high-contrast': {
    bodyClass: 'vscode-high-contrast',
    vars: {
      ...COMMON,
      '--vscode-foreground': '#ffffff',
      '--vscode-editor-background': '#000000',
      '--vscode-descriptionForeground': '#ffffffb3',
      '--vscode-focusBorder': '#f38518',
      '--vscode-contrastBorder': '#6fc3df',
      '--vscode-contrastActiveBorder': '#f38518',
      '--vscode-button-foreground': '#ffffff',
      '--vscode-button-border': '#6fc3df',
      '--vscode-button-secondaryForeground': '#ffffff',
      '--vscode-panel-border': '#6fc3df',
      '--vscode-widget-border': '#6fc3df',
      '--vscode-editorWidget-background': '#0c141f',
      '--vscode-editorWidget-border': '#6fc3df',
      '--vscode-textPreformat-foreground': '#ffffff',
      '--vscode-charts-foreground': '#ffffff',
      '--vscode-charts-lines': 'rgba(255, 255, 255, 0.5)',
      '--vscode-charts-red': '#f14c4c',
      '--vscode-charts-blue': '#3794ff',
      '--vscode-charts-yellow': '#ffd700',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-green': '#89d185',
      '--vscode-charts-purple': '#b180d7',
    },
  },
};

/** What the page sent to the host, the scripts' errors and the CSP's refusals, as seen from the test. */
export interface PanelWindow {
  posted: unknown[];
  violations: string[];
  pwned?: number;
  inlineRan?: boolean;
}

export interface OpenedPanel {
  page: Page;
  /** Uncaught errors in the page. */
  errors: string[];
}

/** Opens the panel page in a new tab with a theme's variables, and waits for its `ready`. */
export async function openSpendPanel(browser: Browser, origin: string, theme: ThemeName = 'dark', viewport = { width: 1100, height: 900 }): Promise<OpenedPanel> {
  const page = await browser.newPage({ viewport, locale: 'en-US' });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.stack ?? error.message));
  const { bodyClass, vars } = THEMES[theme];
  await page.addInitScript(
    ({ bodyClass, vars }) => {
      const w = window as unknown as PanelWindow & { acquireVsCodeApi: () => unknown };
      w.posted = [];
      w.violations = [];
      w.acquireVsCodeApi = () => ({ postMessage: (m: unknown) => w.posted.push(m) });
      document.addEventListener('securitypolicyviolation', (e) => w.violations.push(`${e.violatedDirective} ${e.blockedURI}`));
      // The workbench puts the theme's colours on <html> and its kind on <body>.
      const colour = () => Object.entries(vars).forEach(([name, value]) => document.documentElement.style.setProperty(name, value));
      if (document.documentElement) colour();
      else
        new MutationObserver((_, observer) => {
          if (!document.documentElement) return;
          observer.disconnect();
          colour();
        }).observe(document, { childList: true });
      document.addEventListener('DOMContentLoaded', () => document.body.classList.add(bodyClass));
    },
    { bodyClass, vars },
  );
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => (window as unknown as PanelWindow).posted.some((m) => (m as { type: string }).type === 'ready'));
  return { page, errors };
}

export interface SummaryInputs {
  ledger: GeneratedLedger;
  now: number;
  budgets?: BudgetStatus[];
  decisions?: DecisionRow[];
  picks?: LearnedPick[];
  view?: SpendView;
}

/** The message the host posts, built the way SpendPanel builds it (and validated the same way). */
export function summaryMessage({ ledger, now, budgets = [], decisions = [], picks = [], view = { granularity: 'day', groupBy: 'model' } }: SummaryInputs): ToSpendWebview {
  const summary = summarizeSpend(ledger.settled, ledger.outcomes, budgets, now);
  return toSpendWebviewSchema.parse({ type: 'spendSummary', summary, decisions, picks, view, canExportCsv: true } satisfies ToSpendWebview);
}

/** Posts a message to the page as the host would, and waits until it has been rendered. */
export async function postAndWaitForRender(page: Page, message: unknown): Promise<number> {
  const before = await page.evaluate(() => performance.getEntriesByName('spend:render').length);
  await page.evaluate((m) => window.postMessage(m, '*'), message);
  await page.waitForFunction((n) => performance.getEntriesByName('spend:render').length > n, before);
  return page.evaluate(() => performance.getEntriesByName('spend:render').at(-1)!.duration);
}
