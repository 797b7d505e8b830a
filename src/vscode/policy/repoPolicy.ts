import { createHash } from 'node:crypto';
import * as vscode from 'vscode';
import type { Settings } from '../../core/config/settingsSchema';
import type { Logger } from '../../core/log/logger';
import { mergePolicy, parseRepoPolicy, type Policy, type RepoPolicy, type RepoPolicyProblem } from '../../core/policy/policy';

/** Where the repository policy lives, relative to the workspace folder. */
export const REPO_POLICY_PATH = '.vscode/coderoute.json';
/** workspaceState key: the content hash of the policy file the user approved. */
export const APPROVED_HASH_KEY = 'coderoute.repoPolicy.approvedHash';

/** What is known about the repository policy file. */
type PolicyFile =
  | { state: 'none' }
  | { state: 'untrusted' }
  | { state: 'malformed'; hash?: string; problems: RepoPolicyProblem[] }
  | { state: 'valid'; hash: string; policy: RepoPolicy };

export type RepoPolicyState = 'none' | 'untrusted' | 'malformed' | 'pending' | 'applied';

/** The repository policy's state, as the review and state commands report it. */
export interface RepoPolicyStatus {
  state: RepoPolicyState;
  /** sha256 of the file's bytes, hex. */
  hash?: string;
  problems?: RepoPolicyProblem[];
  /** Of the policy in force: what the repository policy changed (empty unless applied). */
  notes: string[];
  /** Of the policy in force: the user's models it removed. */
  deniedModels: string[];
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function hashOf(file: PolicyFile): string | undefined {
  return 'hash' in file ? file.hash : undefined;
}

function isFileNotFound(error: unknown): boolean {
  return error instanceof vscode.FileSystemError && error.code === 'FileNotFound';
}

/** Character offset to line and column, counting line breaks as VS Code does (LF, CRLF, CR). */
function positionAt(text: string, offset: number): vscode.Position {
  const before = text.slice(0, offset);
  const breaks = [...before.matchAll(/\r\n|\r|\n/g)];
  const last = breaks.at(-1);
  return new vscode.Position(breaks.length, last ? offset - (last.index + last[0].length) : offset);
}

function diagnosticFor(text: string, problem: RepoPolicyProblem): vscode.Diagnostic {
  const range = new vscode.Range(positionAt(text, problem.offset), positionAt(text, Math.min(text.length, problem.offset + problem.length)));
  const diagnostic = new vscode.Diagnostic(range, problem.message, vscode.DiagnosticSeverity.Error);
  diagnostic.source = 'CodeRoute';
  return diagnostic;
}

/** "The repository policy denies 1 model(s): x." → "denies 1 model(s): x" for the one-line question. */
function shortNotes(notes: string[]): string {
  const text = notes.map((n) => n.replace(/^The repository policy /, '').replace(/\.$/, '')).join('; ');
  if (!text) return 'no change to your current settings';
  return text.length > 300 ? `${text.slice(0, 297)}…` : text;
}

/**
 * Watches `.vscode/coderoute.json` of the first workspace folder (a multi-root workspace's other
 * folders are not read) and decides whether it applies: never in an untrusted workspace, never
 * when malformed (each problem is shown in the Problems view), and only once the user approved
 * this exact content, so an edit (a `git pull`) asks again before it applies.
 */
export class RepoPolicyWatcher implements vscode.Disposable {
  private file: PolicyFile = { state: 'none' };
  /** Hashes asked about in this session, so that a "Not now" is not repeated on every change. */
  private readonly asked = new Set<string>();
  private generation = 0;
  private readonly uri: vscode.Uri | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when the policy in force may have changed (file read, trust granted, approval given). */
  readonly onDidChange = this.changed.event;
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('coderoute-policy');
  private readonly disposables: vscode.Disposable[] = [this.changed, this.diagnostics];
  /** Settles when the latest read has been taken into account. */
  private reading: Promise<void> = Promise.resolve();

  constructor(
    private readonly workspaceState: vscode.Memento,
    private readonly settings: () => Settings,
    private readonly log: Logger,
  ) {
    const folder = vscode.workspace.workspaceFolders?.[0];
    this.uri = folder && vscode.Uri.joinPath(folder.uri, REPO_POLICY_PATH);
    if (folder) {
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, REPO_POLICY_PATH));
      this.disposables.push(watcher);
      watcher.onDidCreate(this.refresh, this, this.disposables);
      watcher.onDidChange(this.refresh, this, this.disposables);
      watcher.onDidDelete(this.refresh, this, this.disposables);
    }
    vscode.workspace.onDidGrantWorkspaceTrust(this.refresh, this, this.disposables);
    this.refresh();
  }

  private get approvedHash(): string | undefined {
    return this.workspaceState.get<string>(APPROVED_HASH_KEY);
  }

  /** The approved, valid repository policy, if one applies. */
  private applied(): { policy: RepoPolicy; hash: string } | undefined {
    const file = this.file;
    return file.state === 'valid' && vscode.workspace.isTrusted && file.hash === this.approvedHash ? file : undefined;
  }

  /** The user's settings merged with the repository policy when it applies; the settings alone otherwise. */
  current(settings: Settings): Policy {
    return mergePolicy(settings, this.applied());
  }

  status(): RepoPolicyStatus {
    const settings = this.settings();
    const policy = this.current(settings);
    const kept = new Set(policy.models.map((m) => m.id));
    const effect = { notes: policy.notes, deniedModels: settings.models.filter((m) => !kept.has(m.id)).map((m) => m.id) };
    const file = this.file;
    switch (file.state) {
      case 'none':
      case 'untrusted':
        return { state: file.state, ...effect };
      case 'malformed':
        return { state: 'malformed', hash: file.hash, problems: file.problems, ...effect };
      case 'valid':
        return { state: this.applied() ? 'applied' : 'pending', hash: file.hash, ...effect };
    }
  }

  /** Waits for reads already started (file events arrive on their own schedule). */
  settled(): Promise<void> {
    return this.reading;
  }

  private refresh(): void {
    const generation = ++this.generation;
    this.reading = this.reading.then(async () => {
      const file = await this.readFile();
      // A newer event started another read: its result is the one that counts.
      if (generation !== this.generation) return;
      this.update(file.file, file.text);
    }).catch((error: unknown) => this.log.error(`repository policy: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`));
  }

  private async readFile(): Promise<{ file: PolicyFile; text: string }> {
    if (!this.uri) return { file: { state: 'none' }, text: '' };
    let bytes: Uint8Array;
    try {
      if (!vscode.workspace.isTrusted) {
        // Not read at all, only noticed, so that the state can say why nothing applies.
        await vscode.workspace.fs.stat(this.uri);
        return { file: { state: 'untrusted' }, text: '' };
      }
      bytes = await vscode.workspace.fs.readFile(this.uri);
    } catch (error) {
      if (isFileNotFound(error)) return { file: { state: 'none' }, text: '' };
      this.log.warn(`repository policy: ${REPO_POLICY_PATH} could not be read (${error instanceof Error ? error.message : String(error)}); your own policy applies unchanged`);
      return { file: { state: 'malformed', problems: [{ path: [], offset: 0, length: 0, message: 'The file could not be read.' }] }, text: '' };
    }
    const text = new TextDecoder().decode(bytes);
    const hash = sha256(bytes);
    const { policy, problems } = parseRepoPolicy(text);
    return { file: policy ? { state: 'valid', hash, policy } : { state: 'malformed', hash, problems }, text };
  }

  private update(file: PolicyFile, text: string): void {
    const before = this.file;
    this.file = file;
    if (this.uri) {
      if (file.state === 'malformed') {
        this.diagnostics.set(this.uri, file.problems.map((p) => diagnosticFor(text, p)));
        this.log.warn(`repository policy: ${REPO_POLICY_PATH} has ${file.problems.length} problem(s), so it does not apply; your own policy applies unchanged`);
        for (const p of file.problems) {
          const at = positionAt(text, p.offset);
          this.log.warn(`repository policy: ${REPO_POLICY_PATH}:${at.line + 1}:${at.character + 1}: ${p.message}`);
        }
      } else {
        this.diagnostics.delete(this.uri);
      }
    }
    if (file.state === 'valid') {
      if (file.hash === this.approvedHash) this.log.info(`repository policy: ${REPO_POLICY_PATH} applies (approved content ${file.hash.slice(0, 12)})`);
      else if (!this.asked.has(file.hash)) this.ask(file.hash);
    }
    if (before.state !== file.state || hashOf(before) !== hashOf(file)) this.changed.fire();
  }

  private async approve(hash: string): Promise<void> {
    await this.workspaceState.update(APPROVED_HASH_KEY, hash);
    this.log.info(`repository policy: ${REPO_POLICY_PATH} approved (content ${hash.slice(0, 12)})`);
    this.changed.fire();
  }

  /** Asks without waiting for the answer: a notification may stay unanswered for as long as the user likes. */
  private ask(hash: string): void {
    const file = this.file;
    if (file.state !== 'valid' || file.hash !== hash || !this.uri) return;
    this.asked.add(hash);
    const { notes } = mergePolicy(this.settings(), { policy: file.policy, hash });
    const uri = this.uri;
    void vscode.window
      .showInformationMessage(
        `This repository has a CodeRoute policy (${REPO_POLICY_PATH}) that tightens routing: ${shortNotes(notes)}. Apply it?`,
        'Apply',
        'Show File',
        'Not now',
      )
      .then(async (choice) => {
        // The file may have changed while the question was open: approve only what was shown.
        const now = this.file;
        if (choice === 'Apply' && now.state === 'valid' && now.hash === hash) await this.approve(hash);
        else if (choice === 'Show File') await vscode.window.showTextDocument(uri);
      });
  }

  /**
   * CodeRoute: Review Repository Policy. Asks again about the current content; a caller (a
   * keybinding, another command) may pass `'approve'` to approve the current content without asking.
   */
  async review(action?: unknown): Promise<RepoPolicyStatus> {
    await this.settled();
    const file = this.file;
    if (file.state === 'valid' && !this.applied()) {
      if (action === 'approve') await this.approve(file.hash);
      else this.ask(file.hash);
    } else if (action !== 'approve') {
      this.explain();
    }
    return this.status();
  }

  private explain(): void {
    const { state, notes } = this.status();
    if (state === 'none') {
      void vscode.window.showInformationMessage(`This workspace has no CodeRoute repository policy (${REPO_POLICY_PATH}).`);
    } else if (state === 'untrusted') {
      void vscode.window
        .showWarningMessage('CodeRoute ignores the repository policy in Restricted Mode. Trust the workspace to review it.', 'Manage Workspace Trust')
        .then((choice) => choice && vscode.commands.executeCommand('workbench.trust.manage'));
    } else if (state === 'malformed') {
      void vscode.window
        .showErrorMessage(`The repository policy (${REPO_POLICY_PATH}) has errors and does not apply. See the Problems view.`, 'Show File')
        .then((choice) => choice && this.uri && vscode.window.showTextDocument(this.uri));
    } else if (state === 'applied') {
      void vscode.window.showInformationMessage(`The repository policy applies: ${shortNotes(notes)}.`);
    }
  }

  dispose(): void {
    vscode.Disposable.from(...this.disposables).dispose();
  }
}
