import type { Node, Tree } from 'web-tree-sitter';
import {
  BLOCK_KINDS,
  CLASS_KINDS,
  FUNCTION_KINDS,
  isBranchKind,
  isCommentKind,
  isInterpolationKind,
  isStringKind,
} from './nodeKinds';
import { indentWidth } from './textFeatures';
import type { TextWindow } from './textWindow';

export interface Span {
  start: number;
  end: number;
}

/** The node spanning exactly `span` with kind `type`, if any. */
export function nodeAt(tree: Tree, span: Span, type: string): Node | undefined {
  for (let n: Node | null = tree.rootNode.descendantForIndex(span.start, span.end); n; n = n.parent) {
    if (n.startIndex === span.start && n.endIndex === span.end && n.type === type) return n;
    if (n.startIndex < span.start || n.endIndex > span.end) return undefined;
  }
  return undefined;
}

export interface TreeAnalysis {
  nodeKind: string;
  ancestorKinds: string[];
  enclosingClass?: string;
  inComment: boolean;
  inString: boolean;
  /** The innermost block around the cursor has no statements. */
  emptyBlock: boolean;
  nestingDepth: number;
  /** ERROR / MISSING nodes overlapping the region, as window offsets. */
  errors: Span[];
  wholeNodeSelection: boolean;
}

const MAX_ANCESTORS = 8;

function ancestors(node: Node | null): Node[] {
  const out: Node[] = [];
  for (let n = node; n; n = n.parent) out.push(n);
  return out;
}

/** A Python-style docstring: a string that is the first statement of a module, class or function body. */
function isDocstring(node: Node): boolean {
  if (node.type !== 'string') return false;
  const statement = node.parent;
  if (statement?.type !== 'expression_statement') return false;
  const body = statement.parent;
  if (!body || body.firstNamedChild?.id !== statement.id) return false;
  return body.type === 'module' || (body.type === 'block' && (body.parent?.type === 'function_definition' || body.parent?.type === 'class_definition'));
}

function isLineComment(node: Node): boolean {
  const text = node.text;
  return !text.endsWith('*/') && !text.endsWith('-->') && !text.endsWith('=end');
}

/** Where the cursor is, lexically: in a comment (or docstring), in a string literal, or in code. */
function lexicalPlace(tree: Tree, cursor: number): { inComment: boolean; inString: boolean } {
  const probes = [tree.rootNode.descendantForIndex(cursor), cursor > 0 ? tree.rootNode.descendantForIndex(cursor - 1) : null];
  for (const probe of probes) {
    for (const node of ancestors(probe)) {
      if (isInterpolationKind(node.type)) break;
      if (isCommentKind(node.type)) {
        const inside = node.startIndex < cursor && (cursor < node.endIndex || (cursor === node.endIndex && isLineComment(node)));
        if (inside) return { inComment: true, inString: false };
      }
      if (isStringKind(node.type) && node.startIndex < cursor && cursor < node.endIndex) {
        return isDocstring(node) ? { inComment: true, inString: false } : { inComment: false, inString: true };
      }
    }
  }
  return { inComment: false, inString: false };
}

function isBlockNode(node: Node): boolean {
  return BLOCK_KINDS.has(node.type) || node.parent?.childForFieldName('body')?.id === node.id;
}

/**
 * Collects ERROR and MISSING nodes that overlap `region`, descending only where errors are and
 * only into children at the region (a file's root can have thousands of children).
 */
function collectErrors(node: Node, region: Span, out: Span[]): void {
  if (out.length >= 50 || node.endIndex < region.start || node.startIndex > region.end) return;
  if (node.isError || node.isMissing) {
    out.push({ start: node.startIndex, end: node.endIndex });
    return;
  }
  if (!node.hasError) return;
  const cursor = node.walk();
  try {
    if (!cursor.gotoFirstChild()) return;
    do {
      if (cursor.startIndex > region.end) break;
      // Position checks on the cursor cost no Node object; only overlapping children are built.
      if (cursor.endIndex >= region.start) collectErrors(cursor.currentNode, region, out);
    } while (cursor.gotoNextSibling());
  } finally {
    cursor.delete();
  }
}

/** Branches in `node`, walking at most `maxVisited` nodes (enough for any function of sane size). */
export function countBranches(node: Node, maxVisited = 6000): number {
  const cursor = node.walk();
  let count = 0;
  let visited = 0;
  try {
    for (;;) {
      if (cursor.nodeIsNamed && isBranchKind(cursor.nodeType)) count++;
      if (++visited >= maxVisited) return count;
      if (cursor.gotoFirstChild()) continue;
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent()) return count;
      }
    }
  } finally {
    cursor.delete();
  }
}

/** Trims whitespace off a selection, then asks whether one node spans exactly what is left. */
function selectsWholeNode(tree: Tree, text: string, selection: Span): boolean {
  let { start, end } = selection;
  while (start < end && /\s/.test(text[start])) start++;
  while (end > start && /\s/.test(text[end - 1])) end--;
  if (start >= end) return false;
  for (let node: Node | null = tree.rootNode.descendantForIndex(start, end); node; node = node.parent) {
    if (node.startIndex === start && node.endIndex === end) return true;
    if (node.startIndex < start || node.endIndex > end) return false;
  }
  return false;
}

export function analyseTree(
  tree: Tree,
  window: TextWindow,
  cursor: number,
  selection: Span,
  region: Span,
): TreeAnalysis {
  const atCursor = tree.rootNode.namedDescendantForIndex(cursor);
  const chain = ancestors(atCursor).filter((n) => n.isNamed);
  const classNode = chain.find((n) => CLASS_KINDS.has(n.type));
  const blocks = chain.filter(isBlockNode);
  const innermostBlock = blocks.find((b) => b.startIndex < cursor && cursor < b.endIndex);
  const emptyBlock =
    !!innermostBlock && innermostBlock.namedChildren.every((child) => !child || isCommentKind(child.type));
  const errors: Span[] = [];
  collectErrors(tree.rootNode, region, errors);
  // Errors at a window edge come from cutting the text there, not from the code.
  const edgeFree = errors.filter(
    (e) => (window.atStart || e.start > 0) && (window.atEnd || e.end < window.text.length),
  );
  return {
    nodeKind: atCursor?.type ?? 'unknown',
    ancestorKinds: chain.slice(0, MAX_ANCESTORS).map((n) => n.type),
    enclosingClass: classNode?.childForFieldName('name')?.text ?? undefined,
    ...lexicalPlace(tree, cursor),
    emptyBlock,
    nestingDepth: blocks.length,
    errors: edgeFree,
    wholeNodeSelection: selection.end > selection.start && selectsWholeNode(tree, window.text, selection),
  };
}

interface Leaf {
  row: number;
  start: number;
  end: number;
  /** The token's kind; `<` and `>` become `<T` / `T>` when they bracket type parameters. */
  type: string;
}

const isTypeBracketParent = (type: string | undefined) => !!type && /type_(parameters|arguments)|template_(parameter|argument)_list/.test(type);

function leavesIn(tree: Tree, region: Span): Leaf[] {
  const leaves: Leaf[] = [];
  const cursor = tree.walk();
  try {
    for (;;) {
      const overlaps = cursor.endIndex > region.start && cursor.startIndex < region.end;
      const isLeaf = overlaps && (cursor.currentNode.childCount === 0 || isCommentKind(cursor.nodeType) || isStringKind(cursor.nodeType));
      if (isLeaf) {
        let type = cursor.nodeType;
        if ((type === '<' || type === '>') && isTypeBracketParent(cursor.currentNode.parent?.type)) type = type === '<' ? '<T' : 'T>';
        // Shell `case x in … esac`: the `in` and each pattern's `)` open a level, `;;` closes one.
        else if (type === 'in' && cursor.currentNode.parent?.type === 'case_statement') type = 'case-in';
        else if (type === ')' && cursor.currentNode.parent?.type === 'case_item') type = 'case)';
        else if (KEYWORD_BLOCK_TOKENS.has(type) || type === 'end' || type === 'then' || KEYWORD_MID_TOKENS.has(type)) type = keywordLevelToken(cursor.currentNode, type);
        leaves.push({ row: cursor.startPosition.row, start: cursor.startIndex, end: cursor.endIndex, type });
      } else if (overlaps && cursor.gotoFirstChild()) {
        continue;
      }
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent()) return leaves;
      }
    }
  } finally {
    cursor.delete();
  }
}

/** Keywords that open a level closed by `end` (Ruby): `def … end`, `if … end`, `class … end`. */
const KEYWORD_BLOCK_TOKENS = new Set(['def', 'class', 'module', 'if', 'unless', 'while', 'until', 'for', 'case', 'begin']);
/** Keywords that sit at their construct's level and open the next part: `else`, `elsif`, `when`, `rescue`, `ensure`. */
const KEYWORD_MID_TOKENS = new Set(['elsif', 'when', 'rescue', 'ensure']);

/**
 * A keyword opens a level when it starts a construct that `end` closes (not a modifier such as
 * `x if y`); `end` closes it; a mid keyword closes the part before it and opens the next.
 */
function keywordLevelToken(node: Node, type: string): string {
  const parent = node.parent;
  if (!parent) return type;
  // `while c … end` keeps its `end` in its body (`do`) node.
  const closedByEnd = parent.lastChild?.type === 'end' || parent.lastChild?.lastChild?.type === 'end';
  // Ruby's optional `then` (`if x then`) adds nothing to the level its `if` opened.
  if (type === 'then') return parent.type === 'then' && isEndedByKeyword(parent.parent) ? 'kw-then' : type;
  if (type === 'end') return closedByEnd && parent.lastChild?.id === node.id ? 'kw-end' : type;
  if (KEYWORD_MID_TOKENS.has(type)) return 'kw-mid';
  return closedByEnd && parent.firstChild?.id === node.id && !parent.type.endsWith('_modifier') ? 'kw-open' : type;
}

/** Whether `node` is, or is a part (`then`, `else`, `elsif`, `when`) of, a construct that `end` closes. */
function isEndedByKeyword(node: Node | null): boolean {
  for (let n = node; n; n = n.parent) {
    if (n.lastChild?.type === 'end') return true;
    if (!['if', 'unless', 'elsif', 'when', 'case', 'else', 'then', 'do'].includes(n.type)) return false;
  }
  return false;
}

const SPACED_OPERATORS = new Set(['=', '==', '===', '!=', '!==', '+=', '-=', '*=', '/=', '=>', '&&', '||', '<=', '>=', ':=', '->']);

/** Tokens that open a level of indentation, and what closes each. */
const OPENERS = new Set(['(', '[', '{', '${', '$(', 'then', 'do', 'else', '<T', 'case-in', 'case)', 'kw-open', 'kw-mid']);
const CLOSES: Readonly<Record<string, string[]>> = {
  'kw-end': ['kw-open', 'kw-mid', 'do', 'else', 'then'],
  'kw-mid': ['kw-open', 'kw-mid', 'then'],
  ';;': ['case)'],
  ';&': ['case)'],
  ';;&': ['case)'],
  esac: ['case)', 'case-in'],
  'T>': ['<T'],
  ')': ['(', '$('],
  ']': ['['],
  '}': ['{', '${'],
  fi: ['then', 'else'],
  done: ['do'],
  else: ['then', 'kw-open', 'kw-mid'],
  elif: ['then'],
};

/**
 * The indentation level of each line in `leaves` (grouped by row, in order): how many distinct
 * earlier lines left a bracket (or `then` / `do`) open. Leading closers count as closed, so a
 * closing line sits at the level of the line that opened it.
 */
function levelsByRow(rows: Leaf[][]): Map<number, number> {
  const stack: { type: string; row: number }[] = [];
  const levels = new Map<number, number>();
  const close = (type: string): number => {
    const opens = CLOSES[type];
    let popped = 0;
    // `esac` may close a last pattern without `;;` as well as the `case … in` itself.
    for (let n = type === 'esac' ? 2 : 1; n > 0 && opens && stack.length && opens.includes(stack[stack.length - 1].type); n--, popped++) stack.pop();
    return popped;
  };
  for (const row of rows) {
    let i = 0;
    while (i < row.length && CLOSES[row[i].type] && !OPENERS.has(row[i].type)) close(row[i++].type);
    // `else` opens a level of its own only where it closed a `then` (shell) or a keyword block
    // (Ruby); in brace languages its `{` does, and `} else {` must not leave a level open.
    let elseOpens = false;
    if (i < row.length && (row[i].type === 'else' || row[i].type === 'kw-mid')) elseOpens = close(row[i].type) > 0;
    levels.set(row[0].row, new Set(stack.map((s) => s.row)).size);
    for (const [k, leaf] of row.slice(i).entries()) {
      if (leaf.type === 'else') {
        if (k > 0) elseOpens = close(leaf.type) > 0;
        if (elseOpens) stack.push({ type: leaf.type, row: leaf.row });
        continue;
      }
      if (CLOSES[leaf.type] && leaf.type !== 'kw-mid') close(leaf.type);
      if (OPENERS.has(leaf.type)) stack.push({ type: leaf.type, row: leaf.row });
    }
  }
  return levels;
}

const CONTROL_STATEMENT = /^(if|else|elif|for|foreach|while|do)(_[a-z]+)*$/;
/**
 * A switch's case, whose statements sit one level deeper than its label (Go's style puts the
 * labels at the switch's own level instead, so its cases are not listed).
 */
const CASE_WITH_BODY = /^(switch_case|switch_default|case_statement|switch_block_statement_group|switch_section)$/;

/**
 * Levels no bracket opened: a statement that is the body of an `if` / loop without braces is
 * indented one deeper than its header, and a case's statements one deeper than its label.
 */
function bracelessBodyLevel(tree: Tree, leaf: Leaf): number {
  let top: Node | null = tree.rootNode.descendantForIndex(leaf.start, leaf.end);
  while (top?.parent && top.parent.startPosition.row === leaf.row) top = top.parent;
  const parent = top?.parent;
  if (!top || !parent) return 0;
  // Ruby's `while … do … end` nodes carry these names too, but their `end` (a keyword) opened the level already.
  const braceless = CONTROL_STATEMENT.test(parent.type) && !isEndedByKeyword(parent);
  let level = top.isNamed && !BLOCK_KINDS.has(top.type) && braceless && parent.startPosition.row < leaf.row ? 1 : 0;
  // Every line of a case's body, however deep in its brackets, is a level in from the label.
  for (let n: Node | null = parent; n; n = n.parent) if (CASE_WITH_BODY.test(n.type) && n.startPosition.row < leaf.row) level++;
  return level;
}

/** Whether a token of the same kind on the row above or below starts in the same column as `leaf` (`=` under `=`). */
function alignedWithNeighbour(byRow: Map<number, Leaf[]>, window: TextWindow, leaf: Leaf): boolean {
  const column = leaf.start - (window.lineStarts[leaf.row] ?? 0);
  return [leaf.row - 1, leaf.row + 1].some((row) =>
    byRow.get(row)?.some((other) => other.type === leaf.type && other.start - (window.lineStarts[row] ?? 0) === column),
  );
}

/** Languages where indentation is syntax: changing it changes the program, so it is never "style". */
const INDENTATION_IS_SYNTAX = new Set(['python']);

/**
 * Share of lines in `region` whose layout breaks the style of the code around them: indentation
 * that does not follow the nesting (lines of one level indented differently, or a deeper level
 * not indented further), or irregular spacing between tokens on a line.
 */
export function formatIrregularity(tree: Tree, window: TextWindow, region: Span, languageId: string): number {
  const leaves = leavesIn(tree, region);
  const byRow = new Map<number, Leaf[]>();
  for (const leaf of leaves) {
    const row = byRow.get(leaf.row) ?? [];
    row.push(leaf);
    byRow.set(leaf.row, row);
  }
  if (byRow.size === 0) return 0;
  const levels = levelsByRow([...byRow.values()]);
  const checkIndent = !INDENTATION_IS_SYNTAX.has(languageId);
  const lines: { row: number; indent: number; level: number; spacingOdd: boolean }[] = [];
  for (const [row, rowLeaves] of byRow) {
    const lineStart = window.lineStarts[row] ?? 0;
    const first = rowLeaves[0];
    // A line that starts inside a multi-line string or comment has no layout of its own.
    if (first.start < lineStart) continue;
    const lineTextUpToLeaf = window.text.slice(lineStart, first.start);
    if (lineTextUpToLeaf.trim()) continue;
    let spacingOdd = false;
    // The space just inside each open bracket: `( a )` is a style, `(self )` is not.
    const insideOpen: number[] = [];
    for (let i = 1; i < rowLeaves.length; i++) {
      const a = rowLeaves[i - 1];
      const b = rowLeaves[i];
      if (b.row !== a.row || isCommentKind(b.type)) continue;
      const gap = b.start - a.end;
      if (a.type === '(' || a.type === '[') insideOpen.push(gap);
      if ((b.type === ')' || b.type === ']') && insideOpen.length && (insideOpen.pop() === 0) !== (gap === 0)) spacingOdd = true;
      if ((b.type === ',' || b.type === ';') && gap > 0) spacingOdd = true;
      // A wide gap that lines a token up with one on the line above or below is alignment, a style.
      if ((gap >= 2 && !alignedWithNeighbour(byRow, window, b)) || (a.type === ',' && gap === 0)) spacingOdd = true;
      if (SPACED_OPERATORS.has(b.type) && i + 1 < rowLeaves.length && rowLeaves[i + 1].row === b.row) {
        const after = rowLeaves[i + 1].start - b.end;
        if ((gap === 0) !== (after === 0)) spacingOdd = true;
      }
    }
    const level = (levels.get(row) ?? 0) + (checkIndent ? bracelessBodyLevel(tree, first) : 0);
    lines.push({ row, indent: indentWidth(lineTextUpToLeaf), level, spacingOdd });
  }
  if (lines.length === 0) return 0;
  // The usual indentation of each level, and levels that are not indented deeper than the one above.
  const modal = new Map<number, number>();
  const counts = new Map<string, number>();
  for (const l of lines) counts.set(`${l.level}:${l.indent}`, (counts.get(`${l.level}:${l.indent}`) ?? 0) + 1);
  for (const [key, count] of counts) {
    const [level, indent] = key.split(':').map(Number);
    const best = modal.get(level);
    if (best === undefined || count > (counts.get(`${level}:${best}`) ?? 0)) modal.set(level, indent);
  }
  const odd = lines.filter((l) => {
    const expected = modal.get(l.level) ?? l.indent;
    const outer = modal.get(l.level - 1);
    if (l.spacingOdd) return true;
    return checkIndent && (l.indent !== expected || (outer !== undefined && l.indent <= outer));
  }).length;
  return odd / lines.length;
}

/** The outermost function (or method) around `offset`: where a fix for a nearby error would go. */
export function outermostFunction(tree: Tree, offset: number): Span | undefined {
  let found: Span | undefined;
  for (let n: Node | null = tree.rootNode.descendantForIndex(offset); n; n = n.parent) {
    if (FUNCTION_KINDS.has(n.type)) found = { start: n.startIndex, end: n.endIndex };
  }
  return found;
}
