/** Where the spend panel's files are, as URIs the webview may load, and the nonce for its script. */
export interface SpendPageOptions {
  /** The webview's own origin (`webview.cspSource` in VS Code). */
  cspSource: string;
  nonce: string;
  scriptUri: string;
  /** The panel's stylesheet (media/spendPanel.css). */
  styleUri: string;
  /** uPlot's stylesheet, shipped as a file beside the bundle. */
  chartStyleUri: string;
  /** codicon.css (its codicon.ttf sits beside it). */
  codiconStyleUri: string;
}

/**
 * The spend panel's HTML. Strict CSP: the panel's own stylesheets, fonts and images, one script
 * carrying the nonce; no inline script, no network. uPlot sizes its elements through
 * `element.style` (CSSOM), which a CSP does not govern; its stylesheet is a file.
 * Everything inside the containers is built by the script from text.
 */
export function spendPanelPage({ cspSource, nonce, scriptUri, styleUri, chartStyleUri, codiconStyleUri }: SpendPageOptions): string {
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `img-src ${cspSource} data:`,
  ].join('; ');
  const toggle = (group: string, value: string, label: string) =>
    `<button type="button" class="toggle" data-${group}="${value}" aria-pressed="false">${label}</button>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${codiconStyleUri}">
<link rel="stylesheet" href="${chartStyleUri}">
<link rel="stylesheet" href="${styleUri}">
<title>CodeRoute Spend</title>
</head>
<body>
<header class="top">
  <h1>Spend</h1>
  <div class="actions">
    <button type="button" id="export-csv" hidden><span class="codicon codicon-export" aria-hidden="true"></span>Export CSV</button>
    <button type="button" id="open-log"><span class="codicon codicon-output" aria-hidden="true"></span>Open Log</button>
  </div>
</header>
<p id="status" class="muted" role="status">Loading the spend ledger…</p>
<main id="content" hidden>
  <section aria-labelledby="periods-title">
    <h2 id="periods-title" class="visually-hidden">Spend by period</h2>
    <div class="cards">
      <div class="card" id="period-today"><h3>Today</h3><p class="figure" data-field="usd"></p><p class="muted" data-field="detail"></p></div>
      <div class="card" id="period-week"><h3>This week</h3><p class="figure" data-field="usd"></p><p class="muted" data-field="detail"></p></div>
      <div class="card" id="period-month"><h3>This month</h3><p class="figure" data-field="usd"></p><p class="muted" data-field="detail"></p></div>
      <div class="card savings" id="savings"><h3><span class="codicon codicon-graph-line" aria-hidden="true"></span>Saved</h3><p class="figure" data-field="usd"></p><p class="muted" data-field="detail"></p></div>
    </div>
  </section>
  <section aria-labelledby="budgets-title" id="budgets-section">
    <h2 id="budgets-title">Budgets</h2>
    <p id="budgets-empty" class="muted" hidden>No budget set. Set <code>coderoute.budget.dailyUsd</code> or <code>coderoute.budget.monthlyUsd</code> to see gauges here.</p>
    <div id="budgets" class="gauges"></div>
  </section>
  <section aria-labelledby="chart-title">
    <h2 id="chart-title">Spend over time</h2>
    <div class="toolbar">
      <div role="group" aria-label="Period">${toggle('granularity', 'day', 'Day')}${toggle('granularity', 'week', 'Week')}${toggle('granularity', 'month', 'Month')}</div>
      <div role="group" aria-label="Split by">${toggle('group', 'model', 'By model')}${toggle('group', 'task', 'By task')}</div>
    </div>
    <div id="chart" class="chart" role="img"></div>
    <ul id="legend" class="legend" aria-label="Series"></ul>
    <p id="chart-readout" class="muted readout" aria-live="off"></p>
    <details id="chart-data">
      <summary>Chart data as a table</summary>
      <div class="scroll"><table id="chart-table"></table></div>
    </details>
  </section>
  <section aria-labelledby="acceptance-title">
    <h2 id="acceptance-title">Acceptance by model and task</h2>
    <p class="muted">Accepted, 👍 and partly accepted answers count as accepted; discarded, 👎, undone, ignored and retried with a stronger model as rejected.</p>
    <div class="scroll">
      <table id="acceptance">
        <caption class="visually-hidden">Acceptance rate per model and task</caption>
        <thead><tr><th scope="col">Model</th><th scope="col">Task</th><th scope="col" class="num">Accepted</th><th scope="col" class="num">Rejected</th><th scope="col" class="num">No signal</th><th scope="col" class="num">Acceptance</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>
  <section aria-labelledby="decisions-title">
    <h2 id="decisions-title">Recent decisions</h2>
    <p id="decisions-empty" class="muted" hidden>No request has been routed in this window yet.</p>
    <div class="scroll">
      <table id="decisions">
        <caption class="visually-hidden">Recent routing decisions and why</caption>
        <thead><tr><th scope="col">Time</th><th scope="col">Task</th><th scope="col">Model</th><th scope="col">Why</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>
  <section aria-labelledby="picks-title">
    <h2 id="picks-title">What the learner picks</h2>
    <p id="picks-empty" class="muted" hidden>Nothing learned yet: signals (Accept, Discard, 👍 / 👎…) teach the router which model to pick.</p>
    <div class="scroll">
      <table id="picks">
        <caption class="visually-hidden">The model with the highest learned acceptance per bucket</caption>
        <thead><tr><th scope="col">Kind of request</th><th scope="col">Pick</th><th scope="col" class="num">Acceptance</th><th scope="col" class="num">Evidence</th><th scope="col">Runner-up</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>
  <p id="footnote" class="muted"></p>
</main>
<script nonce="${nonce}" src="${scriptUri}"></script>
</body>
</html>`;
}
