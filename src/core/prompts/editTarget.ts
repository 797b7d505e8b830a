import type { Classification } from '../classify/classification';
import { CLOSING_TOKENS } from '../classify/nodeKinds';
import { isBlank, isCommentLine } from '../classify/textFeatures';
import type { RequestContext } from '../context/requestContext';
import { LineIndex } from '../context/textOffsets';
import { commonIndent } from './codeExtraction';

export type EditTask = 'format' | 'generate' | 'debug';

/**
 * The whole lines an edit rewrites: the model answers with their full replacement, and Accept
 * replaces exactly [startLine, endLine] with it.
 */
export interface EditTarget {
  /** Zero-based document lines, inclusive. */
  startLine: number;
  endLine: number;
  /** The lines' text, without the final line break. */
  code: string;
  source: 'selection' | 'enclosing-unit' | 'lines-around-cursor' | 'cursor-line';
  /** Base indentation of the lines, to restore when the model drops it (see `reindent`). */
  indent: string;
  unitKind?: string;
  unitName?: string;
  /** Generate: the comment that says what to write (at the start of the target, or just above the unit), markers removed. */
  instructionComment?: string;
}

/** Lines either side of the cursor when there is no selection and no enclosing unit. */
const CONTEXT_LINES = 20;

/** The text window's lines, addressed by document line. */
class WindowLines {
  private readonly index: LineIndex;
  constructor(private readonly ctx: RequestContext) {
    this.index = new LineIndex(ctx.text);
  }

  get first(): number {
    return this.ctx.textStartLine;
  }

  get last(): number {
    return this.ctx.textStartLine + this.index.lineCount - 1;
  }

  clamp(line: number): number {
    return Math.min(Math.max(line, this.first), this.last);
  }

  text(first: number, last: number): string {
    const local = (line: number) => this.clamp(line) - this.ctx.textStartLine;
    return this.ctx.text.slice(
      this.index.offsetAt({ line: local(first), character: 0 }),
      this.index.offsetAt({ line: local(last), character: Number.MAX_SAFE_INTEGER }),
    );
  }

  line(line: number): string {
    return this.text(line, line);
  }

  target(first: number, last: number, source: EditTarget['source'], extra: Partial<EditTarget> = {}): EditTarget {
    const startLine = this.clamp(first);
    const endLine = Math.max(startLine, this.clamp(last));
    const code = this.text(startLine, endLine);
    return { startLine, endLine, code, source, indent: commonIndent(code), ...extra };
  }

  /** First line of the run of comment lines that ends at `line` (`line + 1` when `line` is no comment). */
  commentRunStart(line: number, languageId: string): number {
    let start = line + 1;
    while (start - 1 >= this.first && isCommentLine(this.line(start - 1), languageId)) start--;
    return start;
  }
}

/** The comment's words without its markers (`//`, `#`, `/*`, `*`, `"""`). */
function commentText(comment: string): string {
  return comment
    .split('\n')
    .map((line) => line.trim().replace(/^(\/\/+|#+|--|;+|%+|'|\/\*+|\*+\/|\*+|"""|''')\s?/, '').replace(/\s*(\*\/|"""|''')$/, ''))
    .filter((line) => line.trim().length > 0)
    .join('\n');
}

/** Lines that hold nothing a body would need to keep: a placeholder or a closing token. */
const PLACEHOLDER = /^(pass|\.\.\.|todo!\(\)|unimplemented!\(\)|return;?)$/;

/**
 * Whether a unit is only a signature with an empty body: after its header (up to the first line
 * that opens a block) come only blank lines, comments, placeholders and closing tokens.
 */
function hasEmptyBody(code: string, languageId: string): boolean {
  const lines = code.split('\n');
  if (lines.length === 1) return /(\{\s*\}|;|:)\s*$/.test(lines[0]) || !/[{:]/.test(lines[0]);
  const opener = lines.findIndex((line) => /(\{|:|\bdo|\bthen|=>|->|\bbegin)\s*$/.test(line.replace(/\s*(\/\/|#).*$/, '')));
  return lines.slice(opener < 0 ? 1 : opener + 1).every((line) => {
    const t = line.trim();
    return isBlank(t) || isCommentLine(t, languageId) || CLOSING_TOKENS.has(t) || PLACEHOLDER.test(t);
  });
}

/**
 * What Format, Generate or Debug rewrites:
 * - format: the selection, widened to whole lines; else the unit around the cursor;
 * - debug: the unit around the cursor or selection; else the lines around the cursor;
 * - generate: the selection; else the unit when it is a signature with an empty body; else the
 *   cursor line together with the instruction comment right above it.
 * With neither selection nor unit, the lines around the cursor (±20).
 */
export function findEditTarget(ctx: RequestContext, classification: Classification, task: EditTask): EditTarget {
  const lines = new WindowLines(ctx);
  const { start, end, active } = ctx.selection;
  const hasSelection = start.line !== end.line || start.character !== end.character;
  // A selection that ends at the start of a line (whole lines selected) does not include that line.
  const selectionLast = hasSelection && end.character === 0 && end.line > start.line ? end.line - 1 : end.line;
  const unit = classification.features.unit && classification.features.unit.kind !== 'lines' ? classification.features.unit : undefined;
  const fromUnit = (extra: Partial<EditTarget> = {}) =>
    unit && lines.target(unit.startLine, unit.endLine, 'enclosing-unit', { unitKind: unit.kind, unitName: unit.name, ...extra });
  const around = () =>
    lines.target(Math.min(start.line, active.line - CONTEXT_LINES), Math.max(selectionLast, active.line + CONTEXT_LINES), 'lines-around-cursor');

  if (task === 'format' || task === 'generate') {
    if (hasSelection && lines.text(start.line, selectionLast).trim().length > 0) {
      const selected = lines.target(start.line, selectionLast, 'selection');
      if (task === 'format') return selected;
      const commentEnd = selected.code.split('\n').findIndex((line) => !isCommentLine(line, ctx.languageId));
      const comment = selected.code.split('\n').slice(0, commentEnd < 0 ? undefined : commentEnd).join('\n');
      return comment ? { ...selected, instructionComment: commentText(comment) } : selected;
    }
  }
  if (task !== 'generate') return fromUnit() ?? around();

  // The comment just above a signature says what its body should do.
  const docAbove = (header: number): Partial<EditTarget> => {
    const docStart = lines.commentRunStart(header - 1, ctx.languageId);
    return docStart < header ? { instructionComment: commentText(lines.text(docStart, header - 1)) } : {};
  };
  const cursor = lines.clamp(active.line);
  if (classification.features.emptyBlock && unit && hasEmptyBody(lines.text(unit.startLine, unit.endLine), ctx.languageId)) {
    return fromUnit(docAbove(unit.startLine))!;
  }
  if (classification.features.emptyBlock && !unit) {
    // No unit in the tree (a body still to be written is a parse error in Python, say): the
    // header that opens the block, the cursor line, and the token that closes it if there is one.
    let header = cursor - 1;
    while (header > lines.first && isBlank(lines.line(header))) header--;
    let next = cursor + 1;
    while (next < lines.last && isBlank(lines.line(next))) next++;
    const last = next <= lines.last && CLOSING_TOKENS.has(lines.line(next).trim()) ? next : cursor;
    if (header >= lines.first && !isBlank(lines.line(header))) return lines.target(header, last, 'enclosing-unit', docAbove(header));
  }
  const onComment = isCommentLine(lines.line(cursor), ctx.languageId);
  const commentStart = lines.commentRunStart(onComment ? cursor : cursor - 1, ctx.languageId);
  const commentEnd = onComment ? cursor : cursor - 1;
  const target = lines.target(commentStart, cursor, 'cursor-line');
  return commentStart <= commentEnd ? { ...target, instructionComment: commentText(lines.text(commentStart, commentEnd)) } : target;
}

/** Lines that bring names into a file, by language. */
const IMPORT_PATTERNS: Record<string, RegExp> = {
  typescript: /^\s*(import\b|export\s.*\bfrom\s|(const|let|var)\s.*=\s*require\()/,
  python: /^\s*(import\s|from\s+\S+\s+import\b)/,
  go: /^\s*(package|import)\b/,
  rust: /^\s*(pub(\([^)]*\))?\s+)?(use\s|extern\s+crate\s)/,
  java: /^\s*(package|import)\s/,
  csharp: /^\s*(global\s+)?using\s+(static\s+)?[\w.]+(\s*=\s*[\w.<>, ]+)?\s*;/,
  cpp: /^\s*(#\s*(include|import)\b|using\s+namespace\s|import\s+[\w.:<"]+)/,
  ruby: /^\s*(require|require_relative|load)\b/,
  php: /^\s*(namespace\s|use\s|(require|require_once|include|include_once)\b)/,
};
const LANGUAGE_FAMILY: Record<string, string> = {
  typescriptreact: 'typescript',
  javascript: 'typescript',
  javascriptreact: 'typescript',
  c: 'cpp',
  'objective-c': 'cpp',
  kotlin: 'java',
  scala: 'java',
};

/** Lines of the top of the file that `importsOf` looks at. */
const IMPORT_SCAN_LINES = 200;
export const MAX_IMPORT_LINES = 40;

/**
 * The import / use / include lines at the top of the file (from the text window when it starts
 * at the top, else from the header the adapter read), multi-line ones whole; at most 40 lines.
 */
export function importsOf(ctx: RequestContext): string[] {
  const pattern = IMPORT_PATTERNS[LANGUAGE_FAMILY[ctx.languageId] ?? ctx.languageId];
  if (!pattern) return [];
  const source = ctx.textStartLine === 0 || !ctx.headerText ? ctx.text : ctx.headerText;
  const lines = source.split(/\r?\n/, IMPORT_SCAN_LINES);
  const found: string[] = [];
  for (let i = 0; i < lines.length && found.length < MAX_IMPORT_LINES; i++) {
    if (!pattern.test(lines[i])) continue;
    // An import whose braces or parentheses stay open goes on until they close (`import {`, Go's `import (`).
    let depth = 0;
    for (; i < lines.length && found.length < MAX_IMPORT_LINES; i++) {
      found.push(lines[i]);
      depth += (lines[i].match(/[({[]/g)?.length ?? 0) - (lines[i].match(/[)}\]]/g)?.length ?? 0);
      if (depth <= 0) break;
    }
  }
  return found;
}
