import * as vscode from 'vscode';
import { decisionMarkdown, decisionRecord, type DecisionRecord } from '../../core/route/decisionRecord';
import type { RouteDecision } from '../../core/route/routeDecision';

export const WHY_SCHEME = 'coderoute-why';
const RECENT_DECISIONS = 50;

/** A decision and when it was made (ms since the epoch). */
export interface RecentDecision {
  record: DecisionRecord;
  title: string;
  at: number;
}

/**
 * The last routing decision per editor document, and a read-only Markdown view of one
 * ("CodeRoute: Why This Model?"). Keeps decisions as plain records: no prompt, no key, no URL.
 */
export class DecisionDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly byDocument = new Map<string, { record: DecisionRecord; title: string }>();
  private latest: { record: DecisionRecord; title: string } | undefined;
  /** The last decisions of this window, newest last, whatever their editor (the spend panel lists them). */
  private readonly history: RecentDecision[] = [];
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly registration: vscode.Disposable;

  constructor() {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(WHY_SCHEME, this);
  }

  remember(documentUri: string, decision: RouteDecision, title: string): void {
    const entry = { record: decisionRecord(decision), title };
    this.byDocument.delete(documentUri);
    this.byDocument.set(documentUri, entry);
    // Documents closed long ago need not keep their decisions.
    if (this.byDocument.size > 200) this.byDocument.delete(this.byDocument.keys().next().value as string);
    this.latest = entry;
    this.history.push({ ...entry, at: Date.now() });
    if (this.history.length > RECENT_DECISIONS) this.history.shift();
    this.changed.fire(this.uriFor(documentUri));
  }

  /** Up to `limit` of this window's last decisions, newest first. */
  recent(limit = RECENT_DECISIONS): RecentDecision[] {
    return this.history.slice(-limit).reverse();
  }

  /** The last decision for the document, or undefined when none was routed from it. */
  lastFor(documentUri: string): { record: DecisionRecord; title: string } | undefined {
    return this.byDocument.get(documentUri);
  }

  get mostRecent(): { record: DecisionRecord; title: string } | undefined {
    return this.latest;
  }

  uriFor(documentUri: string): vscode.Uri {
    return vscode.Uri.from({ scheme: WHY_SCHEME, path: '/Why this model.md', query: documentUri });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const entry = this.byDocument.get(uri.query);
    return entry ? decisionMarkdown(entry.record, entry.title) : '_No request has been routed from this editor yet._\n';
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
  }
}
