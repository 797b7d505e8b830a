/** What an editor command asks for. */
export type CommandTask = 'format' | 'explain' | 'generate' | 'debug';
/** What an inline completion request should produce, or `none` when none should be requested. */
export type InlineKind = 'complete-line' | 'complete-block' | 'complete-comment' | 'none';
export type ClassifiedTask = CommandTask | InlineKind;

export const COMMAND_TASKS: readonly CommandTask[] = ['format', 'explain', 'generate', 'debug'];
export const INLINE_KINDS: readonly InlineKind[] = ['complete-line', 'complete-block', 'complete-comment', 'none'];

/**
 * How the request arrived: an explicit command (the task is given; difficulty and features are
 * still computed), the automatic action ("Do What I Mean": infer a command task), or an inline
 * completion request (infer the completion kind).
 */
export type ClassifyMode = CommandTask | 'auto' | 'inline';

export interface UnitInfo {
  kind: string;
  name?: string;
  /** Zero-based document lines, inclusive. */
  startLine: number;
  endLine: number;
  lines: number;
  tokens: number;
}

/** What the classifier saw. Tree features are absent (or estimated from text) when `textOnly`. */
export interface Features {
  /** Innermost named node at the cursor and its named ancestors, innermost first (at most 8). */
  nodeKind: string;
  ancestorKinds: string[];
  unit?: UnitInfo;
  enclosingClass?: string;
  inComment: boolean;
  inString: boolean;
  /** The cursor sits in a block or body with no statements (or a signature with no body yet). */
  emptyBlock: boolean;
  /**
   * What is left to write where the cursor is, in words, when the body around it holds only a
   * placeholder ("body is only a TODO comment") or there is a signature with no body yet.
   */
  unfinished?: string;
  /** The line above the cursor (or above the selection) is a comment. */
  commentAbove: boolean;
  cursorLineBlank: boolean;
  /** Text follows the cursor on its line. */
  textAfterCursor: boolean;
  selectionLines: number;
  /** The selection covers exactly one syntax node (after trimming whitespace). */
  wholeNodeSelection: boolean;
  /** Syntax errors (tree-sitter ERROR / MISSING nodes) in the region the request is about. */
  syntaxErrors: number;
  /** Error-severity diagnostics that overlap the region. */
  diagnosticErrors: number;
  nestingDepth: number;
  branchCount: number;
  identifiers: number;
  /** Share of lines in the region whose indentation or spacing breaks the surrounding style, 0..1. */
  formatIrregularity: number;
  generated: boolean;
  minified: boolean;
  binary: boolean;
}

export interface Classification {
  task: ClassifiedTask;
  /** 0 (trivial) .. 1 (hard), from the code around the request, not the file's size. */
  difficulty: number;
  /** 0..1: how sure the classifier is of `task` (1 when a command set it). */
  confidence: number;
  language: string;
  /** True when no syntax tree was used (no grammar, or the input was too large, binary or minified). */
  textOnly: boolean;
  /** One line a user can read. */
  reason: string;
  features: Features;
  timings: {
    parseMs: number;
    classifyMs: number;
    /** How the tree was had: reused as is, edited and reparsed, parsed afresh, abandoned at the cap, or not at all. */
    parse: ParseKind;
  };
}

export type ParseKind = 'reused' | 'incremental' | 'fresh' | 'capped' | 'none';
