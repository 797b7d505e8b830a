/** Where the panel's files are, as URIs the webview may load, and the nonce for its one script. */
export interface PanelPageOptions {
  /** The webview's own origin (`webview.cspSource` in VS Code). */
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
}

/**
 * The requests panel's HTML. Strict CSP: nothing but the panel's own stylesheet, fonts, and one
 * script carrying the nonce; no inline script or style, no network.
 */
export function requestsPanelPage({ cspSource, nonce, scriptUri, styleUri }: PanelPageOptions): string {
  const csp = ["default-src 'none'", `style-src ${cspSource}`, `font-src ${cspSource}`, `script-src 'nonce-${nonce}'`].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${styleUri}">
<title>CodeRoute Requests</title>
</head>
<body>
<header><h2>Requests this session</h2><button id="open-log" type="button">Open Log</button></header>
<p id="empty">No requests yet. Try <b>CodeRoute: Explain Selection</b>.</p>
<div class="scroll">
<table>
<thead><tr><th>Time</th><th>Task</th><th>Model</th><th>Tokens in / out</th><th>Latency</th><th>Status</th></tr></thead>
<tbody id="rows"></tbody>
</table>
</div>
<script nonce="${nonce}" src="${scriptUri}"></script>
</body>
</html>`;
}
