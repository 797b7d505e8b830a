import { codeOfLine } from '../classify/textFeatures';
import { extractCode } from '../prompts/codeExtraction';

/**
 * Turns a model's raw inline completion into the text to insert at the cursor. Everything here
 * works on plain text: the completion is never evaluated, and an unusable one becomes ''.
 */

/** `complete-line`: finish the cursor's line; `complete-block`: finish the unit the cursor is in. */
export type CompletionMode = 'complete-line' | 'complete-block';

export interface PostprocessInput {
  /** What the model produced. */
  completion: string;
  /** The document's text before and after the cursor (a window of it is enough). */
  prefix: string;
  suffix: string;
  mode: CompletionMode;
  languageId: string;
  /** True for a chat model's answer, which may carry fences, echo the line, or start at column 0. */
  fromChat?: boolean;
  /** The cursor marker the chat prompt used, removed when the model echoes it. */
  marker?: string;
}

const OPENERS = '([{';
const CLOSERS = ')]}';
const PAIR: Readonly<Record<string, string>> = { ')': '(', ']': '[', '}': '{' };

/** Languages whose blocks are opened by a trailing colon and closed by indentation. */
const INDENT_BLOCK_LANGUAGES = new Set(['python']);

export function postprocessCompletion(input: PostprocessInput): string {
  let text = input.completion.replace(/\r\n?/g, '\n');
  if (input.marker) text = text.split(input.marker).join('');
  text = stripFence(text);
  const linePrefix = input.prefix.slice(input.prefix.lastIndexOf('\n') + 1);
  if (input.fromChat) text = withoutEchoedLinePrefix(text, linePrefix);
  text = reindent(text, input.prefix, linePrefix, input.fromChat ?? false);
  text = input.mode === 'complete-line' ? stopAtLineEnd(text, linePrefix, input.suffix, input.languageId) : stopAtBlockEnd(text, linePrefix, input.languageId);
  text = removeSuffixOverlap(text, input.prefix, input.suffix, input.languageId);
  text = trimTrailing(text, input.suffix);
  if (text.trim().length === 0) return '';
  if (repeatsLineBefore(text, input.prefix, linePrefix)) return '';
  return text;
}

/** The code inside a Markdown fence a chat model wrapped its answer in; other text unchanged. */
export function stripFence(text: string): string {
  const open = /^\s*(`{3,}|~{3,})[^\n`]*\n/.exec(text);
  if (open) {
    const marks = open[1];
    const body = text.slice(open[0].length);
    const close = new RegExp(`(^|\\n)[ \\t]*\\${marks[0]}{${marks.length},}[ \\t]*(\\n|$)`).exec(body);
    return close ? body.slice(0, close.index) : body;
  }
  // A fence after a sentence ("Here is the code:"): take the fenced block.
  if (/(^|\n)[ \t]*(`{3,}|~{3,})/.test(text)) {
    const extracted = extractCode(text);
    if (extracted?.from === 'fence') return extracted.code;
  }
  return text;
}

/** A chat model often repeats the start of the cursor's line; the editor already has it. */
function withoutEchoedLinePrefix(text: string, linePrefix: string): string {
  const typed = linePrefix.trim();
  if (typed.length === 0) return text;
  const start = text.length - text.trimStart().length;
  if (!text.startsWith(typed, start)) return text;
  const rest = text.slice(start + typed.length);
  // The editor's line already ends with the space the echo had after it.
  return /[ \t]$/.test(linePrefix) ? rest.replace(/^[ \t]+/, '') : rest;
}

// ---------------------------------------------------------------------------------------------
// Indentation

function leadingWhitespace(line: string): string {
  return /^[ \t]*/.exec(line)?.[0] ?? '';
}

/** Display width of an indentation, a tab counting as `tabSize` columns. */
export function indentWidth(line: string, tabSize = 4): number {
  let width = 0;
  for (const ch of leadingWhitespace(line)) width += ch === '\t' ? tabSize : 1;
  return width;
}

function isBlank(line: string): boolean {
  return line.trim().length === 0;
}

/**
 * `\t` when indented lines mostly start with a tab; else spaces, as many as the most frequent
 * step from one line's indentation to the next (so a ` * ` comment line does not count as a
 * level); undefined when no line is indented.
 */
export function detectIndentUnit(text: string): string | undefined {
  let tabs = 0;
  let spaces = 0;
  const steps = new Map<number, number>();
  let previous = 0;
  for (const line of text.split('\n')) {
    if (isBlank(line)) continue;
    if (line.startsWith('\t')) tabs++;
    else if (line.startsWith(' ')) spaces++;
    const width = indentWidth(line);
    const step = width - previous;
    if (step >= 2 && step <= 8 && !line.startsWith('\t')) steps.set(step, (steps.get(step) ?? 0) + 1);
    previous = width;
  }
  if (tabs === 0 && spaces === 0) return undefined;
  if (tabs > spaces) return '\t';
  let best = 4;
  let bestCount = 0;
  for (const [step, count] of steps) {
    if (count > bestCount || (count === bestCount && step < best)) {
      best = step;
      bestCount = count;
    }
  }
  return ' '.repeat(best);
}

/**
 * The completion's following lines in the document's indentation style: tabs become spaces or
 * spaces tabs when the model chose the other. A chat model that wrote its lines from column 0
 * gets them moved to the cursor line's indentation.
 */
export function reindent(text: string, prefix: string, linePrefix: string, fromChat: boolean): string {
  const lines = text.split('\n');
  if (lines.length < 2) return text;
  const cursorIndent = isBlank(linePrefix) ? linePrefix : leadingWhitespace(linePrefix);
  const detected = detectIndentUnit(prefix);
  // The cursor's line says which style the file uses; the rest of the prefix says how wide a level is.
  const docUsesTabs = cursorIndent.length > 0 ? cursorIndent.includes('\t') : detected === '\t';
  const docUnit = docUsesTabs ? '\t' : cursorIndent.length > 0 || detected ? (detected && detected !== '\t' ? detected : '    ') : undefined;
  const following = lines.slice(1);
  const indented = following.filter((l) => !isBlank(l) && /^[ \t]/.test(l));
  const ownUsesTabs = indented.length > 0 ? indented.filter((l) => l.startsWith('\t')).length * 2 > indented.length : undefined;
  let out = following;
  if (docUnit && ownUsesTabs !== undefined && (docUnit === '\t') !== ownUsesTabs) {
    const ownUnit = ownUsesTabs ? '\t' : spaceUnitOf(following, docUnit === '\t' ? cursorIndent.length : 0);
    out = following.map((line) => convertIndent(line, ownUnit, docUnit));
  }
  if (fromChat && indentWidth(cursorIndent) > 0) {
    // A chat model writes its answer as if it started at column 0; ours starts at the cursor.
    const nonBlank = out.filter((l) => !isBlank(l));
    const least = Math.min(...nonBlank.map((l) => indentWidth(l)));
    // At the cursor's own width the lines are relative only if the first line opened a block for them.
    const opensBlock = /[:{([]$/.test(lines[0].trimEnd());
    if (nonBlank.length > 0 && (least < indentWidth(cursorIndent) || (least === indentWidth(cursorIndent) && opensBlock))) {
      out = out.map((l) => (isBlank(l) ? l : cursorIndent + l));
    }
  }
  return [lines[0], ...out].join('\n');
}

/**
 * How many spaces a level is in lines the model indented with spaces (absolute columns, so the
 * first line's width is not a step): 4, 2 or 8, whichever divides every width and puts the first
 * indented line within a level of the cursor line's level.
 */
function spaceUnitOf(lines: string[], cursorLevel: number): string {
  const widths = lines.filter((l) => !isBlank(l)).map((l) => leadingWhitespace(l).length);
  const first = widths.find((w) => w > 0) ?? 0;
  const fits = (unit: number) => widths.every((w) => w % unit === 0) && Math.abs(first / unit - cursorLevel) <= 1;
  return ' '.repeat([4, 2, 8].find(fits) ?? 4);
}

function convertIndent(line: string, from: string, to: string): string {
  const ws = leadingWhitespace(line);
  const rest = line.slice(ws.length);
  if (to === '\t') {
    const width = indentWidth(ws, from.length);
    return '\t'.repeat(Math.floor(width / from.length)) + ' '.repeat(width % from.length) + rest;
  }
  const tabs = /^\t*/.exec(ws)?.[0].length ?? 0;
  return to.repeat(tabs) + ws.slice(tabs).replace(/\t/g, to) + rest;
}

// ---------------------------------------------------------------------------------------------
// Brackets

/** Brackets of `text` still open at its end (innermost last), and how many closers had no opener. */
function bracketState(text: string, languageId: string): { open: string[]; unmatched: number } {
  const open: string[] = [];
  let unmatched = 0;
  for (const line of text.split('\n')) {
    for (const ch of codeOfLine(line, languageId)) {
      if (OPENERS.includes(ch)) open.push(ch);
      else if (CLOSERS.includes(ch)) {
        if (open.length > 0 && open[open.length - 1] === PAIR[ch]) open.pop();
        else unmatched++;
      }
    }
  }
  return { open, unmatched };
}

/** Net bracket depth change of one line. */
function depthDelta(line: string, languageId: string): number {
  let delta = 0;
  for (const ch of codeOfLine(line, languageId)) {
    if (OPENERS.includes(ch)) delta++;
    else if (CLOSERS.includes(ch)) delta--;
  }
  return delta;
}

const CLOSING_LINE = /^[ \t]*[)\]}]/;

// ---------------------------------------------------------------------------------------------
// Where to stop

/**
 * The completion's first line. When that line leaves a bracket open that the rest of the
 * document's line does not close, and the model closed it on its next line, the closers join it.
 * At the end of a finished line, where the model starts with a line break, it is the next line.
 */
export function stopAtLineEnd(text: string, linePrefix: string, suffix: string, languageId: string): string {
  const lines = text.split('\n');
  const first = lines[0];
  if (lines.length === 1) return first;
  const restOfLine = suffix.split('\n', 1)[0];
  // At the end of a finished line the model starts a new one: that next line is the completion.
  if (isBlank(first) && !isBlank(linePrefix) && isBlank(restOfLine)) {
    const next = lines.findIndex((l, i) => i > 0 && !isBlank(l));
    return next > 0 ? `\n${lines[next]}` : '';
  }
  const open = bracketState(linePrefix + first, languageId).open;
  // Closers already after the cursor close the innermost brackets first.
  for (const ch of codeOfLine(restOfLine, languageId)) {
    if (CLOSERS.includes(ch) && open.length > 0 && open[open.length - 1] === PAIR[ch]) open.pop();
  }
  if (open.length === 0) return first;
  const next = lines.slice(1).find((l) => !isBlank(l))?.trim();
  const closing = next ? /^([)\]}]+)([;,]?)$/.exec(next) : null;
  if (!closing) return first;
  const needed = [...open];
  for (const ch of closing[1]) {
    if (needed.pop() !== PAIR[ch]) return first;
  }
  return first + next;
}

/**
 * The completion up to the end of the syntactic unit at the cursor. When the cursor's line opens
 * a block (a trailing `:` in Python, an unclosed bracket elsewhere), the unit is that block, up
 * to its closing line; otherwise it is the rest of the enclosing block, which ends at the first
 * line indented less than the cursor's line or at a closer of a bracket opened before the cursor.
 */
export function stopAtBlockEnd(text: string, linePrefix: string, languageId: string): string {
  const lines = text.split('\n');
  if (lines.length === 1) return text;
  const cursorLine = linePrefix + lines[0];
  const base = indentWidth(cursorLine);
  const indentBlocks = INDENT_BLOCK_LANGUAGES.has(languageId);
  const cursorDelta = depthDelta(cursorLine, languageId);
  const opensBlock = cursorDelta > 0 || (indentBlocks && codeOfLine(cursorLine, languageId).trimEnd().endsWith(':'));
  // Depth counts from the end of the cursor's line: brackets it opened, or none.
  let depth = Math.max(0, cursorDelta);
  let end = lines.length;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (isBlank(line)) continue;
    const width = indentWidth(line);
    const delta = depthDelta(line, languageId);
    if (opensBlock) {
      if (width <= base) {
        if (CLOSING_LINE.test(line) && depth > 0) {
          depth += delta;
          // `} else {` closes and reopens: the unit goes on.
          if (depth > 0) continue;
          end = i + 1;
          break;
        }
        if (indentBlocks && width === base && /^\s*(elif|else|except|finally)\b/.test(line)) continue;
        end = i;
        break;
      }
    } else {
      if (width < base || (CLOSING_LINE.test(line) && depth + Math.min(0, leadingCloserDelta(line)) < 0)) {
        end = i;
        break;
      }
    }
    depth += delta;
  }
  return lines.slice(0, end).join('\n');
}

/** How far the closers at the start of a line take the depth down. */
function leadingCloserDelta(line: string): number {
  return -(/^[ \t]*([)\]}]+)/.exec(line)?.[1].length ?? 0);
}

// ---------------------------------------------------------------------------------------------
// Overlap with the text after the cursor

/**
 * The completion without what the document already has after the cursor: from the first of its
 * lines that repeats the suffix's next line, and then the longest end of it that equals the
 * start of the suffix (unless dropping it would leave brackets unbalanced, as when `foo(a)` is
 * typed before a `)` that closes an outer call).
 */
export function removeSuffixOverlap(text: string, prefix: string, suffix: string, languageId: string): string {
  const lines = text.split('\n');
  const suffixLines = suffix.split('\n');
  const nextSuffixLine = suffixLines.slice(1).find((l) => !isBlank(l));
  if (nextSuffixLine !== undefined) {
    const repeat = lines.findIndex((line, i) => i > 0 && !isBlank(line) && line.trimEnd() === nextSuffixLine.trimEnd());
    if (repeat > 0) text = lines.slice(0, repeat).join('\n');
  }
  const before = prefix.slice(-2000);
  const after = suffix.slice(0, 2000);
  const unmatched = (t: string) => {
    const state = bracketState(before + t + after, languageId);
    return state.unmatched + state.open.length;
  };
  const withOverlap = unmatched(text);
  for (let k = Math.min(text.length, suffix.length); k > 0; k--) {
    const overlap = suffix.slice(0, k);
    if (!text.endsWith(overlap) || isBlank(overlap)) continue;
    // One letter is as likely a coincidence as a repeat.
    if (k === 1 && /\w/.test(overlap)) continue;
    const without = text.slice(0, text.length - k);
    if (unmatched(without) <= withOverlap) return without;
  }
  return text;
}

// ---------------------------------------------------------------------------------------------
// Final checks

function trimTrailing(text: string, suffix: string): string {
  const trimmed = text.replace(/(\n[ \t]*)+$/, '');
  const restOfLine = suffix.split('\n', 1)[0];
  return isBlank(restOfLine) ? trimmed.replace(/[ \t]+$/, '') : trimmed;
}

/** A completion that only repeats the line above the cursor. */
function repeatsLineBefore(text: string, prefix: string, linePrefix: string): boolean {
  const lines = prefix.split('\n');
  if (lines.length < 2) return false;
  const before = lines[lines.length - 2].trim();
  if (before.length === 0) return false;
  const written = (linePrefix + text).trim();
  return written === before;
}
