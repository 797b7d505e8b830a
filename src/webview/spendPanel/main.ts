import uPlot from 'uplot';
import { formatUsd } from '../../core/format/formatUsd';
import {
  fromSpendWebviewSchema,
  toSpendWebviewSchema,
  type FromSpendWebview,
  type SpendSummaryMessage,
  type SpendView,
} from '../protocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

type Summary = SpendSummaryMessage['summary'];
type Budget = Summary['budgets'][number];
type Series = Summary['series']['day'];
type Line = Series['byModel'][number];

const vscode = acquireVsCodeApi();

function post(message: FromSpendWebview): void {
  vscode.postMessage(fromSpendWebviewSchema.parse(message));
}

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`spend panel: #${id} is missing`);
  return element as T;
}

/** An element with text content and optional class: nothing from the host is ever parsed as HTML. */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (text !== undefined) element.textContent = text;
  if (className) element.className = className;
  return element;
}

function th(text: string, scope: 'col' | 'row', className?: string): HTMLTableCellElement {
  const cell = el('th', text, className);
  cell.scope = scope;
  return cell;
}

// ---- Formatting ----

const count = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

/** The one dollar format of CodeRoute: cents, and significant digits below a cent. */
function usd(value: number): string {
  return formatUsd(value);
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

function bucketLabel(start: number, granularity: SpendView['granularity']): string {
  const date = new Date(start);
  if (granularity === 'month') return date.toLocaleDateString(undefined, { year: 'numeric', month: 'short' });
  const day = date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  return granularity === 'week' ? `Week of ${day}` : day;
}

const PERIOD_WORD: Record<SpendView['granularity'], string> = { day: 'day', week: 'week', month: 'month' };

// ---- Theme ----

const PALETTE = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-yellow', '--vscode-charts-red'];
const FALLBACK = ['#3794ff', '#d18616', '#89d185', '#b180d7', '#cca700', '#f14c4c'];

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

interface ChartTheme {
  colors: string[];
  other: string;
  foreground: string;
  lines: string;
  font: string;
}

function chartTheme(): ChartTheme {
  const style = getComputedStyle(document.body);
  return {
    colors: PALETTE.map((name, i) => cssVar(name, FALLBACK[i])),
    other: cssVar('--vscode-charts-lines', '#808080'),
    foreground: cssVar('--vscode-charts-foreground', cssVar('--vscode-foreground', style.color || '#cccccc')),
    lines: cssVar('--vscode-charts-lines', 'rgba(128, 128, 128, 0.35)'),
    font: `${style.fontSize || '13px'} ${style.fontFamily || 'sans-serif'}`,
  };
}

// ---- State ----

let latest: SpendSummaryMessage | undefined;
let view: SpendView = { granularity: 'day', groupBy: 'model' };
let frame = 0;
let chart: uPlot | undefined;
let chartWidth = 0;
const CHART_HEIGHT = 240;
/** Set by a message that is not rendered yet: the start of the measured render. */
let unrendered = false;

const content = byId('content');
const status = byId('status');

// ---- Periods and savings ----

function renderPeriod(id: string, totals: Summary['today']): void {
  const card = byId(id);
  card.querySelector('[data-field="usd"]')!.textContent = usd(totals.usd);
  const parts = [`${totals.requests.toLocaleString()} request${totals.requests === 1 ? '' : 's'}`];
  if (totals.premiumRequests > 0) parts.push(`${count.format(totals.premiumRequests)} premium`);
  if (totals.estimated > 0) parts.push(`${totals.estimated.toLocaleString()} estimated`);
  card.querySelector('[data-field="detail"]')!.textContent = parts.join(' · ');
}

function renderSavings(summary: Summary): void {
  const card = byId('savings');
  const { all, month } = summary;
  card.querySelector('[data-field="usd"]')!.textContent = usd(all.savedUsd);
  const share = all.counterfactualUsd > 0 ? Math.abs(all.savedUsd) / all.counterfactualUsd : 0;
  // Nothing saved is no saving to boast of as "0% less": say why, and what would save.
  const nothingSaved = Math.abs(all.savedUsd) < 1e-9;
  card.querySelector('[data-field="detail"]')!.textContent =
    all.requests === 0
      ? 'Against always the strongest model of each chain.'
      : nothingSaved
        ? 'Nothing saved yet: every request went to the strongest model of its chain, as happens when each chain has one model. List a cheaper model first in coderoute.tasks to save.'
        : `${percent(share)} ${all.savedUsd < 0 ? 'more' : 'less'} than always the strongest model of each chain (${usd(all.counterfactualUsd)}) · this month ${usd(month.savedUsd)}`;
}

// ---- Budgets ----

const ON_LIMIT: Record<Budget['onLimit'], string> = { 'step-down': 'at the limit: cheaper models only', stop: 'at the limit: requests stop' };

function renderBudgets(budgets: readonly Budget[]): void {
  const container = byId('budgets');
  byId('budgets-empty').hidden = budgets.length > 0;
  container.replaceChildren(
    ...budgets.map((budget) => {
      const used = budget.spentUsd + budget.reservedUsd;
      const value = Math.round(used * 100) / 100;
      const max = Math.round(budget.limitUsd * 100) / 100;
      const over = used >= budget.limitUsd && budget.limitUsd > 0;
      const text = `${usd(used)} of ${usd(budget.limitUsd)} (${percent(budget.share)})${over ? ', limit reached' : ''}`;

      const gauge = el('div', undefined, 'gauge');
      gauge.dataset.budgetId = budget.id;
      const labelId = `budget-${budget.id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
      const head = el('div', undefined, 'gauge-head');
      const label = el('span', budget.label, 'gauge-label');
      label.id = labelId;
      head.append(label, el('span', text, 'gauge-text'));

      const meter = el('div', undefined, `meter level-${budget.level >= 1 ? 'limit' : budget.level >= 0.9 ? 'high' : budget.level >= 0.75 ? 'warn' : 'ok'}`);
      meter.setAttribute('role', 'meter');
      meter.setAttribute('aria-labelledby', labelId);
      meter.setAttribute('aria-valuemin', '0');
      meter.setAttribute('aria-valuemax', String(max));
      // ARIA wants the value within its range; the text says when it is past the limit.
      meter.setAttribute('aria-valuenow', String(Math.min(value, max)));
      meter.setAttribute('aria-valuetext', text);
      const fill = el('div', undefined, 'meter-fill');
      fill.style.width = `${Math.min(100, Math.max(0, budget.share * 100))}%`;
      meter.append(fill);

      const notes = [ON_LIMIT[budget.onLimit]];
      if (budget.reservedUsd > 0) notes.unshift(`${usd(budget.reservedUsd)} held by calls in flight`);
      gauge.append(head, meter, el('p', notes.join(' · '), 'muted gauge-note'));
      return gauge;
    }),
  );
}

// ---- Chart ----

function seriesOf(summary: Summary): { series: Series; lines: Line[] } {
  const series = summary.series[view.granularity];
  return { series, lines: view.groupBy === 'model' ? series.byModel : series.byTask };
}

function colorOf(lines: readonly Line[], theme: ChartTheme): string[] {
  let next = 0;
  return lines.map((line) => (line.key === '(other)' ? theme.other : theme.colors[next++ % theme.colors.length]));
}

/** Measures axis labels in the chart's font, to size the axes to their text. */
const measurer = document.createElement('canvas').getContext('2d');
function textWidth(texts: readonly (string | null | undefined)[], font: string): number {
  if (!measurer) return 8 * Math.max(0, ...texts.map((t) => t?.length ?? 0));
  measurer.font = font;
  return Math.max(0, ...texts.map((t) => (t ? measurer.measureText(t).width : 0)));
}

/** Ticks of the dollar axis: 1, 2 and 5 times a power of ten, each of which the dollar format shows exactly. */
const DOLLAR_STEPS = Array.from({ length: 14 }, (_, i) => [1, 2, 5].map((m) => Number((m * 10 ** (i - 7)).toPrecision(1)))).flat();

/**
 * Which buckets get a label on the time axis: as many as fit without touching, counted back from
 * the newest, so today's (or this week's, this month's) bucket is always named.
 */
function labelledBuckets(count: number, plotWidth: number, labelWidth: number): number[] {
  const fit = Math.max(1, Math.floor(plotWidth / (labelWidth + 16)));
  const every = Math.max(1, Math.ceil(count / fit));
  const indices: number[] = [];
  for (let i = count - 1; i >= 0; i -= every) indices.unshift(i);
  return indices;
}

function renderChart(summary: Summary, onDrawn: () => void): void {
  const container = byId('chart');
  const { series, lines } = seriesOf(summary);
  const theme = chartTheme();
  const colors = colorOf(lines, theme);
  // One bar per bucket at its index: the axis then names exactly the buckets the table lists, for
  // one bucket as for many, and never an hour or a year between them.
  const xs = series.starts.map((_, i) => i);
  const labels = series.starts.map((start) => bucketLabel(start, view.granularity));

  // Stacked bars: each bar is the sum up to its line, drawn tallest first, so each line's colour
  // shows the part it adds. The largest line sits at the bottom.
  const stacked: number[][] = [];
  let running = new Array<number>(xs.length).fill(0);
  for (const line of lines) {
    running = running.map((sum, i) => sum + line.usd[i]);
    stacked.push(running);
  }
  const order = lines.map((_, i) => lines.length - 1 - i);
  const data: uPlot.AlignedData = [xs, ...order.map((i) => stacked[i])];

  chart?.destroy();
  chart = undefined;
  container.replaceChildren();
  chartWidth = Math.max(240, container.clientWidth || 600);
  const bars = uPlot.paths.bars!({ size: [0.8, 48], align: 0 });
  const axis = {
    stroke: theme.foreground,
    font: theme.font,
    grid: { stroke: theme.lines, width: 1 },
    ticks: { stroke: theme.lines, width: 1, size: 6 },
    gap: 4,
  };
  const labelWidth = textWidth(labels, theme.font);
  chart = new uPlot(
    {
      width: chartWidth,
      height: CHART_HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      scales: {
        x: { time: false, range: () => [-0.5, Math.max(1, xs.length) - 0.5] },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        {
          ...axis,
          grid: { show: false },
          splits: (u) => labelledBuckets(xs.length, u.bbox.width / uPlot.pxRatio, labelWidth),
          values: (_u, splits) => splits.map((i) => labels[i] ?? ''),
        },
        {
          ...axis,
          incrs: DOLLAR_STEPS,
          values: (_u, ticks) => ticks.map((v) => usd(v)),
          // As wide as its widest label: "$0.000025" must not lose its "$".
          size: (_u, values) => Math.ceil(6 + 4 + textWidth(values ?? ['$0.00'], theme.font) + 6),
        },
      ],
      series: [{}, ...order.map((i) => ({ label: lines[i].key, stroke: colors[i], fill: colors[i], width: 0, paths: bars, points: { show: false } }))],
      hooks: {
        draw: [() => onDrawn()],
        setCursor: [(u) => readout(u.cursor.idx, summary)],
      },
    },
    data,
    container,
  );

  const total = series.total.reduce((a, b) => a + b, 0);
  const range = xs.length ? `${bucketLabel(series.starts[0], view.granularity)} to ${bucketLabel(series.starts[series.starts.length - 1], view.granularity)}` : '';
  const largest = lines[0] ? `; the most: ${lines[0].key} ${usd(lines[0].total)}` : '';
  container.setAttribute('aria-label', `Bar chart of spend per ${PERIOD_WORD[view.granularity]} by ${view.groupBy}, ${range}: ${usd(total)} in all${largest}. The same figures are in the table below the chart.`);

  byId('legend').replaceChildren(
    ...lines.map((line, i) => {
      const item = el('li');
      const swatch = el('span', undefined, 'swatch');
      swatch.style.background = colors[i];
      swatch.setAttribute('aria-hidden', 'true');
      item.append(swatch, el('span', line.key, 'legend-key'), el('span', ` ${usd(line.total)}`, 'legend-value'));
      return item;
    }),
  );
  byId('chart-readout').textContent = lines.length ? 'Point at a bar for its figures.' : `No spend in these ${PERIOD_WORD[view.granularity]}s.`;
  if (byId<HTMLDetailsElement>('chart-data').open) renderChartTable(summary);
}

function readout(index: number | null | undefined, summary: Summary): void {
  const target = byId('chart-readout');
  if (index === null || index === undefined) return;
  const { series, lines } = seriesOf(summary);
  const parts = lines.filter((line) => line.usd[index] > 0).map((line) => `${line.key} ${usd(line.usd[index])}`);
  target.textContent = `${bucketLabel(series.starts[index], view.granularity)}: ${usd(series.total[index])}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

function renderChartTable(summary: Summary): void {
  const { series, lines } = seriesOf(summary);
  const table = byId<HTMLTableElement>('chart-table');
  const caption = el('caption', `Spend per ${PERIOD_WORD[view.granularity]} by ${view.groupBy}`, 'visually-hidden');
  const head = el('thead');
  const headRow = el('tr');
  headRow.append(th(view.granularity === 'day' ? 'Day' : view.granularity === 'week' ? 'Week' : 'Month', 'col'), ...lines.map((l) => th(l.key, 'col', 'num')), th('Total', 'col', 'num'));
  head.append(headRow);
  const body = el('tbody');
  for (let i = series.starts.length - 1; i >= 0; i--) {
    const row = el('tr');
    row.append(th(bucketLabel(series.starts[i], view.granularity), 'row'), ...lines.map((l) => el('td', usd(l.usd[i]), 'num')), el('td', usd(series.total[i]), 'num'));
    body.append(row);
  }
  table.replaceChildren(caption, head, body);
}

// ---- Tables ----

function renderAcceptance(summary: Summary): void {
  const body = byId('acceptance').querySelector('tbody')!;
  body.replaceChildren(
    ...summary.acceptance.map((cell) => {
      const row = el('tr');
      row.dataset.model = cell.model;
      row.dataset.task = cell.task;
      const rate = el('td', cell.rate === null ? '—' : percent(cell.rate), 'num rate');
      if (cell.rate === null) rate.setAttribute('aria-label', 'no verdicts yet');
      row.append(th(cell.model, 'row'), el('td', cell.task), el('td', cell.accepted.toLocaleString(), 'num'), el('td', cell.rejected.toLocaleString(), 'num'), el('td', cell.noSignal.toLocaleString(), 'num'), rate);
      return row;
    }),
  );
}

function renderDecisions(decisions: SpendSummaryMessage['decisions'], now: number): void {
  const today = new Date(now).toDateString();
  byId('decisions-empty').hidden = decisions.length > 0;
  byId('decisions').hidden = decisions.length === 0;
  byId('decisions').querySelector('tbody')!.replaceChildren(
    ...decisions.map((d) => {
      const row = el('tr');
      row.dataset.requestId = d.requestId;
      const at = new Date(d.at);
      const when = at.toDateString() === today ? at.toLocaleTimeString() : at.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
      row.append(th(when, 'row'), el('td', d.task), el('td', d.model), el('td', d.reason, 'why'));
      return row;
    }),
  );
}

function bucketName(bucket: string): string {
  return bucket === '*' ? 'All requests' : bucket.split('|').join(' · ');
}

function renderPicks(picks: SpendSummaryMessage['picks']): void {
  byId('picks-empty').hidden = picks.length > 0;
  byId('picks').hidden = picks.length === 0;
  byId('picks').querySelector('tbody')!.replaceChildren(
    ...picks.map((p) => {
      const row = el('tr');
      const runnerUp = p.runnerUp ? `${p.runnerUp.model} (${percent(p.runnerUp.mean)}, ${count.format(p.runnerUp.observations)} signals)` : '—';
      row.append(
        th(bucketName(p.bucket), 'row'),
        el('td', p.model),
        el('td', percent(p.mean), 'num'),
        el('td', `${count.format(p.successes)} of ${count.format(p.observations)}`, 'num'),
        el('td', runnerUp),
      );
      return row;
    }),
  );
}

function renderFootnote(summary: Summary): void {
  const { all } = summary;
  const parts = [`All time: ${usd(all.usd)} over ${all.requests.toLocaleString()} requests.`];
  if (all.premiumRequests > 0) parts.push(`${count.format(all.premiumRequests)} VS Code premium requests (not in dollars).`);
  if (all.estimated > 0) parts.push(`The cost of ${all.estimated.toLocaleString()} request${all.estimated === 1 ? ' is an estimate' : 's is estimated'}: the provider reported no usage.`);
  byId('footnote').textContent = parts.join(' ');
}

// ---- Toggles ----

function syncToggles(): void {
  document.querySelectorAll<HTMLButtonElement>('button[data-granularity]').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.granularity === view.granularity)));
  document.querySelectorAll<HTMLButtonElement>('button[data-group]').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.group === view.groupBy)));
}

function setView(next: SpendView): void {
  if (next.granularity === view.granularity && next.groupBy === view.groupBy) return;
  view = next;
  syncToggles();
  post({ type: 'setView', view });
  if (latest) renderChart(latest.summary, () => undefined);
}

document.querySelectorAll<HTMLButtonElement>('button[data-granularity]').forEach((button) =>
  button.addEventListener('click', () => {
    const granularity = button.dataset.granularity;
    if (granularity === 'day' || granularity === 'week' || granularity === 'month') setView({ ...view, granularity });
  }),
);
document.querySelectorAll<HTMLButtonElement>('button[data-group]').forEach((button) =>
  button.addEventListener('click', () => {
    const groupBy = button.dataset.group;
    if (groupBy === 'model' || groupBy === 'task') setView({ ...view, groupBy });
  }),
);
byId('chart-data').addEventListener('toggle', () => {
  if (latest && byId<HTMLDetailsElement>('chart-data').open) renderChartTable(latest.summary);
});
byId('open-log').addEventListener('click', () => post({ type: 'openLog' }));
byId('export-csv').addEventListener('click', () => post({ type: 'exportCsv' }));

// ---- Rendering ----

function render(): void {
  frame = 0;
  const message = latest;
  if (!message) return;
  const { summary } = message;
  view = message.view;
  syncToggles();
  byId('export-csv').hidden = !message.canExportCsv;
  content.hidden = false;
  status.textContent = summary.all.requests === 0 ? 'No spend recorded yet. Costs appear here as requests settle.' : '';
  status.hidden = summary.all.requests > 0;

  renderPeriod('period-today', summary.today);
  renderPeriod('period-week', summary.week);
  renderPeriod('period-month', summary.month);
  renderSavings(summary);
  renderBudgets(summary.budgets);
  renderAcceptance(summary);
  renderDecisions(message.decisions, summary.now);
  renderPicks(message.picks);
  renderFootnote(summary);

  let measured = unrendered;
  unrendered = false;
  renderChart(summary, () => {
    if (!measured) return;
    measured = false;
    // Chart drawn and tables in the DOM: what a person sees, minus the paint.
    performance.mark('spend:rendered');
    performance.measure('spend:render', 'spend:message', 'spend:rendered');
  });
}

window.addEventListener('message', (event: MessageEvent) => {
  const received = performance.now();
  const parsed = toSpendWebviewSchema.safeParse(event.data);
  if (!parsed.success) return;
  if (!unrendered) {
    // The render is measured from the message's arrival, validation included.
    performance.mark('spend:message', { startTime: received });
    unrendered = true;
  }
  latest = parsed.data;
  // A burst of updates renders once, in the next frame.
  if (!frame) frame = requestAnimationFrame(render);
});

// A theme switch changes the CSS variables (on <html>) and the body's class: recolour the chart.
const recolour = new MutationObserver(() => {
  if (latest && !frame) renderChart(latest.summary, () => undefined);
});
recolour.observe(document.body, { attributes: true, attributeFilter: ['class'] });
recolour.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });

new ResizeObserver(() => {
  const next = byId('chart').clientWidth;
  if (chart && next > 0 && Math.abs(next - chartWidth) > 2) {
    chartWidth = next;
    chart.setSize({ width: next, height: CHART_HEIGHT });
  }
}).observe(byId('chart'));

post({ type: 'ready' });
