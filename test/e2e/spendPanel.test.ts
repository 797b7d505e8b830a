import * as assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { learnedPicks } from '../../src/core/spend/learnedPicks';
import type { BudgetStatus } from '../../src/core/spend/spendSource';
import type { ToSpendWebview } from '../../src/webview/protocol';
import { launchChromium } from '../host/browser';
import { REPO_ROOT } from '../host/testResults';
import { generateLedger, learnerFrom, recentDecisions, type GeneratedLedger } from '../support/spendLedger';
import { openSpendPanel, postAndWaitForRender, serveSpendPanel, summaryMessage, type PanelWindow, type SpendPanelServer, type ThemeName } from '../support/spendPanelHarness';

/**
 * The spend panel in real Chromium: the page the extension serves, fed a generated ledger of a
 * few hundred requests over two months. The figures it shows are checked against sums computed
 * here, directly from the records with the Date API, not with the code under test.
 */

const ARTIFACTS = path.join(REPO_ROOT, 'out', 'test', 'e2e', 'artifacts');
/** Like the explain screenshot: to out/ on every run; `npm run screenshot` refreshes the README's copy. */
const SCREENSHOT = path.join(REPO_ROOT, 'out', 'screenshots', 'spend-panel.png');

/** A weekday afternoon, local time. */
const NOW = new Date(2026, 10, 25, 16, 20).getTime();

const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });
/** Below a cent, two significant digits (as 0.000028), so that no real charge reads as free. */
const usd = (value: number) => (value !== 0 && Math.abs(value) < 0.0095 ? `${value < 0 ? '-' : ''}$${String(Number(Math.abs(value).toPrecision(2)))}` : money.format(value));

interface Expected {
  today: number;
  todayRequests: number;
  month: number;
  saved: number;
  /** The model × task with the most verdicts, and its acceptance rate. */
  busiest: { model: string; task: string; rate: number };
}

/** The figures, computed without the summary code. */
function expected(ledger: GeneratedLedger): Expected {
  const now = new Date(NOW);
  let today = 0;
  let todayRequests = 0;
  let month = 0;
  let spent = 0;
  let strongest = 0;
  for (const r of ledger.settled) {
    const d = new Date(r.at);
    if (d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth()) {
      month += r.usd;
      if (d.getDate() === now.getDate()) {
        today += r.usd;
        todayRequests++;
      }
    }
    spent += r.usd;
    strongest += r.counterfactualUsd ?? r.usd;
  }
  const last = new Map<string, string>();
  for (const o of ledger.outcomes) last.set(o.requestId, o.kind);
  const cells = new Map<string, { model: string; task: string; yes: number; no: number }>();
  for (const r of ledger.settled) {
    const kind = last.get(r.requestId);
    if (!kind) continue;
    const key = `${r.model} ${r.task}`;
    const cell = cells.get(key) ?? { model: r.model, task: r.task, yes: 0, no: 0 };
    if (['accepted', 'thumbs-up', 'partially-accepted'].includes(kind)) cell.yes++;
    else cell.no++;
    cells.set(key, cell);
  }
  const top = [...cells.values()].sort((a, b) => b.yes + b.no - (a.yes + a.no))[0];
  return { today, todayRequests, month, saved: strongest - spent, busiest: { model: top.model, task: top.task, rate: top.yes / (top.yes + top.no) } };
}

function budgetsFor(e: Expected): BudgetStatus[] {
  const daily = { limit: 2, reserved: 0.0375 };
  const monthly = { limit: 25 };
  return [
    { id: 'daily', label: 'Daily', limitUsd: daily.limit, spentUsd: e.today, reservedUsd: daily.reserved, share: (e.today + daily.reserved) / daily.limit, level: 0, onLimit: 'step-down' },
    { id: 'monthly', label: 'Monthly', limitUsd: monthly.limit, spentUsd: e.month, reservedUsd: 0, share: e.month / monthly.limit, level: e.month / monthly.limit >= 0.75 ? 0.75 : 0.5, onLimit: 'stop' },
    { id: 'task:debug', label: 'Daily for debug', limitUsd: 0.1, spentUsd: 0.11, reservedUsd: 0, share: 1.1, level: 1, onLimit: 'step-down' },
  ];
}

describe('spend panel in Chromium', () => {
  let server: SpendPanelServer;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let ledger: GeneratedLedger;
  let want: Expected;
  let message: ToSpendWebview;

  before(async () => {
    ledger = generateLedger({ records: 600, days: 60, now: NOW, seed: 11 });
    want = expected(ledger);
    assert.ok(want.todayRequests > 0, 'the generated ledger has requests today');
    message = summaryMessage({
      ledger,
      now: NOW,
      budgets: budgetsFor(want),
      decisions: recentDecisions(ledger),
      picks: learnedPicks(learnerFrom(ledger, NOW).toJSON()).slice(0, 12),
    });
    server = await serveSpendPanel();
    browser = await launchChromium();
  });

  beforeEach(async () => {
    ({ page, errors } = await openSpendPanel(browser, server.origin));
  });

  afterEach(async () => {
    assert.deepEqual(errors, [], 'no script errors');
    assert.deepEqual(await page.evaluate(() => (window as unknown as PanelWindow).violations), [], 'no CSP refusals');
    assert.deepEqual(server.missing, [], 'every file the page loads exists');
    await page.close();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  const posted = () => page.evaluate(() => (window as unknown as PanelWindow).posted);
  const text = async (selector: string) => ((await page.textContent(selector)) ?? '').trim();

  it('shows the figures of the ledger: today, this month, savings, acceptance, budget gauges', async () => {
    assert.deepEqual(await posted(), [{ type: 'ready' }]);
    await postAndWaitForRender(page, message);

    assert.equal(await text('#period-today [data-field="usd"]'), usd(want.today));
    assert.match(await text('#period-today [data-field="detail"]'), new RegExp(`^${want.todayRequests} requests?`));
    assert.equal(await text('#period-month [data-field="usd"]'), usd(want.month));
    assert.equal(await text('#savings [data-field="usd"]'), usd(want.saved));

    const { model, task, rate } = want.busiest;
    const row = page.locator(`#acceptance tbody tr[data-model="${model}"][data-task="${task}"]`);
    assert.equal(await row.locator('td.rate').textContent(), `${Math.round(rate * 100)}%`);
    assert.equal(await row.locator('th').getAttribute('scope'), 'row');

    const daily = page.locator('[data-budget-id="daily"] [role="meter"]');
    assert.equal(await daily.getAttribute('aria-valuenow'), String(Math.round((want.today + 0.0375) * 100) / 100));
    assert.equal(await daily.getAttribute('aria-valuemin'), '0');
    assert.equal(await daily.getAttribute('aria-valuemax'), '2');
    assert.match((await daily.getAttribute('aria-valuetext')) ?? '', /^\$\d+\.\d{2} of \$2\.00 \(\d+%\)$/);
    assert.equal(await page.locator('[data-budget-id="daily"] .gauge-label').textContent(), 'Daily');
    // Past its limit, a gauge stays within its range for assistive technology and says so in words.
    const debug = page.locator('[data-budget-id="task:debug"] [role="meter"]');
    assert.equal(await debug.getAttribute('aria-valuenow'), '0.1');
    assert.match((await debug.getAttribute('aria-valuetext')) ?? '', /limit reached/);

    // The chart: a uPlot canvas, labelled, with its figures in a real table too.
    assert.equal(await page.locator('#chart canvas').count(), 1);
    assert.match((await page.getAttribute('#chart', 'aria-label')) ?? '', /^Bar chart of spend per day by model/);
    await page.click('#chart-data summary');
    // The table is drawn on the details' toggle event, which fires after the click returns.
    await page.locator('#chart-table tbody tr').first().waitFor();
    const days = await page.locator('#chart-table tbody tr').count();
    assert.ok(days >= 60 && days <= 62, `${days} days`);
    assert.equal(await page.locator('#chart-table thead th[scope="col"]').count(), message.type === 'spendSummary' ? message.summary.series.day.byModel.length + 2 : 0);

    assert.equal(await page.locator('#decisions tbody tr').count(), 12);
    assert.ok((await page.locator('#picks tbody tr').count()) > 0);
    assert.equal(await page.isVisible('#export-csv'), true);
  });

  it('shows model and decision text as text, never as HTML', async () => {
    const hostile = '<img src=x onerror="window.pwned=1"><b>bold</b>';
    const evil = generateLedger({ records: 40, days: 3, now: NOW, seed: 3 });
    for (const r of evil.settled.slice(0, 10)) r.model = hostile;
    for (const r of evil.settled.slice(10, 20)) r.task = '<script>window.pwned=2</script>';
    const m = summaryMessage({
      ledger: evil,
      now: NOW,
      budgets: [{ id: 'daily', label: '<i>Daily</i>', limitUsd: 1, spentUsd: 0.1, reservedUsd: 0, share: 0.1, level: 0, onLimit: 'stop' }],
      decisions: [{ requestId: 'x', at: NOW, task: 'explain', model: hostile, reason: `explain → ${hostile}: because <a href="https://example.invalid">click</a>.` }],
      picks: [{ bucket: 'task=<u>x</u>', model: hostile, mean: 0.8, successes: 3, observations: 3, contenders: 1 }],
    });
    await postAndWaitForRender(page, m);
    assert.equal(await page.locator('main img, main b, main i, main u, main a, main script').count(), 0);
    assert.equal(await page.locator('#decisions td.why').textContent(), `explain → ${hostile}: because <a href="https://example.invalid">click</a>.`);
    assert.equal(await page.locator('#picks tbody td').first().textContent(), hostile);
    assert.equal(await page.locator('[data-budget-id="daily"] .gauge-label').textContent(), '<i>Daily</i>');
    assert.ok((await page.locator('#legend').textContent())?.includes(hostile));
    assert.equal(await page.evaluate(() => (window as unknown as PanelWindow).pwned), undefined);
  });

  it('reaches every toggle with Tab, and switches the chart from the keyboard', async () => {
    await postAndWaitForRender(page, message);
    const reached = new Set<string>();
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press('Tab');
      const label = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        return el?.tagName === 'BUTTON' ? (el.textContent ?? '').trim() : (el?.tagName ?? '');
      });
      reached.add(label);
    }
    for (const label of ['Export CSV', 'Open Log', 'Day', 'Week', 'Month', 'By model', 'By task']) assert.ok(reached.has(label), `Tab reaches ${label}: ${[...reached].join(', ')}`);

    await page.locator('button[data-granularity="week"]').focus();
    await page.keyboard.press('Enter');
    assert.equal(await page.getAttribute('button[data-granularity="week"]', 'aria-pressed'), 'true');
    assert.equal(await page.getAttribute('button[data-granularity="day"]', 'aria-pressed'), 'false');
    assert.match((await page.getAttribute('#chart', 'aria-label')) ?? '', /^Bar chart of spend per week by model/);
    await page.locator('button[data-group="task"]').focus();
    await page.keyboard.press('Space');
    assert.match((await page.getAttribute('#chart', 'aria-label')) ?? '', /^Bar chart of spend per week by task/);
    assert.deepEqual((await posted()).slice(-2), [
      { type: 'setView', view: { granularity: 'week', groupBy: 'model' } },
      { type: 'setView', view: { granularity: 'week', groupBy: 'task' } },
    ]);

    await page.click('#export-csv');
    await page.click('#open-log');
    assert.deepEqual((await posted()).slice(-2), [{ type: 'exportCsv' }, { type: 'openLog' }]);
  });

  it('renders a burst of updates at most once a frame, ending with the last one', async () => {
    await postAndWaitForRender(page, message);
    const before = await page.evaluate(() => performance.getEntriesByName('spend:render').length);
    const burst = Array.from({ length: 20 }, (_, i) => {
      const m = structuredClone(message);
      if (m.type === 'spendSummary') m.summary.today.usd += i + 1;
      return m;
    });
    await page.evaluate((ms) => ms.forEach((m) => window.postMessage(m, '*')), burst);
    await page.waitForFunction((expected) => document.querySelector('#period-today [data-field="usd"]')?.textContent === expected, usd(want.today + 20));
    await page.waitForTimeout(100);
    const renders = (await page.evaluate(() => performance.getEntriesByName('spend:render').length)) - before;
    // Twenty messages arrive as twenty tasks; only the frames between them render.
    assert.ok(renders >= 1 && renders < 10, `${renders} renders`);
  });

  it('ignores messages that do not match the protocol, and runs no inline script', async () => {
    await postAndWaitForRender(page, message);
    await page.evaluate(() => {
      window.postMessage({ type: 'spendSummary', summary: { now: 1 } }, '*');
      window.postMessage({ type: 'attempts', attempts: [] }, '*');
    });
    await page.waitForTimeout(100);
    assert.equal(await text('#period-today [data-field="usd"]'), usd(want.today));

    await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.inlineRan = true';
      document.body.appendChild(script);
    });
    assert.equal(await page.evaluate(() => (window as unknown as PanelWindow).inlineRan), undefined);
    // That refusal is the one CSP report expected here.
    const violations = await page.evaluate(() => (window as unknown as PanelWindow).violations.splice(0));
    assert.deepEqual(violations, ['script-src-elem inline']);
  });

  for (const theme of ['dark', 'light', 'high-contrast'] as ThemeName[]) {
    it(`renders in the ${theme} theme`, async () => {
      await page.close();
      ({ page, errors } = await openSpendPanel(browser, server.origin, theme));
      await postAndWaitForRender(page, message);
      const colours = await page.evaluate(() => {
        const body = getComputedStyle(document.body);
        return { fg: body.color, bg: body.backgroundColor };
      });
      assert.notEqual(colours.fg, colours.bg);
      // The codicon font is loaded from the panel's own files.
      const codicon = await page.evaluate(async () => {
        await document.fonts.ready;
        return [...document.fonts].filter((f) => f.family.replace(/"/g, '') === 'codicon').map((f) => f.status);
      });
      assert.deepEqual(codicon, ['loaded']);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, `spend-panel-${theme}.png`), fullPage: true });
      if (theme === 'dark') {
        mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
        await page.screenshot({ path: SCREENSHOT, fullPage: true });
      }
    });
  }
});
