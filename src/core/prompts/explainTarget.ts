import type { Classification } from '../classify/classification';
import type { RequestContext } from '../context/requestContext';
import { LineIndex } from '../context/textOffsets';

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
 * What to explain: the selection; with none, the function or class around the cursor (as the
 * classifier found it in the syntax tree); with neither, the lines around the cursor.
 */
export function findExplainTarget(ctx: RequestContext, classification: Classification): ExplainTarget {
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
  const lines = (first: number, last: number) =>
    ctx.text.slice(
      index.offsetAt({ line: toLocal(first), character: 0 }),
      index.offsetAt({ line: toLocal(last), character: Number.MAX_SAFE_INTEGER }),
    );
  const { unit } = classification.features;
  if (unit && unit.kind !== 'lines') {
    return {
      code: lines(unit.startLine, unit.endLine),
      startLine: unit.startLine,
      endLine: unit.endLine,
      source: 'enclosing-unit',
      unitKind: unit.kind,
      unitName: unit.name,
    };
  }
  const cursorLine = ctx.selection.active.line;
  const firstLine = Math.max(ctx.textStartLine, cursorLine - CONTEXT_LINES);
  const lastLine = Math.min(ctx.textStartLine + index.lineCount - 1, cursorLine + CONTEXT_LINES);
  return { code: lines(firstLine, lastLine), startLine: firstLine, endLine: lastLine, source: 'lines-around-cursor' };
}
