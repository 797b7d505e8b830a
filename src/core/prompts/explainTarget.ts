import type { RequestContext } from '../context/requestContext';
import { LineIndex } from '../context/textOffsets';
import { findEnclosingUnit } from '../classify/enclosingUnit';
import type { TreeSitterLoader } from '../classify/treeSitterLoader';

/** The code an explanation is about, and where it came from. */
export interface ExplainTarget {
  code: string;
  /** Zero-based document lines, inclusive. */
  startLine: number;
  endLine: number;
  source: 'selection' | 'enclosing-unit' | 'lines-around-cursor';
  /** The unit's node kind and name when tree-sitter found one. */
  unitKind?: string;
  unitName?: string;
}

/** Lines either side of the cursor when there is no selection and no enclosing unit. */
const CONTEXT_LINES = 20;

/**
 * What to explain: the selection; with none, the function or class around the cursor
 * (tree-sitter); with neither, the lines around the cursor.
 */
export async function findExplainTarget(ctx: RequestContext, parser: TreeSitterLoader): Promise<ExplainTarget> {
  const index = new LineIndex(ctx.text);
  const toLocal = (line: number) => line - ctx.textStartLine;
  const start = index.offsetAt({ line: toLocal(ctx.selection.start.line), character: ctx.selection.start.character });
  const end = index.offsetAt({ line: toLocal(ctx.selection.end.line), character: ctx.selection.end.character });
  if (ctx.text.slice(start, end).trim().length > 0) {
    return {
      code: ctx.text.slice(start, end),
      startLine: ctx.selection.start.line,
      endLine: ctx.selection.end.line,
      source: 'selection',
    };
  }
  const parsed = await parser.parse(ctx.languageId, ctx.text);
  if (parsed) {
    try {
      const unit = findEnclosingUnit(parsed.tree, start, end);
      if (unit) {
        // Start at the unit's line so the explanation sees its indentation and leading modifiers.
        const unitStart = index.positionAt(unit.startIndex);
        const from = index.offsetAt({ line: unitStart.line, character: 0 });
        return {
          code: ctx.text.slice(from, unit.endIndex),
          startLine: unitStart.line + ctx.textStartLine,
          endLine: index.positionAt(unit.endIndex).line + ctx.textStartLine,
          source: 'enclosing-unit',
          unitKind: unit.kind,
          unitName: unit.name,
        };
      }
    } finally {
      parsed.tree.delete();
    }
  }
  const cursorLine = toLocal(ctx.selection.active.line);
  const firstLine = Math.max(0, cursorLine - CONTEXT_LINES);
  const lastLine = Math.min(index.lineCount - 1, cursorLine + CONTEXT_LINES);
  const from = index.offsetAt({ line: firstLine, character: 0 });
  const to = index.offsetAt({ line: lastLine, character: Number.MAX_SAFE_INTEGER });
  return {
    code: ctx.text.slice(from, to),
    startLine: firstLine + ctx.textStartLine,
    endLine: lastLine + ctx.textStartLine,
    source: 'lines-around-cursor',
  };
}
