import type { Node, Tree } from 'web-tree-sitter';

/**
 * The syntax check of a multi-line completion, with tree-sitter: the code around the cursor is
 * parsed with the completion in place, and a completion that breaks it is cut back to the lines
 * that do not. Errors the user's code already had (a half-typed line, an unclosed block further
 * down) are not the completion's fault and do not count. Indentation and brackets have already
 * stopped the completion at the end of its block (`postprocess.ts`); this catches what they
 * cannot see: a model that runs on into a second, broken statement, or closes one bracket too many.
 */

/** Parses `text` in `languageId`; undefined when there is no grammar or the parse was capped. The caller deletes the tree. */
export type ParseText = (languageId: string, text: string) => Promise<Tree | undefined>;

/** Lines of context on each side: enough for the enclosing unit of most code, small enough to parse in well under a millisecond. */
const LINES_BEFORE = 60;
const LINES_AFTER = 30;
/** Completions cut back line by line from the end at most this many times (one parse each). */
const MAX_TRIMS = 3;

export interface SyntaxStopInput {
  completion: string;
  prefix: string;
  suffix: string;
  languageId: string;
  parse: ParseText;
}

export interface SyntaxStopResult {
  text: string;
  /** How the tree judged it: no grammar, no new error, or cut (and where). */
  verdict: 'unparsed' | 'clean' | 'cut-at-error' | 'trimmed-end' | 'kept';
  parses: number;
}

function lastLines(text: string, count: number): string {
  let at = text.length;
  for (let i = 0; i < count && at > 0; i++) at = text.lastIndexOf('\n', at - 1);
  return at <= 0 ? text : text.slice(at + 1);
}

function firstLines(text: string, count: number): string {
  let at = -1;
  for (let i = 0; i < count; i++) {
    at = text.indexOf('\n', at + 1);
    if (at < 0) return text;
  }
  return text.slice(0, at);
}

/** Start offsets of the ERROR and MISSING nodes at or after `from`, in document order. */
function errorsFrom(tree: Tree, from: number): number[] {
  const found: number[] = [];
  const visit = (node: Node) => {
    if (!node.hasError && !node.isMissing) return;
    if (node.endIndex < from && !node.isMissing) return;
    if ((node.isError || node.isMissing) && node.startIndex >= from) {
      found.push(node.startIndex);
      return;
    }
    for (const child of node.children) if (child) visit(child);
  };
  visit(tree.rootNode);
  return found.sort((a, b) => a - b);
}

async function errorsAfter(input: SyntaxStopInput, before: string, completion: string, after: string): Promise<number[] | undefined> {
  const tree = await input.parse(input.languageId, before + completion + after);
  if (!tree) return undefined;
  try {
    return errorsFrom(tree, before.length);
  } finally {
    tree.delete();
  }
}

export async function stopAtSyntaxError(input: SyntaxStopInput): Promise<SyntaxStopResult> {
  const { completion } = input;
  if (!completion.includes('\n')) return { text: completion, verdict: 'clean', parses: 0 };
  const before = lastLines(input.prefix, LINES_BEFORE);
  const after = firstLines(input.suffix, LINES_AFTER);
  const errors = await errorsAfter(input, before, completion, after);
  if (!errors) return { text: completion, verdict: 'unparsed', parses: 1 };
  if (errors.length === 0) return { text: completion, verdict: 'clean', parses: 1 };

  // An error inside the completion: keep the lines before the one it starts on (always the first).
  const insideAt = errors.find((e) => e < before.length + completion.length);
  if (insideAt !== undefined) {
    const cut = completion.lastIndexOf('\n', insideAt - before.length - 1);
    const firstLineEnd = completion.indexOf('\n');
    const text = completion.slice(0, Math.max(cut, firstLineEnd)).trimEnd();
    return { text, verdict: 'cut-at-error', parses: 1 };
  }

  // Errors only in the text after it: the completion's fault only if that text parsed without them.
  const without = await errorsAfter(input, before, '', after);
  if (!without) return { text: completion, verdict: 'unparsed', parses: 2 };
  if (without.length >= errors.length) return { text: completion, verdict: 'kept', parses: 2 };
  let text = completion;
  for (let trim = 0; trim < MAX_TRIMS; trim++) {
    const lastBreak = text.lastIndexOf('\n');
    if (lastBreak <= 0) break;
    text = text.slice(0, lastBreak).trimEnd();
    const now = await errorsAfter(input, before, text, after);
    if (now && now.length <= without.length) return { text, verdict: 'trimmed-end', parses: 3 + trim };
  }
  return { text: completion, verdict: 'kept', parses: 2 + MAX_TRIMS };
}
