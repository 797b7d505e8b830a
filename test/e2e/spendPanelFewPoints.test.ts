import * as assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { SettleLine } from '../../src/core/spend/spendRecord';
import type { SpendView, ToSpendWebview } from '../../src/webview/protocol';
import { launchChromium } from '../host/browser';
import { REPO_ROOT } from '../host/testResults';
import type { GeneratedLedger } from '../support/spendLedger';
import { openSpendPanel, postAndWaitForRender, serveSpendPanel, summaryMessage, type PanelWindow, type SpendPanelServer } from '../support/spendPanelHarness';

/**
 * The spend chart with little data, as a new user sees it: no spend yet, the first day, a few
 * days, a few months, in the day, week and month views. What the chart draws is read from the
 * canvas (every text uPlot writes, where and how wide) and checked against the buckets, which are
 * labelled here with the Date API, not with the panel's code.
 */

const ARTIFACTS = path.join(REPO_ROOT, 'out', 'test', 'e2e', 'artifacts');
const DAY_MS = 86_400_000;
/** The first day: a Wednesday afternoon, local time. */
const NOW = new Date(2026, 11, 2, 15, 10).getTime();

function record(at: number, usd: number, model = 'gpt-4.1-mini', task = 'explain'): SettleLine {
  return {
    type: 'settle',
    requestId: `r-${at}-${model}-${task}`,
    at,
    task,
    language: 'typescript',
    model,
    provider: 'openai',
    tokensIn: 120,
    tokensOut: 40,
    estimated: false,
    usd,
    counterfactualUsd: usd,
    latencyMs: 900,
    attempts: 1,
    fallbackUsed: false,
    status: 'ok',
    tags: ['cheap'],
  };
}

const LEDGERS: Record<string, GeneratedLedger> = {
  'no spend yet': { settled: [], outcomes: [] },
  'the first day': { settled: [record(NOW - 3 * 3_600_000, 0.000028), record(NOW - 3_600_000, 0.000011), record(NOW - 60_000, 0.000019, 'gpt-4.1', 'debug')], outcomes: [] },
  'a few days': { settled: [record(NOW - 5 * DAY_MS, 0.012), record(NOW - 2 * DAY_MS, 0.0031, 'gpt-4.1', 'generate'), record(NOW - 60_000, 0.00042)], outcomes: [] },
  'a few months': { settled: [record(NOW - 70 * DAY_MS, 0.41), record(NOW - 35 * DAY_MS, 1.2, 'gpt-4.1', 'debug'), record(NOW - 60_000, 0.07)], outcomes: [] },
};

interface Drawn {
  text: string;
  x: number;
  y: number;
  align: CanvasTextAlign;
  width: number;
  canvasWidth: number;
}

/** How the test labels a bucket: the locale's short month and day, or month and year. */
function label(start: number, granularity: SpendView['granularity']): string {
  const date = new Date(start);
  if (granularity === 'month') return date.toLocaleDateString('en-US', { year: 'numeric', month: 'short' });
  const day = date.toLocaleDateString('en-US', { month: 'short', day: 'numeric' });
  return granularity === 'week' ? `Week of ${day}` : day;
}

describe('spend panel chart in Chromium with 0, 1 and a few points', () => {
  let server: SpendPanelServer;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  before(async () => {
    server = await serveSpendPanel();
    browser = await launchChromium();
  });

  beforeEach(async () => {
    ({ page, errors } = await openSpendPanel(browser, server.origin, 'dark', { width: 1000, height: 900 }));
    // Every text drawn on a canvas: the chart's axes are drawn, not in the DOM.
    await page.evaluate(() => {
      const w = window as unknown as { drawn: Drawn[] };
      w.drawn = [];
      const fillText = CanvasRenderingContext2D.prototype.fillText;
      CanvasRenderingContext2D.prototype.fillText = function (this: CanvasRenderingContext2D, text: string, x: number, y: number, maxWidth?: number) {
        const matrix = this.getTransform();
        w.drawn.push({ text, x: matrix.a * x + matrix.e, y: matrix.d * y + matrix.f, align: this.textAlign, width: this.measureText(text).width * matrix.a, canvasWidth: this.canvas.width });
        return maxWidth === undefined ? fillText.call(this, text, x, y) : fillText.call(this, text, x, y, maxWidth);
      };
    });
  });

  afterEach(async () => {
    assert.deepEqual(errors, [], 'no script errors');
    assert.deepEqual(await page.evaluate(() => (window as unknown as PanelWindow).violations), [], 'no CSP refusals');
    await page.close();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('the first day, with one model per chain: Saved says why nothing was saved instead of "0% less"', async () => {
    await postAndWaitForRender(page, summaryMessage({ ledger: LEDGERS['the first day'], now: NOW }));
    const detail = ((await page.textContent('#savings [data-field="detail"]')) ?? '').trim();
    assert.doesNotMatch(detail, /0% less/);
    assert.match(detail, /^Nothing saved yet: every request went to the strongest model of its chain, as happens when each chain has one model\./);
    assert.equal(((await page.textContent('#savings [data-field="usd"]')) ?? '').trim(), '$0.00');
    // Real amounts under a cent read as such, not $0.0000.
    assert.equal(((await page.textContent('#period-today [data-field="usd"]')) ?? '').trim(), '$0.000058');
  });

  it('a few days with cheaper models chosen: Saved gives the share and the counterfactual', async () => {
    const ledger = structuredClone(LEDGERS['a few days']);
    ledger.settled[0].counterfactualUsd = 0.048;
    await postAndWaitForRender(page, summaryMessage({ ledger, now: NOW }));
    const detail = ((await page.textContent('#savings [data-field="detail"]')) ?? '').trim();
    assert.match(detail, /^70% less than always the strongest model of each chain \(\$0\.05\)/);
  });

  for (const [name, ledger] of Object.entries(LEDGERS)) {
    for (const granularity of ['day', 'week', 'month'] as const) {
      it(`${name}, per ${granularity}: the axis names the buckets the table lists, and the dollar ticks are whole and distinct`, async () => {
        const message = summaryMessage({ ledger, now: NOW, view: { granularity, groupBy: 'model' } }) as Extract<ToSpendWebview, { type: 'spendSummary' }>;
        const series = message.summary.series[granularity];
        await page.evaluate(() => ((window as unknown as { drawn: Drawn[] }).drawn = []));
        await postAndWaitForRender(page, message);
        const drawn = await page.evaluate(() => (window as unknown as { drawn: Drawn[] }).drawn);

        // The table lists the buckets, newest first.
        await page.click('#chart-data summary');
        await page.locator('#chart-table tbody tr').first().waitFor();
        const rows = await page.locator('#chart-table tbody th').allTextContents();
        const buckets = series.starts.map((s) => label(s, granularity));
        assert.deepEqual(rows, [...buckets].reverse());

        // Axis labels along the bottom (centred) are bucket labels, in order, and never a date outside them.
        const xLabels = drawn.filter((d) => d.align === 'center');
        assert.ok(xLabels.length >= 1, `the time axis is labelled: ${JSON.stringify(drawn.map((d) => d.text))}`);
        for (const d of xLabels) assert.ok(buckets.includes(d.text), `"${d.text}" is one of the buckets (${buckets.join(', ')})`);
        const xs = xLabels.map((d) => d.x);
        assert.deepEqual(xs, [...xs].sort((a, b) => a - b), 'left to right');
        assert.deepEqual(
          xLabels.map((d) => d.text),
          buckets.filter((b) => xLabels.some((d) => d.text === b)),
          'in the order of the buckets',
        );
        if (buckets.length === 1) {
          // One bucket sits in the middle of the chart, not at its left edge.
          const at = xLabels[0].x / xLabels[0].canvasWidth;
          assert.ok(at > 0.4 && at < 0.65, `the only bucket is at ${Math.round(at * 100)}% of the width`);
        }

        // Dollar ticks on the left (right-aligned): each a whole "$…" label inside the canvas, none repeated.
        const yLabels = drawn.filter((d) => d.align === 'right');
        assert.ok(yLabels.length >= 2, `the dollar axis is labelled: ${JSON.stringify(drawn.map((d) => d.text))}`);
        for (const d of yLabels) {
          assert.match(d.text, /^\$\d/, 'a dollar amount');
          assert.ok(d.x - d.width >= 0, `"${d.text}" is drawn whole (its left edge at ${Math.round(d.x - d.width)} px)`);
        }
        assert.equal(new Set(yLabels.map((d) => d.text)).size, yLabels.length, `distinct ticks: ${yLabels.map((d) => d.text).join(', ')}`);
        const spend = series.total.reduce((a, b) => a + b, 0);
        if (spend > 0) assert.ok(yLabels.some((d) => d.text !== '$0.00'), 'a tick above zero');

        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: path.join(ARTIFACTS, `spend-chart-${name.replace(/ /g, '-')}-${granularity}.png`), fullPage: true });
      });
    }
  }
});
