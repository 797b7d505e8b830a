import * as vscode from 'vscode';
import type { OutcomeLog } from '../../core/learn/outcomes';

export const PROPOSAL_SCHEME = 'coderoute-proposal';
const PENDING_CONTEXT_KEY = 'coderoute.proposalPending';
/** An undo this soon after Accept counts as the user taking the change back. */
export const UNDO_WINDOW_MS = 60_000;
/** Proposal files kept for diff editors that outlive their proposal. */
const KEEP_TEXTS = 10;

/** A replacement of whole lines of a document, shown as a diff until the user accepts or discards it. */
export interface Proposal {
  documentUri: vscode.Uri;
  startLine: number;
  /** Inclusive; whole lines are replaced. */
  endLine: number;
  /** The new text of the lines, without the final line break (one trailing line break is ignored). */
  replacement: string;
  requestId: string;
  task: string;
  modelId: string;
  /** The diff editor's title. */
  title: string;
  /** Shown after the question in the notification, for example the model and cost. */
  footer?: string;
}

/** The arguments of the hidden `coderoute.proposeEdit` command (for actions and tests). */
export type ProposeEditArgs = Omit<Proposal, 'documentUri' | 'title'> & { uri: string | vscode.Uri; title?: string };

export function proposalFrom({ uri, title, ...rest }: ProposeEditArgs): Proposal {
  return { ...rest, documentUri: typeof uri === 'string' ? vscode.Uri.parse(uri) : uri, title: title ?? 'CodeRoute proposal' };
}

export interface ProposalResult {
  outcome: 'accepted' | 'partially-accepted' | 'discarded';
  /** The text that replaced the lines, when the proposal was applied. */
  applied?: string;
}

interface Pending {
  proposal: Proposal;
  proposalUri: vscode.Uri;
  replacement: string;
  /** The text of the target lines when proposed; Accept applies only over exactly this. */
  original: string;
  /** The proposal's text before and after the replaced lines; the user may edit only between them. */
  prefix: string;
  suffix: string;
  settle: (result: ProposalResult) => void;
  /** Set while Accept is applying, so a second Accept or Discard does not race it. */
  busy?: boolean;
}

interface Applied {
  proposal: Proposal;
  documentUri: string;
  original: string;
  at: number;
}

function linesRange(document: vscode.TextDocument, startLine: number, endLine: number): vscode.Range {
  return new vscode.Range(startLine, 0, endLine, document.lineAt(endLine).text.length);
}

interface ProposalFile {
  data: Uint8Array;
  ctime: number;
  mtime: number;
}

/**
 * Shows a proposed edit as a diff beside its document and applies it only on Accept. One proposal
 * waits at a time. The proposal side is an in-memory file the user may edit before accepting; an
 * edited proposal is recorded as partially accepted. Every resolution, and an undo soon after
 * Accept, is recorded in the outcome log.
 */
export class ProposalController implements vscode.FileSystemProvider, vscode.Disposable {
  private readonly files = new Map<string, ProposalFile>();
  private readonly changed = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private pending: Pending | undefined;
  private applied: Applied | undefined;
  private sequence = 0;

  constructor(
    private readonly outcomes: OutcomeLog,
    private readonly now: () => number = Date.now,
  ) {
    this.disposables.push(vscode.workspace.registerFileSystemProvider(PROPOSAL_SCHEME, this, { isCaseSensitive: true }));
    vscode.workspace.onDidChangeTextDocument(this.watchForUndo, this, this.disposables);
  }

  // The in-memory file system of the proposal side: one file per proposal, nothing on disk.

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined);
  }

  stat(uri: vscode.Uri): vscode.FileStat {
    const file = this.file(uri);
    return { type: vscode.FileType.File, ctime: file.ctime, mtime: file.mtime, size: file.data.byteLength };
  }

  readFile(uri: vscode.Uri): Uint8Array {
    return this.file(uri).data;
  }

  writeFile(uri: vscode.Uri, content: Uint8Array, options: { readonly create: boolean; readonly overwrite: boolean }): void {
    const key = uri.toString();
    const existing = this.files.get(key);
    if (!existing && !options.create) throw vscode.FileSystemError.FileNotFound(uri);
    if (existing && options.create && !options.overwrite) throw vscode.FileSystemError.FileExists(uri);
    const now = Math.max(Date.now(), (existing?.mtime ?? 0) + 1);
    this.files.set(key, { data: content, ctime: existing?.ctime ?? now, mtime: now });
    this.changed.fire([{ type: existing ? vscode.FileChangeType.Changed : vscode.FileChangeType.Created, uri }]);
  }

  readDirectory(): [string, vscode.FileType][] {
    return [];
  }

  createDirectory(uri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  delete(uri: vscode.Uri): void {
    if (!this.files.delete(uri.toString())) throw vscode.FileSystemError.FileNotFound(uri);
    this.changed.fire([{ type: vscode.FileChangeType.Deleted, uri }]);
  }

  rename(oldUri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(oldUri);
  }

  private file(uri: vscode.Uri): ProposalFile {
    const file = this.files.get(uri.toString());
    if (!file) throw vscode.FileSystemError.FileNotFound(uri);
    return file;
  }

  get hasPending(): boolean {
    return this.pending !== undefined;
  }

  /** Shows the proposal; resolves when it is accepted or discarded (a newer proposal discards it). */
  async propose(proposal: Proposal): Promise<ProposalResult> {
    const document = await vscode.workspace.openTextDocument(proposal.documentUri);
    const { startLine, endLine } = proposal;
    if (!Number.isInteger(startLine) || !Number.isInteger(endLine) || startLine < 0 || endLine < startLine || endLine >= document.lineCount) {
      throw new RangeError(`lines ${startLine}–${endLine} are not in the document (${document.lineCount} lines)`);
    }
    if (this.pending) this.discardPending('replaced by a newer proposal');

    const eol = document.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n';
    const replacement = proposal.replacement.replace(/\r?\n$/, '').replace(/\r?\n/g, eol);
    const range = linesRange(document, startLine, endLine);
    const end = document.lineAt(document.lineCount - 1).range.end;
    const prefix = document.getText(new vscode.Range(new vscode.Position(0, 0), range.start));
    const suffix = document.getText(new vscode.Range(range.end, end));
    const proposalUri = vscode.Uri.from({ scheme: PROPOSAL_SCHEME, path: document.uri.path, query: `${proposal.requestId}.${++this.sequence}` });
    this.remember(proposalUri, prefix + replacement + suffix);

    let settle: (result: ProposalResult) => void = () => undefined;
    const result = new Promise<ProposalResult>((resolve) => (settle = resolve));
    const pending: Pending = { proposal, proposalUri, replacement, original: document.getText(range), prefix, suffix, settle };
    this.pending = pending;
    void vscode.commands.executeCommand('setContext', PENDING_CONTEXT_KEY, true);
    await vscode.commands.executeCommand('vscode.diff', document.uri, proposalUri, proposal.title, { preview: false });
    void this.ask(pending);
    return result;
  }

  /**
   * Applies the pending proposal as it now reads on the proposal side (edits included, saved or
   * not); undefined when there is none or it can no longer apply.
   */
  async accept(): Promise<ProposalResult | undefined> {
    const pending = this.pending;
    if (!pending) return this.nothingPending();
    if (pending.busy) return undefined;
    const { proposal } = pending;
    const document = await vscode.workspace.openTextDocument(proposal.documentUri);
    const stillThere = proposal.endLine < document.lineCount && document.getText(linesRange(document, proposal.startLine, proposal.endLine)) === pending.original;
    if (!stillThere) {
      void vscode.window.showWarningMessage('The lines changed since CodeRoute proposed this edit; discard it and ask again.');
      return undefined;
    }
    const replacement = this.proposedLines(pending);
    if (replacement === undefined) {
      void vscode.window.showWarningMessage(
        'The proposal was edited outside the proposed lines; only those lines can be changed. Undo the other edits in the proposal, or discard it.',
      );
      return undefined;
    }
    pending.busy = true;
    const edit = new vscode.WorkspaceEdit();
    edit.replace(document.uri, linesRange(document, proposal.startLine, proposal.endLine), replacement);
    const ok = await vscode.workspace.applyEdit(edit);
    pending.busy = false;
    if (!ok) {
      void vscode.window.showErrorMessage('CodeRoute could not apply the edit; the document may be read-only.');
      return undefined;
    }
    const at = this.now();
    this.applied = {
      proposal,
      documentUri: document.uri.toString(),
      original: pending.original,
      at,
    };
    const outcome = replacement === pending.replacement ? 'accepted' : 'partially-accepted';
    return this.settle(pending, { outcome, applied: replacement }, at);
  }

  /** The replaced lines as the proposal side now reads; undefined when it was edited outside them. */
  private proposedLines(pending: Pending): string | undefined {
    const key = pending.proposalUri.toString();
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === key);
    const file = this.files.get(key);
    const text = open ? open.getText() : file ? new TextDecoder().decode(file.data) : pending.prefix + pending.replacement + pending.suffix;
    const { prefix, suffix } = pending;
    if (text.length < prefix.length + suffix.length || !text.startsWith(prefix) || !text.endsWith(suffix)) return undefined;
    return text.slice(prefix.length, text.length - suffix.length);
  }

  /** Drops the pending proposal without touching the document. */
  async discard(): Promise<ProposalResult | undefined> {
    const pending = this.pending;
    if (!pending) return this.nothingPending();
    if (pending.busy) return undefined;
    return this.settle(pending, { outcome: 'discarded' }, this.now());
  }

  private discardPending(detail: string): void {
    if (this.pending) void this.settle(this.pending, { outcome: 'discarded' }, this.now(), detail);
  }

  private async ask(pending: Pending): Promise<void> {
    const { title, footer } = pending.proposal;
    const choice = await vscode.window.showInformationMessage(`${title}: accept the proposed change?${footer ? ` ${footer}` : ''}`, 'Accept', 'Discard');
    // The proposal may have been settled by a command, or replaced, while the notification waited.
    if (this.pending !== pending) return;
    if (choice === 'Accept') await this.accept();
    else if (choice === 'Discard') await this.discard();
  }

  private async settle(pending: Pending, result: ProposalResult, at: number, detail?: string): Promise<ProposalResult> {
    this.pending = undefined;
    void vscode.commands.executeCommand('setContext', PENDING_CONTEXT_KEY, false);
    const { requestId, task, modelId } = pending.proposal;
    this.outcomes.record({ requestId, task, modelId, kind: result.outcome, at, ...(detail ? { detail } : {}) });
    pending.settle(result);
    await this.closeDiff(pending.proposalUri);
    return result;
  }

  private async closeDiff(proposalUri: vscode.Uri): Promise<void> {
    const key = proposalUri.toString();
    // Save edits into the in-memory file so closing the diff does not ask to save them.
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === key);
    if (open?.isDirty) {
      try {
        await open.save();
      } catch {
        // Closing may then ask; the proposal is settled either way.
      }
    }
    const tabs = vscode.window.tabGroups.all
      .flatMap((group) => group.tabs)
      .filter((tab) => tab.input instanceof vscode.TabInputTextDiff && tab.input.modified.toString() === key);
    if (tabs.length) await vscode.window.tabGroups.close(tabs);
  }

  private watchForUndo(event: vscode.TextDocumentChangeEvent): void {
    const applied = this.applied;
    if (!applied || event.reason !== vscode.TextDocumentChangeReason.Undo || event.document.uri.toString() !== applied.documentUri) return;
    if (this.now() - applied.at > UNDO_WINDOW_MS) {
      this.applied = undefined;
      return;
    }
    const { document } = event;
    const { startLine } = applied.proposal;
    const originalLines = applied.original.split(/\r?\n/).length;
    const endLine = startLine + originalLines - 1;
    if (endLine >= document.lineCount || document.getText(linesRange(document, startLine, endLine)) !== applied.original) return;
    this.applied = undefined;
    const { requestId, task, modelId } = applied.proposal;
    this.outcomes.record({ requestId, task, modelId, kind: 'undone', at: this.now(), detail: `${Math.round((this.now() - applied.at) / 1000)} s after accepting` });
  }

  private nothingPending(): undefined {
    void vscode.window.showInformationMessage('No CodeRoute proposal is waiting for Accept or Discard.');
    return undefined;
  }

  private remember(uri: vscode.Uri, text: string): void {
    const now = Date.now();
    this.files.set(uri.toString(), { data: new TextEncoder().encode(text), ctime: now, mtime: now });
    while (this.files.size > KEEP_TEXTS) this.files.delete(this.files.keys().next().value as string);
  }

  dispose(): void {
    // Closing the window is not the user's verdict: settle without recording.
    this.pending?.settle({ outcome: 'discarded' });
    this.pending = undefined;
    vscode.Disposable.from(...this.disposables).dispose();
  }
}
