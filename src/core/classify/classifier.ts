import type { Parser, Tree } from 'web-tree-sitter';
import type { RequestContext } from '../context/requestContext';
import { lineAtOffset } from '../context/textOffsets';
import type { Logger } from '../log/logger';
import { readFileDirectives, type FileDirectives } from '../policy/fileDirectives';
import type { Classification, ClassifyMode, Features, ParseKind, UnitInfo } from './classification';
import { DIRECTIVE_CONTEXT_LINES, directivesInTree, leadingLines } from './commentDirectives';
import { decide, difficultyOf } from './decide';
import { findEnclosingUnit } from './enclosingUnit';
import { GUARDS, inspectInput, type InputVerdict } from './inputGuards';
import {
  countIdentifiers,
  countTokens,
  emptyBlockByText,
  inBlockComment,
  indentWidth,
  isBlank,
  isCommentLine,
  scanLine,
  spacingIrregularity,
  unbalancedBrackets,
} from './textFeatures';
import { analyseTree, countBranches, formatIrregularity, nodeAt, outermostFunction, type Span } from './treeFeatures';
import type { TreeSitterLoader } from './treeSitterLoader';
import { cutWindow, lineStartsOf, lineText, rowAt, windowOffset, type TextWindow, type WindowSize } from './textWindow';
import { isCommentKind } from './nodeKinds';
import { endsLikeSignature, lineContext, opensFunctionBody, parenBalance, parsesAsSignature, placeholderBodyAt } from './unfinishedCode';

interface CachedTree {
  languageId: string;
  startLine: number;
  text: string;
  lineStarts: number[];
  tree: Tree;
  /** The tree covers the whole text the adapter sent, not a window of it. */
  whole: boolean;
}

/** A whole-document parse that runs in slices between requests, so no slice blocks for long. */
interface BuildJob {
  key: string;
  languageId: string;
  startLine: number;
  text: string;
  lineStarts: number[];
  parser: Parser;
  /** The previous whole tree, edited to match `text`, that the parse reuses. */
  oldTree?: Tree;
  /** Text that arrived while this job ran: parsed next, from this job's result. */
  pending?: { text: string; lineStarts: number[] };
}

/** Tells `tree` about the one edit that turned `before` into `after`, so a reparse can reuse it. */
function editTree(tree: Tree, before: { text: string; lineStarts: number[] }, after: { text: string; lineStarts: number[] }): void {
  const edit = diff(before.text, after.text);
  tree.edit({
    startIndex: edit.start,
    oldEndIndex: edit.oldEnd,
    newEndIndex: edit.newEnd,
    startPosition: pointAt(before.lineStarts, edit.start),
    oldEndPosition: pointAt(before.lineStarts, edit.oldEnd),
    newEndPosition: pointAt(after.lineStarts, edit.newEnd),
  });
}

/** Lines either side of the cursor in which a syntax error is taken to be the user's concern. */
const ERROR_CONTEXT_LINES = 25;

/** Documents whose last tree is kept for incremental reparsing. */
const CACHED_DOCUMENTS = 8;
/** Of those, how many may hold a whole-document tree of a large file (they cost memory). */
const WHOLE_TREES = 2;
/** Up to this size a document's whole tree is kept current on every edit; beyond it, in the background. */
const SYNC_WHOLE_CHARS = 400_000;
/** The window of an inline completion: the unit around the cursor in most code, a few milliseconds to parse. */
const INLINE_WINDOW: WindowSize = { linesBefore: 80, linesAfter: 30, maxChars: 10_000 };
/** Longest slice of a background whole-document parse. */
const BUILD_SLICE_MS = 8;
const CHUNK = 4096;

/**
 * The single edit that turns `before` into `after`: common prefix and suffix, the rest replaced.
 * Compares 4 KB slices first (string equality is a fast memory compare), then characters.
 */
export function diff(before: string, after: string): { start: number; oldEnd: number; newEnd: number } {
  const max = Math.min(before.length, after.length);
  let start = 0;
  while (start + CHUNK <= max && before.substring(start, start + CHUNK) === after.substring(start, start + CHUNK)) start += CHUNK;
  while (start < max && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  let tail = 0;
  const room = max - start;
  while (tail + CHUNK <= room && before.substring(before.length - tail - CHUNK, before.length - tail) === after.substring(after.length - tail - CHUNK, after.length - tail)) tail += CHUNK;
  while (tail < room && before.charCodeAt(before.length - 1 - tail) === after.charCodeAt(after.length - 1 - tail)) tail++;
  return { start, oldEnd: before.length - tail, newEnd: after.length - tail };
}

function pointAt(lineStarts: number[], index: number): { row: number; column: number } {
  const row = lineAtOffset(lineStarts, index);
  return { row, column: index - lineStarts[row] };
}

/** Characters either side of the cursor examined on the cursor's line. */
const LINE_CONTEXT_CHARS = 400;

/** Lines above a signature's first parenthesis that may still belong to it (template, attributes, return type). */
const SIGNATURE_LINES_ABOVE = 4;

/** Units larger than this are measured on this much text around the cursor, then scaled. */
const UNIT_SAMPLE_CHARS = 8000;
const BRANCH_WORDS = /\b(if|elif|else|for|foreach|while|do|switch|case|catch|except|match|when|unless|until|rescue)\b|\?[^?.:]/g;

/**
 * Tokens, distinct identifiers and branches of a unit. Exact (branches from the tree) for units of
 * ordinary size; for a huge one (a 5,000-line class) estimated from the text around the cursor, so
 * that a request never costs time in proportion to the file.
 */
function measureUnit(tree: Tree, window: TextWindow, span: Span, kind: string | undefined, cursor: number) {
  const length = span.end - span.start;
  if (length <= UNIT_SAMPLE_CHARS) {
    const text = window.text.slice(span.start, span.end);
    const node = kind ? nodeAt(tree, span, kind) : undefined;
    return {
      tokens: countTokens(text),
      identifiers: countIdentifiers(text),
      branches: node ? countBranches(node) : (text.match(BRANCH_WORDS)?.length ?? 0),
    };
  }
  const from = Math.min(Math.max(span.start, cursor - UNIT_SAMPLE_CHARS / 2), span.end - UNIT_SAMPLE_CHARS);
  const sample = window.text.slice(from, from + UNIT_SAMPLE_CHARS);
  const scale = length / UNIT_SAMPLE_CHARS;
  return {
    tokens: Math.round(countTokens(sample) * scale),
    identifiers: countIdentifiers(sample),
    branches: Math.round((sample.match(BRANCH_WORDS)?.length ?? 0) * scale),
  };
}

const PHP_TAG = '<?php\n';

/**
 * A PHP window cut from the middle of a file has no `<?php` tag, and the grammar reads what has
 * none as HTML text. The tag goes in as a line of its own in place of the line above the window
 * (which is not analysed), so that every offset and line number of the window stays right.
 */
function inPhpMode(languageId: string, window: TextWindow): TextWindow {
  if (languageId !== 'php' || window.atStart || window.startLine === 0 || window.text.trimStart().startsWith('<?')) return window;
  return {
    text: PHP_TAG + window.text,
    startLine: window.startLine - 1,
    atStart: false,
    atEnd: window.atEnd,
    lineStarts: [0, ...window.lineStarts.map((offset) => offset + PHP_TAG.length)],
  };
}

function textOnlyIndentIrregularity(lines: string[]): number {
  const considered = lines.filter((l) => !isBlank(l));
  if (considered.length < 2) return 0;
  let odd = 0;
  for (let i = 1; i < considered.length; i++) {
    const prev = considered[i - 1];
    const grew = indentWidth(considered[i]) > indentWidth(prev);
    if (grew && !/[[{(,:=+\-*/&|\\>]\s*$/.test(prev.trimEnd()) && !/\b(do|then|else)\s*$/.test(prev)) odd++;
  }
  return odd / considered.length;
}

/**
 * Classifies a request from its syntax tree: which task, how hard, how sure, and why. Work is
 * bounded by the request: only a window of lines around the cursor is parsed, with a time cap,
 * and the last tree of each document is reused (edited incrementally) while the user types.
 */
export interface ClassifierOptions {
  /**
   * Parse large documents whole in the background, in short slices between requests, so that
   * later requests anywhere in them reuse one tree. Off for one-shot callers such as the CLI.
   */
  backgroundParse?: boolean;
  /** A parse that takes longer is abandoned for the text-only path; default GUARDS.parseTimeCapMs. */
  parseTimeCapMs?: number;
  now?: () => number;
}

export class Classifier {
  /** Per document: the tree of its last window (or of the whole text, when small). */
  private readonly cache = new Map<string, CachedTree>();
  /** The classification in progress, if any: the next one starts after it (see `classify`). */
  private queue: Promise<unknown> = Promise.resolve();
  /** Per large document: a whole-document tree built in the background, for its exact text. */
  private readonly wholeTrees = new Map<string, CachedTree>();
  private lineStartsFor: { text: string; starts: number[] } | undefined;
  private verdictFor: { text: string; header: string; verdict: InputVerdict } | undefined;
  /** Per document: the directives last read, from its header (and the lines after it, when they were needed). */
  private readonly directivesFor = new Map<string, { header: string; context?: string; directives: FileDirectives }>();
  private job: BuildJob | undefined;
  private jobTimer: ReturnType<typeof setImmediate> | undefined;
  private readonly now: () => number;
  private readonly backgroundParse: boolean;
  private readonly parseTimeCapMs: number;

  constructor(
    private readonly parser: TreeSitterLoader,
    private readonly logger: Logger,
    options: ClassifierOptions = {},
  ) {
    this.now = options.now ?? (() => performance.now());
    this.backgroundParse = options.backgroundParse ?? true;
    this.parseTimeCapMs = options.parseTimeCapMs ?? GUARDS.parseTimeCapMs;
  }

  /** The window to analyse: the whole text when a tree of it is kept, else lines around the request. */
  private windowFor(ctx: RequestContext, firstLine: number, lastLine: number, mode: ClassifyMode): TextWindow {
    const lineStarts = this.lineStarts(ctx.text);
    // An inline completion needs the code around the cursor, and needs it within milliseconds at
    // every pause in typing: a small window, never the whole document (whose incremental reparse
    // runs to tens of milliseconds in a large file left broken by a half-typed line).
    if (mode === 'inline') return inPhpMode(ctx.languageId, cutWindow(ctx.text, ctx.textStartLine, firstLine, lastLine, lineStarts, INLINE_WINDOW));
    const whole = this.wholeTrees.get(this.keyOf(ctx));
    // A whole tree serves while it matches the text. After an edit, a moderately large document's
    // tree is updated on the spot (an incremental parse costs about a millisecond there); in a very
    // large one the window (cheap to reparse) serves and the whole tree catches up in the background.
    const current = whole?.text === ctx.text || ctx.text.length <= SYNC_WHOLE_CHARS;
    if (whole && whole.startLine === ctx.textStartLine && current) {
      return { text: ctx.text, startLine: ctx.textStartLine, atStart: ctx.textStartLine === 0, atEnd: true, lineStarts };
    }
    return inPhpMode(ctx.languageId, cutWindow(ctx.text, ctx.textStartLine, firstLine, lastLine, lineStarts));
  }

  private keyOf(ctx: RequestContext): string {
    return `${ctx.languageId}\u0000${ctx.path}`;
  }

  /**
   * Classifies one request. Calls run one at a time: a tree handed to one call must not be edited
   * or freed by another (inline completions ask again at every pause, and a superseded request's
   * classification may still be running); the parsing is single-threaded anyway.
   */
  classify(ctx: RequestContext, mode: ClassifyMode): Promise<Classification> {
    return this.queued(() => this.classifyNow(ctx, mode));
  }

  /**
   * Brings the tree a `classify(ctx, mode)` would use up to date, and stops there: called while
   * nobody waits (after a keystroke, after the cursor moves) so that the classification a request
   * then needs reuses the tree. Queued with the classifications.
   */
  prepare(ctx: RequestContext, mode: ClassifyMode): Promise<void> {
    return this.queued(async () => {
      const { window, textOnlyWhy } = this.windowOf(ctx, mode);
      if (!textOnlyWhy) await this.treeFor(ctx, window);
    });
  }

  private queued<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The window a request's classification reads, its input checks, and why it is not parsed (undefined: it is). */
  private windowOf(ctx: RequestContext, mode: ClassifyMode): { window: TextWindow; verdict: InputVerdict; textOnlyWhy?: string } {
    const { selection } = ctx;
    const window = this.windowFor(ctx, Math.min(selection.start.line, selection.end.line), Math.max(selection.start.line, selection.end.line), mode);
    const verdict = this.inspect(window.text, ctx.headerText);
    if (!this.parser.supports(ctx.languageId)) return { window, verdict, textOnlyWhy: `no grammar for ${ctx.languageId}` };
    if (verdict.binary) return { window, verdict, textOnlyWhy: 'binary content' };
    if (verdict.minified) return { window, verdict, textOnlyWhy: `a line over ${GUARDS.minifiedLineChars} characters (minified)` };
    return { window, verdict };
  }

  private async classifyNow(ctx: RequestContext, mode: ClassifyMode): Promise<Classification> {
    const started = this.now();
    const { selection } = ctx;
    const hasSelection = selection.start.line !== selection.end.line || selection.start.character !== selection.end.character;
    const { window, verdict, textOnlyWhy: unparsed } = this.windowOf(ctx, mode);
    const cursor = windowOffset(window, selection.active.line, selection.active.character);
    const selSpan: Span = {
      start: windowOffset(window, selection.start.line, selection.start.character),
      end: windowOffset(window, selection.end.line, selection.end.character),
    };

    let parseMs = 0;
    let parse: ParseKind = 'none';
    let textOnlyWhy = unparsed;
    let tree: Tree | undefined;
    if (!textOnlyWhy) {
      const parsed = await this.treeFor(ctx, window);
      parseMs = parsed.parseMs;
      parse = parsed.kind;
      tree = parsed.tree;
      if (!tree) textOnlyWhy = parsed.why;
      else if (this.backgroundParse && mode !== 'inline' && window.text.length < ctx.text.length) this.startBuild(ctx);
    }
    if (textOnlyWhy) this.logger.trace(`classify: text-only for ${ctx.path}: ${textOnlyWhy}`);

    const features = tree
      ? this.treeFeatures(ctx, window, tree, cursor, selSpan, hasSelection, verdict)
      : this.textFeatures(ctx, window, cursor, selSpan, hasSelection, verdict);
    const decision = decide(mode, features, hasSelection);
    const where = features.unit && features.unit.kind !== 'lines' ? ` in ${features.unit.kind.replace(/_/g, ' ')}${features.unit.name ? ` ${features.unit.name}` : ''}` : '';
    const how = textOnlyWhy ? `text-only (${textOnlyWhy})` : `tree-sitter ${ctx.languageId}`;
    const confidence = textOnlyWhy && mode !== 'inline' && decision.confidence < 1 ? decision.confidence * 0.8 : decision.confidence;
    return {
      task: decision.task,
      difficulty: difficultyOf(decision.task, features),
      confidence: Math.round(confidence * 100) / 100,
      language: ctx.languageId,
      textOnly: textOnlyWhy !== undefined,
      reason: `${decision.task}: ${decision.why}${where}; ${how}`,
      features,
      timings: { parseMs: Math.round(parseMs * 1000) / 1000, classifyMs: Math.round((this.now() - started) * 1000) / 1000, parse },
    };
  }

  /**
   * The file's privacy directives (`coderoute: no-ai`, `coderoute: local-only`), read from the
   * comments in its header (`ctx.headerText`, the first DIRECTIVE_HEADER_LINES lines), which is
   * parsed on its own: a few lines, whatever the size of the file. A directive in a string literal
   * does not count. When the header's tree is unfinished (a comment or function runs on past it),
   * the first DIRECTIVE_CONTEXT_LINES lines are parsed instead; when that cannot settle it either,
   * or there is no tree (no grammar for the language, binary or minified text, a parse over the
   * time cap), the whole header text is read, which can only find more. Kept per document until
   * the text it was read from changes.
   */
  async directives(ctx: RequestContext): Promise<FileDirectives> {
    const key = this.keyOf(ctx);
    const context = ctx.textStartLine === 0 ? leadingLines(ctx.text, DIRECTIVE_CONTEXT_LINES, GUARDS.maxWindowChars) : undefined;
    const known = this.directivesFor.get(key);
    if (known?.header === ctx.headerText && (known.context === undefined || known.context === context)) return known.directives;
    const read = await this.readDirectives(ctx, context);
    this.directivesFor.delete(key);
    this.directivesFor.set(key, { header: ctx.headerText, context: read.usedContext ? context : undefined, directives: read.directives });
    for (const k of [...this.directivesFor.keys()].slice(0, Math.max(0, this.directivesFor.size - CACHED_DOCUMENTS))) {
      this.directivesFor.delete(k);
    }
    return read.directives;
  }

  private async readDirectives(ctx: RequestContext, context: string | undefined): Promise<{ directives: FileDirectives; usedContext: boolean }> {
    const header = ctx.headerText;
    const verdict = inspectInput(header, header);
    if (!this.parser.supports(ctx.languageId) || verdict.binary || verdict.minified) {
      return { directives: readFileDirectives(header), usedContext: false };
    }
    const fromHeader = await this.directivesInParse(ctx.languageId, header);
    if (fromHeader) return { directives: fromHeader, usedContext: false };
    const longer = context !== undefined && context.length > header.length;
    const fromContext = longer ? await this.directivesInParse(ctx.languageId, context) : undefined;
    if (fromContext) return { directives: fromContext, usedContext: true };
    this.logger.trace(`directives: the header of ${ctx.path} read as text (no settled tree)`);
    return { directives: readFileDirectives(header), usedContext: longer };
  }

  private async directivesInParse(languageId: string, text: string): Promise<FileDirectives | undefined> {
    const parsed = await this.parser.parse(languageId, text, { timeCapMs: this.parseTimeCapMs });
    if (!parsed) return undefined;
    try {
      return directivesInTree(parsed.tree);
    } finally {
      parsed.tree.delete();
    }
  }

  /** Frees every cached tree and stops any background parse. */
  dispose(): void {
    this.stopBuild();
    this.lineStartsFor = undefined;
    this.verdictFor = undefined;
    this.directivesFor.clear();
    this.cache.forEach((entry) => entry.tree.delete());
    this.cache.clear();
    this.wholeTrees.forEach((entry) => entry.tree.delete());
    this.wholeTrees.clear();
  }

  /**
   * Starts a background whole-document parse of `ctx.text`, reusing the document's previous whole
   * tree (edited to match) when there is one; a job already running for the document finishes its
   * text first and then catches up with the newest.
   */
  private startBuild(ctx: RequestContext): void {
    const key = this.keyOf(ctx);
    const lineStarts = this.lineStarts(ctx.text);
    if (this.job?.key === key) {
      if (this.job.text !== ctx.text) this.job.pending = { text: ctx.text, lineStarts };
      return;
    }
    this.stopBuild();
    this.beginJob(key, ctx.languageId, ctx.textStartLine, ctx.text, lineStarts);
  }

  private beginJob(key: string, languageId: string, startLine: number, text: string, lineStarts: number[]): void {
    const parser = this.parser.newParser(languageId);
    if (!parser) return;
    let oldTree: Tree | undefined;
    const previous = this.wholeTrees.get(key);
    if (previous && previous.startLine === startLine && previous.text !== text) {
      // The job takes the old tree over: once edited it no longer matches the text it was kept for.
      this.wholeTrees.delete(key);
      editTree(previous.tree, previous, { text, lineStarts });
      oldTree = previous.tree;
    }
    this.job = { key, languageId, startLine, text, lineStarts, parser, oldTree };
    this.jobTimer = setImmediate(() => this.buildSlice());
  }

  private stopBuild(): void {
    if (this.jobTimer) clearImmediate(this.jobTimer);
    this.job?.parser.delete();
    this.job?.oldTree?.delete();
    this.job = undefined;
    this.jobTimer = undefined;
  }

  private buildSlice(): void {
    const job = this.job;
    if (!job) return;
    const deadline = this.now() + BUILD_SLICE_MS;
    // A cancelled parse resumes where it stopped when called again with the same arguments.
    const progressCallback = (() => this.now() > deadline) as unknown as () => void;
    const tree = job.parser.parse(job.text, job.oldTree ?? null, { progressCallback });
    if (!tree) {
      this.jobTimer = setImmediate(() => this.buildSlice());
      return;
    }
    this.jobTimer = undefined;
    this.job = undefined;
    job.parser.delete();
    job.oldTree?.delete();
    const previous = this.wholeTrees.get(job.key);
    previous?.tree.delete();
    this.wholeTrees.delete(job.key);
    this.wholeTrees.set(job.key, {
      languageId: job.languageId,
      startLine: job.startLine,
      text: job.text,
      lineStarts: job.lineStarts,
      tree,
      whole: true,
    });
    for (const [k, e] of [...this.wholeTrees.entries()].slice(0, Math.max(0, this.wholeTrees.size - WHOLE_TREES))) {
      e.tree.delete();
      this.wholeTrees.delete(k);
    }
    this.logger.debug(`classify: whole-document tree ready (${job.text.length} chars)`);
    if (job.pending) this.beginJob(job.key, job.languageId, job.startLine, job.pending.text, job.pending.lineStarts);
  }

  /** Keeps `entry` as the document's tree, evicting the oldest beyond the limits. */
  private install(key: string, entry: CachedTree): void {
    const previous = this.cache.get(key);
    if (previous && previous.tree !== entry.tree) previous.tree.delete();
    this.cache.delete(key);
    this.cache.set(key, entry);
    for (const [k, e] of [...this.cache.entries()].slice(0, Math.max(0, this.cache.size - CACHED_DOCUMENTS))) {
      e.tree.delete();
      this.cache.delete(k);
    }
  }

  /** The input checks scan the whole window; repeated requests on the same text reuse the answer. */
  private inspect(text: string, header: string): InputVerdict {
    if (this.verdictFor?.text !== text || this.verdictFor.header !== header) {
      this.verdictFor = { text, header, verdict: inspectInput(text, header) };
    }
    return this.verdictFor.verdict;
  }

  private lineStarts(text: string): number[] {
    if (this.lineStartsFor?.text !== text) this.lineStartsFor = { text, starts: lineStartsOf(text) };
    return this.lineStartsFor.starts;
  }

  /** The window's tree: the cached one, the cached one edited and reparsed, or a fresh parse. */
  private async treeFor(ctx: RequestContext, window: TextWindow): Promise<{ tree?: Tree; parseMs: number; kind: ParseKind; why?: string }> {
    const key = this.keyOf(ctx);
    const background = this.wholeTrees.get(key);
    if (background && background.startLine === window.startLine && window.text.length === ctx.text.length) {
      if (background.text === window.text) return { tree: background.tree, parseMs: 0, kind: 'reused' };
      editTree(background.tree, background, window);
      const reparsed = await this.parser.parse(ctx.languageId, window.text, { oldTree: background.tree, timeCapMs: this.parseTimeCapMs });
      background.tree.delete();
      this.wholeTrees.delete(key);
      if (!reparsed) return { parseMs: this.parseTimeCapMs, kind: 'capped', why: `parse exceeded ${this.parseTimeCapMs} ms` };
      this.wholeTrees.set(key, { ...background, text: window.text, lineStarts: window.lineStarts, tree: reparsed.tree });
      return { tree: reparsed.tree, parseMs: reparsed.parseMs, kind: 'incremental' };
    }
    const cached = this.cache.get(key);
    const whole = window.text.length === ctx.text.length;
    if (cached && cached.startLine === window.startLine && cached.text === window.text) {
      this.cache.delete(key);
      this.cache.set(key, cached);
      return { tree: cached.tree, parseMs: 0, kind: 'reused' };
    }
    let oldTree: Tree | undefined;
    if (cached && cached.startLine === window.startLine && cached.whole === whole) {
      editTree(cached.tree, cached, window);
      oldTree = cached.tree;
    }
    const parsed = await this.parser.parse(ctx.languageId, window.text, { oldTree, timeCapMs: this.parseTimeCapMs });
    if (!parsed) {
      if (cached) {
        cached.tree.delete();
        this.cache.delete(key);
      }
      return { parseMs: this.parseTimeCapMs, kind: 'capped', why: `parse exceeded ${this.parseTimeCapMs} ms` };
    }
    this.install(key, { languageId: ctx.languageId, startLine: window.startLine, text: window.text, lineStarts: window.lineStarts, tree: parsed.tree, whole });
    return { tree: parsed.tree, parseMs: parsed.parseMs, kind: oldTree ? 'incremental' : 'fresh' };
  }

  private commonFeatures(ctx: RequestContext, window: TextWindow, cursor: number, hasSelection: boolean, verdict: InputVerdict) {
    const cursorLocal = ctx.selection.active.line - window.startLine;
    const fullLine = lineText(window, cursorLocal);
    const fullColumn = cursor - window.lineStarts[Math.max(0, Math.min(cursorLocal, window.lineStarts.length - 1))];
    // Only the text near the cursor is examined, so a megabyte-long line costs no more than a short one.
    const from = Math.max(0, fullColumn - LINE_CONTEXT_CHARS);
    const line = fullLine.length <= 2 * LINE_CONTEXT_CHARS ? fullLine : fullLine.slice(from, fullColumn + LINE_CONTEXT_CHARS);
    const column = fullLine.length <= 2 * LINE_CONTEXT_CHARS ? fullColumn : fullColumn - from;
    const firstLocal = Math.min(ctx.selection.start.line, ctx.selection.end.line) - window.startLine;
    const lastLocal = Math.max(ctx.selection.start.line, ctx.selection.end.line) - window.startLine;
    return {
      cursorLocal,
      line,
      column,
      firstLocal,
      lastLocal,
      cursorLineBlank: isBlank(line),
      textAfterCursor: line.slice(column).trim().length > 0,
      selectionLines: hasSelection ? lastLocal - firstLocal + 1 : 0,
      generated: verdict.generated,
      minified: verdict.minified,
      binary: verdict.binary,
    };
  }

  private diagnosticErrors(ctx: RequestContext, firstLine: number, lastLine: number): number {
    return ctx.diagnostics.filter(
      (d) => d.severity === 'error' && d.range.end.line >= firstLine && d.range.start.line <= lastLine,
    ).length;
  }

  private treeFeatures(
    ctx: RequestContext,
    window: TextWindow,
    tree: Tree,
    cursor: number,
    selection: Span,
    hasSelection: boolean,
    verdict: InputVerdict,
  ): Features {
    const common = this.commonFeatures(ctx, window, cursor, hasSelection, verdict);
    const enclosing = findEnclosingUnit(tree, hasSelection ? selection.start : cursor, hasSelection ? selection.end : cursor);
    const rowOf = (offset: number) => rowAt(window, offset);
    const unitStartLocal = enclosing ? rowOf(enclosing.startIndex) : undefined;
    const region: Span = hasSelection
      ? selection
      : enclosing
        ? { start: enclosing.startIndex, end: enclosing.endIndex }
        : {
            start: window.lineStarts[Math.max(0, common.cursorLocal - 10)] ?? 0,
            end: window.lineStarts[Math.min(window.lineStarts.length - 1, common.cursorLocal + 10)] ?? window.text.length,
          };
    // Errors count when they are in the selection, or in the function around the cursor or near it.
    const near = (delta: number) =>
      window.lineStarts[Math.max(0, Math.min(window.lineStarts.length - 1, common.cursorLocal + delta))] ?? 0;
    const outer = outermostFunction(tree, cursor);
    const errorRegion: Span = hasSelection
      ? selection
      : { start: Math.min(outer?.start ?? Infinity, near(-ERROR_CONTEXT_LINES)), end: Math.max(outer?.end ?? 0, near(ERROR_CONTEXT_LINES)) };
    const analysis = analyseTree(tree, window, cursor, selection, errorRegion);
    const textEmpty = !hasSelection && emptyBlockByText(window, common.cursorLocal, unitStartLocal);
    let errors = analysis.errors;
    if (textEmpty) {
      // A body that is still to be written is an error to the parser (Python) but not to the user.
      const headerStart = window.lineStarts[Math.max(0, (unitStartLocal ?? common.cursorLocal) - 1)] ?? 0;
      const nextLine = window.lineStarts[Math.min(window.lineStarts.length - 1, common.cursorLocal + 2)] ?? window.text.length;
      errors = errors.filter((e) => e.end < headerStart || e.start > nextLine);
    }
    const unfinished = hasSelection || analysis.inString ? undefined : this.unfinishedAt(ctx, window, tree, cursor, common, analysis.inComment);
    if (unfinished) {
      // The request is about the function being written: errors elsewhere are not what it asks
      // to fix, and what the parser makes of a body not yet written is not the user's error.
      const { start, end } = unfinished.unit;
      errors = unfinished.signatureStart !== undefined ? [] : errors.filter((e) => e.end > start && e.start < end);
    }
    const regionFirstLine = window.startLine + rowOf(region.start);
    const regionLastLine = window.startLine + rowOf(region.end);
    const metrics = measureUnit(tree, window, enclosing ? { start: enclosing.startIndex, end: enclosing.endIndex } : region, enclosing?.kind, cursor);
    const unit: UnitInfo | undefined = enclosing
      ? {
          kind: enclosing.kind,
          name: enclosing.name,
          startLine: window.startLine + rowOf(enclosing.startIndex),
          endLine: window.startLine + rowOf(enclosing.endIndex),
          lines: rowOf(enclosing.endIndex) - rowOf(enclosing.startIndex) + 1,
          tokens: metrics.tokens,
        }
      : undefined;
    const aboveLocal = (hasSelection ? common.firstLocal : common.cursorLocal) - 1;
    const aboveText = lineText(window, aboveLocal);
    let commentAbove = false;
    if (aboveLocal >= 0 && !isBlank(aboveText)) {
      const firstChar = window.lineStarts[aboveLocal] + (aboveText.length - aboveText.trimStart().length);
      const node = tree.rootNode.descendantForIndex(firstChar);
      commentAbove = (node !== null && isCommentKind(node.type)) || isCommentLine(aboveText, ctx.languageId);
    }
    return {
      ...pick(common),
      nodeKind: analysis.nodeKind,
      ancestorKinds: analysis.ancestorKinds,
      unit,
      enclosingClass: analysis.enclosingClass,
      inComment: analysis.inComment,
      inString: analysis.inString,
      emptyBlock: !hasSelection && !analysis.inComment && !analysis.inString && (analysis.emptyBlock || textEmpty),
      commentAbove,
      wholeNodeSelection: analysis.wholeNodeSelection,
      syntaxErrors: errors.length,
      diagnosticErrors: this.diagnosticErrors(
        ctx,
        regionFirstLine,
        unfinished?.signatureStart !== undefined ? Math.min(regionLastLine, window.startLine + rowOf(unfinished.signatureStart) - 1) : regionLastLine,
      ),
      unfinished: unfinished?.why,
      nestingDepth: analysis.nestingDepth,
      branchCount: metrics.branches,
      identifiers: metrics.identifiers,
      formatIrregularity: hasSelection ? formatIrregularity(tree, window, selection, ctx.languageId) : 0,
    };
  }

  /**
   * Whether the cursor is where a body is still to be written: in a body that holds only a
   * placeholder, or at (or just below) a signature with no body after it; and the span of that
   * function, whose errors alone count (for a signature, none: they are its missing body's).
   */
  private unfinishedAt(
    ctx: RequestContext,
    window: TextWindow,
    tree: Tree,
    cursor: number,
    common: { cursorLocal: number; cursorLineBlank: boolean; textAfterCursor: boolean },
    inComment: boolean,
  ): { why: string; unit: Span; signatureStart?: number } | undefined {
    if (common.textAfterCursor) return undefined;
    const text = window.text;
    let probe = cursor - 1;
    for (const floor = Math.max(0, cursor - 2000); probe >= floor && /\s/.test(text[probe]); probe--);
    if (probe < 0 || /\s/.test(text[probe])) return undefined;
    const cursorColumn = cursor - (window.lineStarts[common.cursorLocal] ?? 0);
    const placeholder = placeholderBodyAt(tree, probe, cursor, cursorColumn, common.cursorLineBlank);
    if (placeholder) return { why: placeholder.why, unit: placeholder };
    // The signature: the cursor's line when the cursor ends it, else the line just above a blank one.
    let sigRow = rowAt(window, probe);
    // A comment of its own is being written; one after a signature (`def to_s # :nodoc:`) is done.
    if (inComment && (common.cursorLocal !== sigRow || isCommentLine(lineText(window, sigRow), ctx.languageId))) return undefined;
    if (common.cursorLocal - sigRow > 2) return undefined;
    let signature = lineText(window, sigRow);
    if (signature.trim() === '{' && sigRow > 0) signature = `${lineText(window, --sigRow)} {`;
    if (!endsLikeSignature(signature, ctx.languageId)) return undefined;
    // A signature over several lines (one parameter a line) starts where its parentheses balance.
    for (let open = parenBalance(signature); open < 0 && sigRow > 0 && common.cursorLocal - sigRow < 40; open = parenBalance(signature)) {
      signature = `${lineText(window, --sigRow)}\n${signature}`;
    }
    // Nothing of a body below: the next non-blank line is not indented under the signature.
    let below = common.cursorLocal + 1;
    while (below < window.lineStarts.length && isBlank(lineText(window, below))) below++;
    if (below < window.lineStarts.length && indentWidth(lineText(window, below)) > indentWidth(signature)) return undefined;
    const firstStart = window.lineStarts[sigRow] ?? 0;
    const context = lineContext(tree, firstStart + (signature.length - signature.trimStart().length));
    // A line in a function that ends with `)` is a call being typed, not a signature without its
    // brace; this keeps the parses below off the path of most keystrokes.
    const opensBody = /[{:]\s*$/.test(signature.replace(/\s+(\/\/|#).*$/, '')) || ctx.languageId === 'ruby';
    if (!opensBody && context === 'function') return undefined;
    const parse = (snippet: string) => this.parser.parseSnippet(ctx.languageId, snippet);
    let isSignature = opensFunctionBody(tree, probe) || parsesAsSignature(signature, ctx.languageId, context, parse);
    // A signature's first lines may hold no parenthesis: a template, a return type, a where clause.
    for (let extra = 1; opensBody && !isSignature && extra <= SIGNATURE_LINES_ABOVE && sigRow - extra >= 0; extra++) {
      const above = lineText(window, sigRow - extra);
      if (isBlank(above) || indentWidth(above) > indentWidth(signature.split('\n')[0]) + 8) break;
      signature = `${above}\n${signature}`;
      isSignature = parsesAsSignature(signature, ctx.languageId, context, parse);
      if (isSignature) sigRow -= extra;
    }
    if (!isSignature) return undefined;
    const signatureStart = window.lineStarts[sigRow] ?? 0;
    return { why: 'a signature with no body yet', unit: { start: signatureStart, end: text.length }, signatureStart };
  }

  private textFeatures(
    ctx: RequestContext,
    window: TextWindow,
    cursor: number,
    selection: Span,
    hasSelection: boolean,
    verdict: InputVerdict,
  ): Features {
    const common = this.commonFeatures(ctx, window, cursor, hasSelection, verdict);
    const firstLocal = hasSelection ? common.firstLocal : Math.max(0, common.cursorLocal - 15);
    const lastLocal = hasSelection ? common.lastLocal : Math.min(window.lineStarts.length - 1, common.cursorLocal + 15);
    // Binary or minified text is not scanned line by line: a bounded sample around the cursor is enough.
    const heavy = verdict.binary || verdict.minified;
    const regionLines: string[] = [];
    for (let i = firstLocal; i <= lastLocal && !heavy; i++) regionLines.push(lineText(window, i));
    const regionText = heavy
      ? window.text.slice(Math.max(0, cursor - UNIT_SAMPLE_CHARS / 2), cursor + UNIT_SAMPLE_CHARS / 2)
      : hasSelection
        ? window.text.slice(selection.start, selection.end)
        : regionLines.join('\n');
    const scanned = heavy ? { inString: false, inComment: false } : scanLine(common.line, common.column, ctx.languageId);
    const above = heavy ? '' : lineText(window, (hasSelection ? common.firstLocal : common.cursorLocal) - 1);
    const inComment = scanned.inComment || (!heavy && inBlockComment(window.text, cursor, ctx.languageId));
    const depth = Math.round(indentWidth(common.line) / 4);
    return {
      ...pick(common),
      nodeKind: 'text',
      ancestorKinds: [],
      unit: {
        kind: 'lines',
        startLine: window.startLine + firstLocal,
        endLine: window.startLine + lastLocal,
        lines: lastLocal - firstLocal + 1,
        tokens: verdict.binary ? 0 : countTokens(regionText),
      },
      inComment,
      inString: scanned.inString,
      emptyBlock: !hasSelection && !inComment && !heavy && emptyBlockByText(window, common.cursorLocal),
      commentAbove: isCommentLine(above, ctx.languageId),
      wholeNodeSelection: false,
      syntaxErrors: hasSelection && !heavy ? unbalancedBrackets(regionText, ctx.languageId) : 0,
      diagnosticErrors: this.diagnosticErrors(ctx, window.startLine + firstLocal, window.startLine + lastLocal),
      nestingDepth: depth,
      branchCount: verdict.binary ? 0 : (regionText.match(/\b(if|else|elif|for|while|case|catch|except|switch|when|unless|until)\b/g)?.length ?? 0),
      identifiers: verdict.binary ? 0 : countIdentifiers(regionText),
      formatIrregularity:
        hasSelection && !heavy
          ? Math.min(1, spacingIrregularity(regionLines) + textOnlyIndentIrregularity(regionLines))
          : 0,
    };
  }
}

function pick(common: {
  cursorLineBlank: boolean;
  textAfterCursor: boolean;
  selectionLines: number;
  generated: boolean;
  minified: boolean;
  binary: boolean;
}) {
  const { cursorLineBlank, textAfterCursor, selectionLines, generated, minified, binary } = common;
  return { cursorLineBlank, textAfterCursor, selectionLines, generated, minified, binary };
}
