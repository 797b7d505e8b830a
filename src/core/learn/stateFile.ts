import { randomBytes } from 'node:crypto';
import { closeSync, constants, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Learner, LearningStateError } from './learner';

export const LEARNING_FILE = 'learning.json';

/** What was found where a learning state is kept. */
export type LearningFileRead =
  | { kind: 'empty' }
  | { kind: 'state'; data: unknown }
  /** The file could not be used; it was moved to `movedTo` (never deleted) for the user to inspect. */
  | { kind: 'corrupt'; reason: string; movedTo: string };

/**
 * Replaces `file` with `text` so that a crash at any moment leaves either the old or the new
 * content, never a mix: the text goes to a temporary file in the same folder (same file system,
 * so the rename is atomic), is flushed to disk, and is renamed over the target.
 */
export async function writeFileAtomically(file: string, text: string): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
  const temp = tempNameFor(file);
  const handle = await fs.open(temp, 'wx');
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } catch (error) {
    await handle.close();
    await fs.rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
  await syncFolder(dir);
}

/**
 * The same, synchronously: for the last save when the extension host shuts down, which does not
 * wait for promises started while it disposes.
 */
export function writeFileAtomicallySync(file: string, text: string): void {
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true });
  const temp = tempNameFor(file);
  try {
    const fd = openSync(temp, 'wx');
    try {
      writeFileSync(fd, text, 'utf8');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Best effort, as in syncFolder.
  }
}

/** A name no other writer uses, next to the target: `learning.json.<pid>-<random>.tmp`. */
function tempNameFor(file: string): string {
  return `${file}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
}

/** Makes the rename itself durable; some platforms (Windows) cannot open a folder for that. */
async function syncFolder(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Best effort: the content is on disk; only the rename may be replayed by the file system.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

export interface ReadLearningOptions {
  /**
   * Takes the parsed JSON: the learner's own `load`, which throws LearningStateError on a state it
   * cannot use. By default the state is only checked.
   */
  load?: (data: unknown) => void;
  /** The time in the name of a corrupt file set aside. */
  now?: () => Date;
}

/**
 * Reads a learning state and hands it to `options.load`. A file that is not JSON, or not a state
 * `load` accepts, is moved aside to `learning.corrupt-<time>.json` next to it rather than deleted
 * or overwritten by the next save, so that nothing a user had learned is destroyed without their
 * knowing. Temporary files of an interrupted write are never read.
 */
export async function readLearningFile(file: string, options: ReadLearningOptions = {}): Promise<LearningFileRead> {
  const load = options.load ?? ((data: unknown) => new Learner().load(data));
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'empty' };
    throw error;
  }
  let reason: string;
  try {
    const data: unknown = JSON.parse(text);
    load(data);
    return { kind: 'state', data };
  } catch (error) {
    if (error instanceof SyntaxError) reason = `not valid JSON (${error.message})`;
    else if (error instanceof LearningStateError) reason = error.message;
    else throw error;
  }
  return { kind: 'corrupt', reason, movedTo: await moveAside(file, options.now?.() ?? new Date()) };
}

/** The name a corrupt state is kept under: `learning.corrupt-2024-05-01T10-20-30.123Z.json`. */
export function corruptFileName(file: string, at: Date, attempt = 0): string {
  const { dir, name, ext } = path.parse(file);
  const stamp = at.toISOString().replace(/:/g, '-');
  return path.join(dir, `${name}.corrupt-${stamp}${attempt > 0 ? `-${attempt}` : ''}${ext || '.json'}`);
}

/** Moves `file` to a corrupt-file name that does not exist yet; never replaces another file. */
async function moveAside(file: string, at: Date): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const target = corruptFileName(file, at, attempt);
    try {
      await placeWithoutOverwriting(file, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 100) continue;
      throw error;
    }
    await fs.rm(file, { force: true });
    return target;
  }
}

/** A hard link fails when the target exists (a rename would replace it); a copy is the fallback where links are not supported. */
async function placeWithoutOverwriting(file: string, target: string): Promise<void> {
  try {
    await fs.link(file, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw error;
    await fs.copyFile(file, target, constants.COPYFILE_EXCL);
  }
}
