import type { Tree } from 'web-tree-sitter';
import { DIRECTIVE_HEADER_LINES, readFileDirectives, type FileDirectives } from '../policy/fileDirectives';
import { isCommentKind, isStringKind } from './nodeKinds';

/**
 * Lines of a file parsed when the header's own tree is unfinished (a function or a comment that
 * runs on past the header), so that the lines after it settle what the header holds.
 */
export const DIRECTIVE_CONTEXT_LINES = 300;

/** The first `lines` lines of `text`, and no more than `maxChars` characters. */
export function leadingLines(text: string, lines: number, maxChars: number): string {
  let end = 0;
  for (let line = 0; line < lines && end < text.length; line++) {
    const next = text.indexOf('\n', end);
    end = next === -1 ? text.length : next + 1;
  }
  return text.slice(0, Math.min(end, maxChars));
}

/** The part of a node's `text`, which starts on `row`, that lies in the first `lines` lines. */
function withinHeader(text: string, row: number, lines: number): string {
  return text.split('\n', lines - row).join('\n');
}

/**
 * The privacy directives written in the comments of `tree` that start in its first `lines` lines
 * (of a comment that runs past them, only the part within them counts, as for the text-only
 * reader). Words in a string literal are not a directive, nor is a comment inside a string (a
 * template substitution), just as the highlighting grammar leaves them unmarked.
 *
 * Undefined when those lines hold a syntax error (an ERROR or MISSING node): a comment cut off
 * there may have been parsed as code, so the tree cannot tell, and the caller reads the text.
 */
export function directivesInTree(tree: Tree, lines = DIRECTIVE_HEADER_LINES): FileDirectives | undefined {
  const texts: string[] = [];
  const cursor = tree.walk();
  try {
    for (;;) {
      const row = cursor.startPosition.row;
      const type = cursor.nodeType;
      if (row < lines) {
        if (type === 'ERROR' || cursor.nodeIsMissing) return undefined;
        const comment = isCommentKind(type);
        if (comment || isStringKind(type)) {
          if (cursor.currentNode.hasError) return undefined;
          if (comment) texts.push(withinHeader(cursor.currentNode.text, row, lines));
        } else if (cursor.gotoFirstChild()) {
          continue;
        }
      }
      // Siblings start in order: once one starts past the header, so do the rest.
      while (!cursor.gotoNextSibling() || cursor.startPosition.row >= lines) {
        if (!cursor.gotoParent()) return readFileDirectives(texts.join('\n'));
      }
    }
  } finally {
    cursor.delete();
  }
}
