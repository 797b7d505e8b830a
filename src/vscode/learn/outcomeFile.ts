import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type * as vscode from 'vscode';
import type { OutcomeSink } from '../../core/learn/outcomes';

export const OUTCOMES_FILE = 'outcomes.jsonl';
/** The previous generation, once the file passed its size limit. */
export const OLD_OUTCOMES_FILE = 'outcomes.1.jsonl';
/** Inline completions leave an outcome at every suggestion shown: the file is kept to this size, plus one older generation. */
const MAX_BYTES = 4 * 1024 * 1024;

/**
 * Appends outcomes as JSON lines to `outcomes.jsonl` in the extension's global storage. Past
 * `maxBytes` the file becomes `outcomes.1.jsonl` (replacing the one before) and a new one starts.
 */
export class OutcomeFile implements OutcomeSink {
  readonly path: string;
  /** What this window believes the file's size is; checked against the disk before rotating (other windows append too). */
  private size: number | undefined;

  constructor(
    private readonly directory: string,
    private readonly maxBytes = MAX_BYTES,
  ) {
    this.path = path.join(directory, OUTCOMES_FILE);
  }

  /** Undefined when global storage is not on the local disk (a virtual host), where outcomes stay in memory. */
  static in(globalStorage: vscode.Uri): OutcomeFile | undefined {
    return globalStorage.scheme === 'file' ? new OutcomeFile(globalStorage.fsPath) : undefined;
  }

  async append(line: string): Promise<void> {
    // VS Code does not create the global storage folder until an extension asks for it.
    await fs.mkdir(this.directory, { recursive: true });
    this.size ??= await this.sizeOnDisk();
    if (this.size > this.maxBytes) {
      this.size = await this.sizeOnDisk();
      if (this.size > this.maxBytes) {
        await fs.rename(this.path, path.join(this.directory, OLD_OUTCOMES_FILE)).catch(() => undefined);
        this.size = 0;
      }
    }
    const text = `${line}\n`;
    await fs.appendFile(this.path, text, 'utf8');
    this.size += Buffer.byteLength(text);
  }

  private sizeOnDisk(): Promise<number> {
    return fs.stat(this.path).then(
      (stat) => stat.size,
      () => 0,
    );
  }
}
