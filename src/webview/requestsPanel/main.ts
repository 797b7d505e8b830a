import { fromWebviewSchema, toWebviewSchema, type AttemptRow, type FromWebview } from '../protocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();

function post(message: FromWebview): void {
  vscode.postMessage(fromWebviewSchema.parse(message));
}

function cell(text: string, className?: string): HTMLTableCellElement {
  const td = document.createElement('td');
  // Everything shown is text: nothing from the host or a model is ever parsed as HTML.
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function render(rows: readonly AttemptRow[]): void {
  const body = document.getElementById('rows');
  const empty = document.getElementById('empty');
  if (!body || !empty) return;
  empty.hidden = rows.length > 0;
  body.replaceChildren(
    ...rows.map((row) => {
      const tr = document.createElement('tr');
      tr.dataset.requestId = row.requestId;
      const time = new Date(row.finishedAt).toLocaleTimeString();
      const status = row.errorKind ? `${row.status} (${row.errorKind})` : row.status;
      const tokens = `${row.inputTokens} / ${row.outputTokens}${row.usageEstimated ? ' ~' : ''}`;
      tr.append(
        cell(time),
        cell(row.task),
        cell(`${row.modelId} · ${row.providerId}`),
        cell(tokens, 'num'),
        cell(`${(row.latencyMs / 1000).toFixed(2)} s`, 'num'),
        cell(status, `status-${row.status}`),
      );
      return tr;
    }),
  );
}

window.addEventListener('message', (event: MessageEvent) => {
  const parsed = toWebviewSchema.safeParse(event.data);
  if (!parsed.success) return;
  if (parsed.data.type === 'attempts') render(parsed.data.attempts);
});

document.getElementById('open-log')?.addEventListener('click', () => post({ type: 'openLog' }));
post({ type: 'ready' });
