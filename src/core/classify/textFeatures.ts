import { CLOSING_TOKENS } from './nodeKinds';
import { lineText, type TextWindow } from './textWindow';

/** Line-comment markers by language id; languages that use `//` also get C-style block comments. */
const LINE_COMMENT: Readonly<Record<string, string[]>> = {
  python: ['#'],
  shellscript: ['#'],
  ruby: ['#'],
  perl: ['#'],
  r: ['#'],
  yaml: ['#'],
  toml: ['#'],
  makefile: ['#'],
  dockerfile: ['#'],
  powershell: ['#'],
  elixir: ['#'],
  coffeescript: ['#'],
  julia: ['#'],
  nim: ['#'],
  sql: ['--'],
  lua: ['--'],
  haskell: ['--'],
  ada: ['--'],
  elm: ['--'],
  clojure: [';'],
  lisp: [';'],
  scheme: [';'],
  ini: [';', '#'],
  latex: ['%'],
  tex: ['%'],
  erlang: ['%'],
  matlab: ['%'],
  vb: ["'"],
  fortran: ['!'],
  php: ['//', '#'],
};

export function lineCommentMarkers(languageId: string): string[] {
  return LINE_COMMENT[languageId] ?? ['//'];
}

const usesBlockComments = (languageId: string) => (LINE_COMMENT[languageId] ?? ['//']).includes('//');

/** Indentation in columns; a tab advances to the next multiple of 8, as in files that mix tabs and spaces. */
export function indentWidth(line: string): number {
  let width = 0;
  for (const ch of line) {
    if (ch === ' ') width += 1;
    else if (ch === '\t') width = (Math.floor(width / 8) + 1) * 8;
    else break;
  }
  return width;
}

export function isBlank(line: string): boolean {
  return line.trim().length === 0;
}

/** Whether a line, on its own, is a comment (by the language's markers). */
export function isCommentLine(line: string, languageId: string): boolean {
  const t = line.trim();
  if (!t) return false;
  if (lineCommentMarkers(languageId).some((m) => t.startsWith(m))) return true;
  if (usesBlockComments(languageId) && (t.startsWith('/*') || t.startsWith('*') || t.endsWith('*/'))) return true;
  return languageId === 'python' && (t.startsWith('"""') || t.startsWith("'''"));
}

const OPENER = /(\{|:|\bdo|\bthen|\belse|=>|->|\bbegin)\s*$/;

/**
 * Whether the cursor's blank line sits in a block with nothing in it yet: the line above opens a
 * block (or is the unit's header) and the next non-blank line closes it or steps back out.
 */
export function emptyBlockByText(window: TextWindow, cursorLine: number, unitHeaderLine?: number): boolean {
  if (!isBlank(lineText(window, cursorLine))) return false;
  let above = cursorLine - 1;
  while (above >= 0 && isBlank(lineText(window, above))) above--;
  if (above < 0) return false;
  const header = lineText(window, above);
  const opens = OPENER.test(header.replace(/\s*(\/\/|#).*$/, '')) || above === unitHeaderLine;
  if (!opens) return false;
  let below = cursorLine + 1;
  while (below < window.lineStarts.length && isBlank(lineText(window, below))) below++;
  if (below >= window.lineStarts.length) return true;
  const next = lineText(window, below);
  const firstToken = next.trim().split(/[\s;]/)[0];
  return CLOSING_TOKENS.has(firstToken) || next.trim().startsWith('}') || indentWidth(next) <= indentWidth(header);
}

/**
 * Walks the first `limit` characters of a line the way a tokenizer would, quote-aware: `code`
 * receives each character outside string literals, and the walk stops at a line-comment marker.
 */
function walkLine(line: string, limit: number, languageId: string, code?: (ch: string) => void): { inString: boolean; inComment: boolean } {
  const markers = lineCommentMarkers(languageId);
  let quote: string | undefined;
  for (let i = 0; i < Math.min(limit, line.length); i++) {
    const ch = line[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === '"' || ch === "'" || ch === '`') {
      quote = ch;
      continue;
    }
    if (markers.some((m) => line.startsWith(m, i))) return { inString: false, inComment: true };
    code?.(ch);
  }
  return { inString: quote !== undefined, inComment: false };
}

/** Quote-aware scan of a line: is `column` inside a string, or after a line-comment marker? */
export function scanLine(line: string, column: number, languageId: string): { inString: boolean; inComment: boolean } {
  return walkLine(line, column, languageId);
}

/** A line's code without its string literals and its trailing comment, for counting brackets. */
export function codeOfLine(line: string, languageId: string): string {
  let out = '';
  walkLine(line, line.length, languageId, (ch) => (out += ch));
  return out;
}

/** Whether `offset` is inside a C-style block comment in the window (text-only path). */
export function inBlockComment(text: string, offset: number, languageId: string): boolean {
  if (!usesBlockComments(languageId)) return false;
  const open = text.lastIndexOf('/*', offset - 1);
  if (open === -1) return false;
  const close = text.lastIndexOf('*/', offset - 1);
  return close < open;
}

/** Brackets that do not pair up in `text` (strings and line comments ignored): a text-only error signal. */
export function unbalancedBrackets(text: string, languageId: string): number {
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const stack: string[] = [];
  let errors = 0;
  for (const line of text.split('\n')) {
    let quote: string | undefined;
    const markers = lineCommentMarkers(languageId);
    for (let i = 0; i < line.length; i++) {
      const ch = line[i];
      if (quote) {
        if (ch === '\\') i++;
        else if (ch === quote) quote = undefined;
        continue;
      }
      if (ch === '"' || ch === "'" || ch === '`') quote = ch;
      else if (markers.some((m) => line.startsWith(m, i))) break;
      else if (ch === '(' || ch === '[' || ch === '{') stack.push(ch);
      else if (ch in pairs) {
        if (stack.at(-1) === pairs[ch]) stack.pop();
        else errors++;
      }
    }
  }
  return errors + stack.length;
}

/**
 * Share of lines whose spacing is irregular, from text alone: runs of several spaces between
 * tokens, or a comma glued to the next token.
 */
export function spacingIrregularity(lines: string[]): number {
  const considered = lines.filter((l) => !isBlank(l));
  if (considered.length === 0) return 0;
  const odd = considered.filter((l) => /\S {2,}[^\s/#*]/.test(l.trimStart()) || /,[^\s\n'"`)\]}]/.test(l)).length;
  return odd / considered.length;
}

const TOKEN = /[A-Za-z_$][\w$]*|\d[\w.]*|[^\s\w]/g;
const IDENTIFIER = /[A-Za-z_$][\w$]*/g;

export function countTokens(text: string): number {
  return text.match(TOKEN)?.length ?? 0;
}

export function countIdentifiers(text: string): number {
  return new Set(text.match(IDENTIFIER) ?? []).size;
}
