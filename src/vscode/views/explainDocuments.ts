import * as vscode from 'vscode';

export const EXPLAIN_SCHEME = 'coderoute-explain';
/**
 * True while an explanation is visible in any editor group. VS Code shows an editor's title-bar
 * buttons only in the active group, and an explanation opens beside the code without focus: the
 * palette's 👍 / 👎 follow this key so that they work before the explanation is focused.
 */
export const EXPLANATION_VISIBLE_CONTEXT_KEY = 'coderoute.explanationVisible';

/** The explanation a rating is for: the active editor's, else the last one visible. */
export function visibleExplanation(): vscode.Uri | undefined {
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active?.scheme === EXPLAIN_SCHEME) return active;
  return vscode.window.visibleTextEditors.map((e) => e.document.uri).filter((uri) => uri.scheme === EXPLAIN_SCHEME).at(-1);
}

/** How many explanations stay readable after their editor closes (their text is kept in memory). */
const KEEP_CLOSED = 20;
/** Streaming text is pushed to the editor at most this often. */
const REFRESH_MS = 60;

/** A streamed, read-only Markdown document for one explanation. */
export class ExplainDocument {
  private body = '';
  private footer = '';
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly uri: vscode.Uri,
    private readonly header: string,
    private readonly changed: vscode.EventEmitter<vscode.Uri>,
  ) {}

  get text(): string {
    return `${this.header}\n\n${this.body}${this.footer ? `\n\n---\n\n${this.footer}\n` : '\n'}`;
  }

  append(delta: string): void {
    this.body += delta;
    this.timer ??= setTimeout(() => this.flush(), REFRESH_MS);
  }

  finish(footer: string): void {
    this.footer = footer;
    this.flush();
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.changed.fire(this.uri);
  }
}

/** Serves explanation documents under the `coderoute-explain:` scheme; VS Code shows them read-only. */
export class ExplainDocumentProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly documents = new Map<string, ExplainDocument>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  private readonly disposables: vscode.Disposable[] = [this.changed];
  readonly onDidChange = this.changed.event;

  constructor() {
    this.disposables.push(vscode.workspace.registerTextDocumentContentProvider(EXPLAIN_SCHEME, this));
    vscode.window.onDidChangeVisibleTextEditors(() => this.updateVisible(), this, this.disposables);
    this.updateVisible();
  }

  private visible: boolean | undefined;

  private updateVisible(): void {
    const visible = vscode.window.visibleTextEditors.some((e) => e.document.uri.scheme === EXPLAIN_SCHEME);
    if (visible === this.visible) return;
    this.visible = visible;
    void vscode.commands.executeCommand('setContext', EXPLANATION_VISIBLE_CONTEXT_KEY, visible);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.documents.get(uri.toString())?.text ?? '_This explanation is no longer available._\n';
  }

  /** `title` becomes the tab name; the `.md` suffix makes VS Code treat it as Markdown. */
  create(requestId: string, title: string, header: string): ExplainDocument {
    const uri = vscode.Uri.from({ scheme: EXPLAIN_SCHEME, path: `/${title}.md`, query: requestId });
    const document = new ExplainDocument(uri, header, this.changed);
    this.documents.set(uri.toString(), document);
    this.forgetClosed();
    return document;
  }

  private forgetClosed(): void {
    const open = new Set(vscode.workspace.textDocuments.map((d) => d.uri.toString()));
    const closed = [...this.documents.keys()].filter((key) => !open.has(key));
    closed.slice(0, Math.max(0, closed.length - KEEP_CLOSED)).forEach((key) => this.documents.delete(key));
  }

  dispose(): void {
    vscode.Disposable.from(...this.disposables).dispose();
  }
}
