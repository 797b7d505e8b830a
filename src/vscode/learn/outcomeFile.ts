import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type * as vscode from 'vscode';
import type { OutcomeSink } from '../../core/learn/outcomes';

export const OUTCOMES_FILE = 'outcomes.jsonl';

/** Appends outcomes as JSON lines to `outcomes.jsonl` in the extension's global storage. */
export class OutcomeFile implements OutcomeSink {
  readonly path: string;

  private constructor(private readonly directory: string) {
    this.path = path.join(directory, OUTCOMES_FILE);
  }

  /** Undefined when global storage is not on the local disk (a virtual host), where outcomes stay in memory. */
  static in(globalStorage: vscode.Uri): OutcomeFile | undefined {
    return globalStorage.scheme === 'file' ? new OutcomeFile(globalStorage.fsPath) : undefined;
  }

  async append(line: string): Promise<void> {
    // VS Code does not create the global storage folder until an extension asks for it.
    await fs.mkdir(this.directory, { recursive: true });
    await fs.appendFile(this.path, `${line}\n`, 'utf8');
  }
}
