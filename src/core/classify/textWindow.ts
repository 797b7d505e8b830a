import { lineAtOffset } from '../context/textOffsets';
import { GUARDS } from './inputGuards';

/**
 * A slice of whole lines around the cursor: what gets parsed and analysed. Offsets are positions
 * in the window's `text`; `startLine` is its first line in the document.
 */
export interface TextWindow {
  text: string;
  startLine: number;
  /** True when the window starts at the document's first line / ends at its last. */
  atStart: boolean;
  atEnd: boolean;
  lineStarts: number[];
}

export function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** Offset in `window.text` of a document position (clamped to the window). */
export function windowOffset(window: TextWindow, line: number, character: number): number {
  const local = Math.min(Math.max(line - window.startLine, 0), window.lineStarts.length - 1);
  const start = window.lineStarts[local];
  const end = local + 1 < window.lineStarts.length ? window.lineStarts[local + 1] - 1 : window.text.length;
  return Math.min(start + Math.max(character, 0), end);
}

export function lineText(window: TextWindow, localLine: number): string {
  if (localLine < 0 || localLine >= window.lineStarts.length) return '';
  const start = window.lineStarts[localLine];
  const end = localLine + 1 < window.lineStarts.length ? window.lineStarts[localLine + 1] - 1 : window.text.length;
  return window.text.slice(start, end);
}

/**
 * A line that starts a top-level declaration (or closes one): a window that starts there does not
 * start inside a string, a comment or a function, which would turn the parse inside out.
 */
const TOP_LEVEL =
  /^(?:export\s|import\s|from\s|def\s|async\s+def\s|class\s|@\w|function[\s*]|const\s|let\s|var\s|interface\s|type\s|enum\s|namespace\s|module\s|public\s|private\s|protected\s|static\s|abstract\s|final\s|package\s|fn\s|pub\s|impl\s|struct\s|use\s|func\s|#include|#define|template\s*<|using\s|typedef\s|if\s+__name__|\}\s*;?\s*$)/;

/** An indented line that starts a method or nested definition. */
const MEMBER_START = /^[ \t]+(?:(?:async\s+)?def\s|class\s|@\w|(?:public|private|protected|internal|static|override|fn|pub|func|function)\s)/;

/** Lines searched upwards from the window's nominal start for a top-level line to start at. */
const SNAP_SEARCH_LINES = 200;

/**
 * Cuts the window around `[firstLine, lastLine]` (the cursor or selection) from `text`, whose first
 * line is `textStartLine` in the document. `lineStarts` may be passed when the caller has them.
 * The window's edges are snapped to multiples of 50 lines so that, while the user types, the
 * same window (and its cached tree) keeps serving the requests.
 */
/** How much of a document a window may hold: lines either side of the request, and characters at most. */
export interface WindowSize {
  linesBefore: number;
  linesAfter: number;
  maxChars: number;
}

const DEFAULT_WINDOW: WindowSize = { linesBefore: GUARDS.windowLinesBefore, linesAfter: GUARDS.windowLinesAfter, maxChars: GUARDS.maxWindowChars };

export function cutWindow(
  text: string,
  textStartLine: number,
  firstLine: number,
  lastLine: number,
  lineStarts: number[] = lineStartsOf(text),
  size: WindowSize = DEFAULT_WINDOW,
): TextWindow {
  const lines = lineStarts.length;
  const localFirst = Math.min(Math.max(firstLine - textStartLine, 0), lines - 1);
  const localLast = Math.min(Math.max(lastLine - textStartLine, localFirst), lines - 1);
  const offsetOf = (line: number) => lineStarts[line];
  const endOf = (line: number) => (line + 1 < lines ? lineStarts[line + 1] - 1 : text.length);
  // A text that fits is parsed whole: no cut can land inside a string or a function.
  if (text.length <= size.maxChars) {
    return { text, startLine: textStartLine, atStart: textStartLine === 0, atEnd: true, lineStarts };
  }
  let from = Math.max(0, Math.floor((localFirst - size.linesBefore) / 50) * 50);
  let to = Math.min(lines - 1, Math.ceil((localLast + size.linesAfter) / 50) * 50);
  let found = from === 0;
  for (let line = from; line > 0 && line >= from - SNAP_SEARCH_LINES; line--) {
    const head = text.slice(offsetOf(line), Math.min(endOf(line), offsetOf(line) + 40));
    if (TOP_LEVEL.test(head)) {
      from = head.startsWith('}') ? Math.min(line + 1, from) : line;
      found = true;
      break;
    }
  }
  // Deep in a long class no line starts at the margin: a method's first line is the next best
  // start (it is never inside a docstring or a block comment, as an arbitrary line may be).
  for (let line = from; !found && line > 0 && line >= from - SNAP_SEARCH_LINES; line--) {
    if (MEMBER_START.test(text.slice(offsetOf(line), Math.min(endOf(line), offsetOf(line) + 60)))) {
      from = line;
      found = true;
    }
  }
  // Narrow a window that is too large (long lines), keeping the request in the middle.
  const snapped = from;
  while (endOf(to) - offsetOf(from) > size.maxChars && (from < localFirst || to > localLast)) {
    const before = localFirst - from;
    const after = to - localLast;
    if (before >= after && from < localFirst) from += Math.max(1, Math.ceil(before / 4));
    else if (to > localLast) to -= Math.max(1, Math.ceil(after / 4));
    else break;
  }
  // A start moved by the narrowing may have landed inside a docstring or a comment: move it on
  // to the next top-level line or method start before the request, if there is one.
  for (let line = from; from !== snapped && line < localFirst; line++) {
    const head = text.slice(offsetOf(line), Math.min(endOf(line), offsetOf(line) + 40));
    if ((TOP_LEVEL.test(head) && !head.startsWith('}')) || MEMBER_START.test(text.slice(offsetOf(line), Math.min(endOf(line), offsetOf(line) + 60)))) {
      from = line;
      break;
    }
  }
  const start = offsetOf(from);
  const slice = text.slice(start, endOf(to));
  return {
    text: slice,
    startLine: from + textStartLine,
    atStart: from === 0 && textStartLine === 0,
    atEnd: to === lines - 1,
    lineStarts: lineStarts.slice(from, to + 1).map((offset) => offset - start),
  };
}

/** Zero-based line within the window of an offset in `window.text`. */
export function rowAt(window: TextWindow, offset: number): number {
  return lineAtOffset(window.lineStarts, offset);
}
