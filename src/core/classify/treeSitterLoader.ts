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

/** The time cap of the first parse with a grammar, which includes compiling the code it runs. */
export const FIRST_PARSE_CAP_MS = 400;

/**
 * Texts shorter than this are parsed without a cap. The cap guards against pathological large
 * inputs; a parse of a few thousand characters takes a millisecond or two, and when it takes
 * longer the machine is starved, so stopping it would only trade a correct tree for a worse,
 * text-only answer.
 */
export const UNCAPPED_PARSE_CHARS = 8_000;

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
  private readonly loadedLanguages = new Map<string, Language>();
  /** Emscripten keeps its memory views on the options object it was started with. */
  private readonly moduleOptions: { locateFile: (name: string) => string; HEAP8?: Int8Array } = {
    locateFile: (name: string) => path.join(this.assetRoot, name),
  };
  private readonly parsers = new Map<string, Parser>();
  /** Grammars that have parsed once (their code is compiled); the others get FIRST_PARSE_CAP_MS. */
  private readonly warmed = new Set<string>();

  constructor(
    private readonly assetRoot: string,
    private readonly logger: Logger,
    private readonly now: () => number = () => performance.now(),
  ) {}

  supports(languageId: string): boolean {
    return grammarFileFor(languageId) !== undefined;
  }

  /**
   * Parses `text`, reusing `oldTree` (already edited to match) when given; undefined when the
   * language has no grammar, loading failed, or the time cap was hit. The caller owns the tree.
   */
  async parse(
    languageId: string,
    text: string,
    options: { timeCapMs?: number; oldTree?: Tree } = {},
  ): Promise<ParseOutcome | undefined> {
    const file = grammarFileFor(languageId);
    const language = await this.language(languageId);
    if (!language || !file) return undefined;
    let parser = this.parsers.get(file);
    if (!parser) {
      parser = new Parser();
      parser.setLanguage(language);
      this.parsers.set(file, parser);
    }
    // A grammar's first parse also pays for compiling the parts of its WebAssembly it runs, which
    // on a busy machine can take longer than a whole later parse; it gets a longer cap, once.
    const requestedCapMs = options.timeCapMs ?? 200;
    const timeCapMs = this.warmed.has(file) ? requestedCapMs : Math.max(requestedCapMs, FIRST_PARSE_CAP_MS);
    this.warmed.add(file);
    const started = this.now();
    const deadline = started + timeCapMs;
    // The callback's `true` return cancels the parse (the published typings say void).
    const progressCallback = (() => this.now() > deadline) as unknown as () => void;
    const capped = text.length >= UNCAPPED_PARSE_CHARS;
    const tree = parser.parse(text, options.oldTree ?? null, capped ? { progressCallback } : undefined);
    const parseMs = this.now() - started;
    if (!tree) {
      // A cancelled parse leaves the parser mid-document; start the next one clean.
      parser.reset();
      this.logger.warn(`tree-sitter: parse of ${languageId} (${text.length} chars) stopped at the ${timeCapMs} ms cap`);
      return undefined;
    }
    return { tree, parseMs };
  }

  /**
   * Parses a few lines at once, with the language's shared parser: for questions about a line on
   * its own ("does this parse as a function signature?"). Undefined until the grammar is loaded.
   */
  parseSnippet(languageId: string, text: string): Tree | undefined {
    const file = grammarFileFor(languageId);
    const parser = file ? this.parsers.get(file) : undefined;
    if (!parser || text.length > 2000) return undefined;
    return parser.parse(text) ?? undefined;
  }

  /** Bytes of WebAssembly memory tree-sitter holds (trees, parsers, grammars); 0 before it starts. */
  wasmMemoryBytes(): number {
    return this.moduleOptions.HEAP8?.buffer.byteLength ?? 0;
  }

  /** A parser of its own for a long-running job (its caller deletes it); undefined until the grammar is loaded. */
  newParser(languageId: string): Parser | undefined {
    const file = grammarFileFor(languageId);
    const language = file ? this.loadedLanguages.get(file) : undefined;
    if (!language) return undefined;
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  }

  /** Frees the parsers (trees belong to their callers). */
  dispose(): void {
    this.parsers.forEach((parser) => parser.delete());
    this.parsers.clear();
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
      this.runtime ??= Parser.init(this.moduleOptions);
      await this.runtime;
      const language = await Language.load(path.join(this.assetRoot, file));
      this.loadedLanguages.set(file, language);
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
