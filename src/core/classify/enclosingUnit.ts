import type { Node, Tree } from 'web-tree-sitter';
import { CLASS_KINDS, FUNCTION_KINDS } from './nodeKinds';

export interface EnclosingUnit {
  kind: string;
  /** UTF-16 offsets into the parsed text, like JavaScript string indices. */
  startIndex: number;
  endIndex: number;
  name?: string;
}

function unitOf(node: Node): EnclosingUnit {
  const name = node.childForFieldName('name')?.text;
  return { kind: node.type, startIndex: node.startIndex, endIndex: node.endIndex, name: name || undefined };
}

/**
 * The innermost function or class that contains [start, end). A short arrow function used as
 * an argument is skipped in favour of the function around it, which says more.
 */
export function findEnclosingUnit(tree: Tree, start: number, end: number = start): EnclosingUnit | undefined {
  let node: Node | null = tree.rootNode.descendantForIndex(start, end);
  // A selection of `export function …` or a decorated definition lands on the wrapper: step into it.
  for (let depth = 0; node && depth < 2 && !FUNCTION_KINDS.has(node.type) && !CLASS_KINDS.has(node.type); depth++) {
    const units = node.namedChildren.filter((c): c is Node => !!c && (FUNCTION_KINDS.has(c.type) || CLASS_KINDS.has(c.type)));
    const inner = node.namedChildren.filter((c): c is Node => !!c && c.namedChildCount > 0);
    if (units.length === 1 && units[0].startIndex <= end && units[0].endIndex >= start) node = units[0];
    else if (inner.length === 1 && start < end) node = inner[0];
    else break;
  }
  while (node) {
    if (FUNCTION_KINDS.has(node.type)) {
      const isInlineCallback =
        (node.type === 'arrow_function' || node.type === 'function_expression' || node.type === 'func_literal') &&
        node.endPosition.row - node.startPosition.row < 3 &&
        node.parent?.type === 'arguments';
      if (!isInlineCallback) return unitOf(node);
    } else if (CLASS_KINDS.has(node.type) && node.parent) {
      return unitOf(node);
    }
    node = node.parent;
  }
  return undefined;
}
