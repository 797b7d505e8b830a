import * as path from 'node:path';
import { Language, Parser, type Tree } from 'web-tree-sitter';
import type { Logger } from '../log/logger';
import grammars from './grammars.json';

/**
 * VS Code language ids → grammar files shipped by @vscode/tree-sitter-wasm. The build script
 * reads the same JSON to copy exactly these files. C uses the C++ grammar, which parses it well
 * enough to locate functions and errors.
 */
const GRAMMAR_FILES: Readonly<Record<string, string>> = grammars;

/** The `.wasm` files the build copies next to the bundle: the runtime and every grammar. */
export const TREE_SITTER_RUNTIME_FILE = 'tree-sitter.wasm';
export const GRAMMAR_FILE_NAMES: readonly string[] = [...new Set(Object.values(GRAMMAR_FILES))];

export function grammarFileFor(languageId: string): string | undefined {
  return Object.hasOwn(GRAMMAR_FILES, languageId) ? GRAMMAR_FILES[languageId] : undefined;
}

export interface ParseOutcome {
  tree: Tree;
  parseMs: number;
}

/**
 * Loads web-tree-sitter and grammars lazily from `assetRoot` (the extension's own folder of
 * `.wasm` files) and parses with a hard time cap. Nothing is loaded until the first parse of a
 * language that has a grammar.
 */
export class TreeSitterLoader {
  private runtime: Promise<void> | undefined;
  private readonly languages = new Map<string, Promise<Language | undefined>>();

  constructor(
    private readonly assetRoot: string,
    private readonly logger: Logger,
    private readonly now: () => number = () => performance.now(),
  ) {}

  supports(languageId: string): boolean {
    return grammarFileFor(languageId) !== undefined;
  }

  /** Parses `text`; undefined when the language has no grammar, loading failed, or the cap was hit. */
  async parse(languageId: string, text: string, timeCapMs = 200): Promise<ParseOutcome | undefined> {
    const language = await this.language(languageId);
    if (!language) return undefined;
    const parser = new Parser();
    try {
      parser.setLanguage(language);
      const started = this.now();
      const deadline = started + timeCapMs;
      // The callback's `true` return cancels the parse (the published typings say void).
      const progressCallback = (() => this.now() > deadline) as unknown as () => void;
      const tree = parser.parse(text, null, { progressCallback });
      const parseMs = this.now() - started;
      if (!tree) {
        this.logger.warn(`tree-sitter: parse of ${languageId} stopped at the ${timeCapMs} ms cap`);
        return undefined;
      }
      return { tree, parseMs };
    } finally {
      parser.delete();
    }
  }

  private language(languageId: string): Promise<Language | undefined> {
    const file = grammarFileFor(languageId);
    if (!file) return Promise.resolve(undefined);
    let pending = this.languages.get(file);
    if (!pending) {
      pending = this.loadLanguage(file);
      this.languages.set(file, pending);
    }
    return pending;
  }

  private async loadLanguage(file: string): Promise<Language | undefined> {
    try {
      this.runtime ??= Parser.init({
        locateFile: (name: string) => path.join(this.assetRoot, name),
      });
      await this.runtime;
      const language = await Language.load(path.join(this.assetRoot, file));
      this.logger.debug(`tree-sitter: loaded ${file}`);
      return language;
    } catch (error) {
      // A broken or missing grammar degrades to text-only handling; it is not the user's error.
      this.logger.error(`tree-sitter: could not load ${file}: ${error instanceof Error ? error.message : String(error)}`);
      this.runtime = undefined;
      this.languages.delete(file);
      return undefined;
    }
  }
}
