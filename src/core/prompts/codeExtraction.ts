/**
 * Code out of a model's answer. The answer is only ever read as text: nothing here evaluates it,
 * and the caller shows the result as a diff, never as HTML.
 */

export interface ExtractedCode {
  code: string;
  /** `fence`: from a fenced block; `whole`: the answer had no fence and read as code throughout. */
  from: 'fence' | 'whole';
}

interface FencedBlock {
  lines: string[];
}

const OPENING_FENCE = /^(\s*)(`{3,}|~{3,})(.*)$/;

/** Fenced blocks in Markdown order; the last one may run to the end when its closing fence is missing. */
function fencedBlocks(answer: string): FencedBlock[] {
  const blocks: FencedBlock[] = [];
  const lines = answer.split(/\r?\n/);
  let i = 0;
  while (i < lines.length) {
    const open = OPENING_FENCE.exec(lines[i]);
    // A backtick fence's info string cannot hold a backtick (CommonMark), so "```x```" is inline code.
    if (!open || (open[2][0] === '`' && open[3].includes('`'))) {
      i++;
      continue;
    }
    const [, indent, marks] = open;
    const closing = new RegExp(`^\\s*${marks[0] === '`' ? '`' : '~'}{${marks.length},}\\s*$`);
    const body: string[] = [];
    i++;
    while (i < lines.length && !closing.test(lines[i])) {
      // Content of an indented fence (a list item, say) loses that indentation, as in CommonMark.
      body.push(lines[i].startsWith(indent) ? lines[i].slice(indent.length) : lines[i].trimStart());
      i++;
    }
    i++;
    blocks.push({ lines: body });
  }
  return blocks;
}

/** A first line that reads as a sentence to a person, not as code ("Here is the fix:"). */
function looksLikeProse(line: string): boolean {
  const t = line.trim();
  if (!/^[A-Z]/.test(t) || /[;{}=<>[\]()`$#|\\"]/.test(t)) return false;
  return t.split(/\s+/).length >= 3 || /[.!?:]$/.test(t);
}

function withoutTrailingNewlines(code: string): string {
  return code.replace(/(\r?\n)+$/, '');
}

/**
 * The code in a model's answer: the longest fenced block (the first of equally long ones), with
 * ``` or ~~~ fences of any length; with no fence, the whole answer when it does not open with a
 * sentence; otherwise undefined.
 */
export function extractCode(answer: string): ExtractedCode | undefined {
  const blocks = fencedBlocks(answer);
  if (blocks.length > 0) {
    const size = (b: FencedBlock) => b.lines.join('\n').trim().length;
    const best = blocks.reduce((a, b) => (size(b) > size(a) ? b : a));
    return { code: withoutTrailingNewlines(best.lines.join('\n')), from: 'fence' };
  }
  const firstLine = answer.split(/\r?\n/).find((line) => line.trim().length > 0);
  if (firstLine === undefined || looksLikeProse(firstLine)) return undefined;
  return { code: withoutTrailingNewlines(answer.replace(/^(\s*\r?\n)+/, '')), from: 'whole' };
}

/** The whitespace all non-blank lines of `text` start with. */
export function commonIndent(text: string): string {
  let common: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim().length === 0) continue;
    const indent = /^[ \t]*/.exec(line)?.[0] ?? '';
    if (common === undefined) {
      common = indent;
      continue;
    }
    let n = 0;
    while (n < common.length && n < indent.length && common[n] === indent[n]) n++;
    common = common.slice(0, n);
  }
  return common ?? '';
}

/**
 * `code` with `targetIndent` as its base indentation. Models often drop (or invent) the base
 * indentation of code cut from inside a block; relative indentation is kept, blank lines are emptied.
 */
export function reindent(code: string, targetIndent: string): string {
  const current = commonIndent(code);
  if (current === targetIndent) return code;
  return code
    .split('\n')
    .map((line) => (line.trim().length === 0 ? '' : targetIndent + line.slice(current.length)))
    .join('\n');
}
