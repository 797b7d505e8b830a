import * as vscode from 'vscode';
import { Learner, type LearningState } from '../../core/learn/learner';
import { LEARNING_FILE, readLearningFile, writeFileAtomically, writeFileAtomicallySync } from '../../core/learn/stateFile';
import type { SettingsReader } from '../settings/settingsReader';

/** Changes are saved at most this long after they happen, so that a burst of signals is one write. */
export const SAVE_DELAY_MS = 1000;

/**
 * The extension's Learner and where it is kept: `learning.json` in the workspace's storage, or in
 * global storage when `coderoute.learning.shareAcrossWorkspaces` is on or no folder is open. Loads
 * the state on first use, saves it (atomically) a second after changes and when disposed, and
 * sets a file it cannot read aside, telling the user, rather than overwriting it. Storage that is
 * not on the local disk (a virtual host) keeps learning in memory for the session.
 */
export class LearningStore implements vscode.Disposable {
  readonly learner: Learner;
  private file: string | undefined;
  private loading: Promise<void> | undefined;
  /** Set while a state is being loaded: that is not a change to save. */
  private quiet = false;
  private dirty = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private refresh: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly stopListening: () => void;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extension: Pick<vscode.ExtensionContext, 'storageUri' | 'globalStorageUri'>,
    private readonly settings: SettingsReader,
    private readonly log: vscode.LogOutputChannel,
    /** A model's price-list cost of a typical request, when known (the learner's expectation of a model it barely knows leans on it). */
    listCost?: (modelId: string) => number | undefined,
  ) {
    this.learner = new Learner({ listCost });
    this.stopListening = this.learner.onDidChange(() => this.changed());
    vscode.workspace.onDidChangeConfiguration(
      (event) => {
        if (event.affectsConfiguration('coderoute.learning.shareAcrossWorkspaces') && this.loading) void this.switchLocation();
      },
      this,
      this.disposables,
    );
  }

  /** The learner, with the saved state loaded (an unreadable one has been set aside). Never rejects. */
  async ready(): Promise<Learner> {
    this.loading ??= this.load(this.location());
    await this.loading;
    return this.learner;
  }

  /** Where the state is saved, once loaded; undefined when it is kept in memory only. */
  get path(): string | undefined {
    return this.file;
  }

  /** Writes pending changes now (after a reset, before a switch); resolves when they are on disk. */
  save(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.writing = this.writing.then(async () => {
      const file = this.file;
      if (!this.dirty || !file) return;
      this.dirty = false;
      try {
        await writeFileAtomically(file, this.serialized());
        this.log.debug(`learning: saved ${file}`);
      } catch (error) {
        this.dirty = true;
        this.log.warn(`learning: could not save ${file}: ${messageOf(error)}`);
      }
    });
    return this.writing;
  }

  private location(): string | undefined {
    const shared = this.settings.current.settings.learning.shareAcrossWorkspaces;
    const folder = shared || !this.extension.storageUri ? this.extension.globalStorageUri : this.extension.storageUri;
    if (folder.scheme !== 'file') return undefined;
    return vscode.Uri.joinPath(folder, LEARNING_FILE).fsPath;
  }

  private async load(file: string | undefined): Promise<void> {
    this.file = file;
    if (!file) {
      this.log.info('learning: extension storage is not on the local disk; what is learned is kept for this session only');
      return;
    }
    try {
      const read = await readLearningFile(file, { load: (data) => this.quietly(() => this.learner.load(data)) });
      if (read.kind === 'state') {
        this.log.info(`learning: loaded ${file} (${this.learner.rememberedRequests} recent decisions)`);
      } else if (read.kind === 'empty') {
        this.log.info(`learning: no saved state yet at ${file}; starting from the tier priors`);
      } else {
        this.log.warn(`learning: ${file} could not be read (${read.reason}); set aside as ${read.movedTo}`);
        this.showSetAside(read.movedTo);
      }
    } catch (error) {
      // Unreadable for another reason (permissions, a folder in its place): learn in memory, keep the file as it is.
      this.log.error(`learning: could not read ${file}: ${messageOf(error)}; learning is kept in memory for this session`);
      this.file = undefined;
    }
  }

  /** The setting changed: finish writing where the state was, then load the state of the new place. */
  private async switchLocation(): Promise<void> {
    const next = this.location();
    await this.loading;
    if (next === this.file) return;
    await this.save();
    this.quietly(() => this.learner.reset());
    this.dirty = false;
    this.log.info(`learning: coderoute.learning.shareAcrossWorkspaces changed; switching to ${next ?? 'memory'}`);
    this.loading = this.load(next);
    await this.loading;
  }

  private showSetAside(movedTo: string): void {
    void vscode.window
      .showWarningMessage('CodeRoute could not read its learning state, so it set the file aside and starts learning afresh.', 'Open Set-Aside File')
      .then((choice) => {
        if (choice) void vscode.commands.executeCommand('vscode.open', vscode.Uri.file(movedTo));
      });
  }

  private changed(): void {
    // The learner's fit is brought up to date right after a signal, not in the next decision
    // (the next keystroke's completion, for one).
    this.refresh ??= setTimeout(() => {
      this.refresh = undefined;
      this.learner.refresh();
    }, 0);
    if (this.quiet) return;
    this.dirty = true;
    this.timer ??= setTimeout(() => void this.save(), SAVE_DELAY_MS);
  }

  private quietly(change: () => void): void {
    this.quiet = true;
    try {
      change();
    } finally {
      this.quiet = false;
    }
  }

  private serialized(): string {
    const state: LearningState = this.learner.toJSON();
    return `${JSON.stringify(state)}\n`;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.refresh) clearTimeout(this.refresh);
    this.refresh = undefined;
    this.stopListening();
    vscode.Disposable.from(...this.disposables).dispose();
    // The host does not wait for an asynchronous write while it shuts down.
    if (this.dirty && this.file) {
      try {
        writeFileAtomicallySync(this.file, this.serialized());
        this.dirty = false;
      } catch (error) {
        this.log.warn(`learning: could not save ${this.file}: ${messageOf(error)}`);
      }
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
