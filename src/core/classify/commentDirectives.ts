import type { Tree } from 'web-tree-sitter';
import { DIRECTIVE_HEADER_LINES, readFileDirectives, type FileDirectives } from '../policy/fileDirectives';
import { isCommentKind, isStringKind } from './nodeKinds';

/** The part of a node's `text`, which starts on `row`, that lies in the first `lines` lines. */
function withinHeader(text: string, row: number, lines: number): string {
  return text.split('\n', lines - row).join('\n');
}

/**
 * The privacy directives written in the comments of `tree` that start in its first `lines` lines
 * (of a comment that runs past them, only the part within them counts, as for the text-only
 * reader). Words in a string literal are not a directive, nor is a comment inside a string (a
 * template substitution), just as the highlighting grammar leaves them unmarked. Text the parser
 * could not place (an ERROR node, such as a comment or string cut off where the header ends) is
 * read whole: when the tree cannot tell, the directive holds.
 */
export function directivesInTree(tree: Tree, lines = DIRECTIVE_HEADER_LINES): FileDirectives {
  const texts: string[] = [];
  const cursor = tree.walk();
  try {
    for (;;) {
      const row = cursor.startPosition.row;
      const type = cursor.nodeType;
      if (row < lines && (isCommentKind(type) || type === 'ERROR')) {
        texts.push(withinHeader(cursor.currentNode.text, row, lines));
      } else if (row < lines && !isStringKind(type) && cursor.gotoFirstChild()) {
        continue;
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
