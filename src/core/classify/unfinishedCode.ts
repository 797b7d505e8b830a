import type { Node, Tree } from 'web-tree-sitter';
import { BLOCK_KINDS, CLASS_KINDS, FUNCTION_KINDS, isCommentKind } from './nodeKinds';

/**
 * Code the user has left to be written: a function whose body holds only a placeholder (a TODO
 * comment, `pass`, `...`, a docstring, `raise NotImplementedError`, `todo!()`, `panic("TODO")`,
 * `return null; // TODO`, …), or a signature just typed with no body yet. Both ask for the body to
 * be written, and both are read from the syntax tree; what was found is said in words, for the
 * decision's reason ("body is only a TODO comment").
 */

/** Words that mark code as still to be written, in comments and in not-implemented statements. */
const TODO_WORDS = /\b(todo|fixme|xxx|tbd|stub)\b|not[ _-]?(yet[ _-]?)?implemented|\bunimplemented\b|implement(ed)? (me|this|later)|to be (written|implemented)/i;
/** Statements that say "not implemented" by their form. */
const NOT_IMPLEMENTED = /\bNotImplemented(Error|Exception)?\b|\bUnsupportedOperationException\b|^\s*(todo|unimplemented)!/;
/** Statements that do nothing worth keeping: a bare `return`, a default value, `abort()`, `:`. */
const TRIVIAL =
  /^\s*(return\s*(null|none|nil|undefined|nullptr|NULL|0|1|-1|0\.0|false|true|''|""|\{\}|\[\]|default|Ok\(\(\)\)|new \w+\(\))?\s*;?|null|nil|None|:|true|false|abort\(\);?|std::abort\(\);?)\s*$/i;

/** A one-line string literal in any of the grammars' quotes. */
const STRING_LITERAL = /(["'`])(?:\\.|(?!\1)[^\n])*\1/g;

function firstLine(text: string, max = 48): string {
  const line = text.trim().split('\n')[0].trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function bodyOf(fn: Node): Node | undefined {
  const body = fn.childForFieldName('body') ?? fn.namedChildren.find((c) => !!c && BLOCK_KINDS.has(c.type));
  return body ?? undefined;
}

/** The statements and comments of a body (Go wraps them in a statement list). */
function contentsOf(fn: Node, body: Node | undefined): Node[] {
  if (!body) {
    // A Ruby method whose body is only comments has no body node: the comments hang off the method.
    return fn.type === 'method' || fn.type === 'singleton_method' ? fn.namedChildren.filter((c): c is Node => !!c && isCommentKind(c.type)) : [];
  }
  const children = body.namedChildren.filter((c): c is Node => !!c);
  if (children.length === 1 && children[0].type === 'statement_list') return children[0].namedChildren.filter((c): c is Node => !!c);
  return children;
}

function isDocstring(statement: Node, index: number): boolean {
  return index === 0 && statement.type === 'expression_statement' && statement.namedChildCount === 1 && statement.firstNamedChild?.type === 'string';
}

/** What one statement of a body is, when it is a placeholder; undefined when it is real code. */
function placeholderStatement(statement: Node, index: number): { what: string; trivial: boolean } | undefined {
  if (statement.type === 'pass_statement') return { what: 'pass', trivial: false };
  if (statement.type === 'expression_statement' && statement.namedChildCount === 1 && statement.firstNamedChild?.type === 'ellipsis') {
    return { what: '...', trivial: false };
  }
  if (isDocstring(statement, index)) return { what: 'a docstring', trivial: false };
  const text = statement.text;
  if (text.length > 160) return undefined;
  // A TODO in code counts only in a string (`panic("TODO")`): `return stub;` is real code.
  const strings = text.match(STRING_LITERAL) ?? [];
  if (NOT_IMPLEMENTED.test(text) || strings.some((s) => TODO_WORDS.test(s))) return { what: firstLine(text), trivial: false };
  if (TRIVIAL.test(text)) return { what: firstLine(text), trivial: true };
  return undefined;
}

/**
 * Whether the cursor is in the body of `fn` rather than past it: between the braces, before a
 * Ruby `end`, or (in Python) on a line indented under the `def`.
 */
function cursorInBody(fn: Node, body: Node | undefined, cursor: number, cursorColumn: number, cursorLineBlank: boolean): boolean {
  if (body?.firstChild?.type === '{') return body.startIndex < cursor && cursor < body.endIndex;
  if (fn.type === 'function_definition' && body?.type === 'block') {
    // Python: the body ends with its last statement; a blank line below belongs to it when indented under the def.
    return cursor >= body.startIndex && (!cursorLineBlank || cursorColumn > fn.startPosition.column);
  }
  const last = fn.lastChild;
  if (last?.type === 'end') return cursor <= last.startIndex && cursor > (fn.childForFieldName('parameters') ?? fn.childForFieldName('name') ?? fn).endIndex;
  return !!body && body.startIndex <= cursor && cursor <= body.endIndex;
}

/**
 * When the cursor is in the body of a function that holds only a placeholder, says what the body
 * holds ("body is only a TODO comment") and where the function is; otherwise undefined. `probe`
 * is the last non-blank character before the cursor, so that the cursor at the end of the
 * placeholder line and on a blank line below it find the same function.
 */
export function placeholderBodyAt(
  tree: Tree,
  probe: number,
  cursor: number,
  cursorColumn: number,
  cursorLineBlank: boolean,
): { why: string; start: number; end: number } | undefined {
  const atProbe = tree.rootNode.namedDescendantForIndex(probe);
  const orphan = atProbe && isCommentKind(atProbe.type) ? commentsUnderEmptyDef(atProbe) : undefined;
  if (orphan) {
    const why = describe([], orphan.comments);
    return why ? { why, start: orphan.def.startIndex, end: orphan.comments[orphan.comments.length - 1].endIndex } : undefined;
  }
  let fn: Node | null = atProbe;
  while (fn && !FUNCTION_KINDS.has(fn.type)) fn = fn.parent;
  if (!fn) return undefined;
  const body = bodyOf(fn);
  // An arrow function with an expression body has nothing to fill.
  if (body && !BLOCK_KINDS.has(body.type) && body.type !== 'block') return undefined;
  // A body with many children is real code; counting is cheap, building their nodes is not.
  if ((body?.namedChildCount ?? 0) > 8 || !cursorInBody(fn, body, cursor, cursorColumn, cursorLineBlank)) return undefined;
  const contents = contentsOf(fn, body);
  const comments = contents.filter((c) => isCommentKind(c.type));
  const statements = contents.filter((c) => !isCommentKind(c.type));
  if (contents.length === 0 || statements.length > 2) return undefined;
  const todoComment = hasTodo(comments);
  const parts: string[] = [];
  let trivial = false;
  let standIn = false;
  let stated = 0;
  for (const [i, statement] of statements.entries()) {
    const found = placeholderStatement(statement, i);
    if (!found) return undefined;
    // Two statements make a placeholder as a docstring and one more, or a stand-in and a default
    // return (`echo "not implemented"` then `return 1`); never two statements of their own.
    if (!found.trivial && !isDocstring(statement, i) && ++stated > 1) return undefined;
    trivial ||= found.trivial;
    standIn ||= !found.trivial && !isDocstring(statement, i);
    parts.push(found.what);
  }
  // `return null;` is code in its own right (a docstring above it changes nothing); with a TODO
  // beside it, it is a stand-in.
  if (trivial && !standIn && !todoComment) return undefined;
  const why = describe(parts, comments);
  return why ? { why, start: fn.startIndex, end: fn.endIndex } : undefined;
}

const hasTodo = (comments: Node[]) => comments.some((c) => TODO_WORDS.test(c.text));

/** The reason, from what the body holds; undefined when a body of only comments has no TODO in them. */
function describe(parts: string[], comments: Node[]): string | undefined {
  const todoComment = hasTodo(comments);
  if (parts.length === 0 && !todoComment) return undefined;
  if (comments.length) parts.push(todoComment ? 'a TODO comment' : 'a comment');
  return `body is only ${parts.join(' and ')}`;
}

/**
 * Python reads `def f():` followed by only a comment as a function with an empty body and the
 * comment after it: the comments indented under such a def are its body.
 */
function commentsUnderEmptyDef(comment: Node): { def: Node; comments: Node[] } | undefined {
  const comments = [comment];
  let prev = comment.previousNamedSibling;
  while (prev && isCommentKind(prev.type)) {
    comments.unshift(prev);
    prev = prev.previousNamedSibling;
  }
  if (prev?.type === 'decorated_definition') prev = prev.childForFieldName('definition');
  if (prev?.type !== 'function_definition' || (prev.childForFieldName('body')?.namedChildCount ?? 0) > 0) return undefined;
  const column = prev.startPosition.column;
  return comments.every((c) => c.startPosition.column > column) ? { def: prev, comments } : undefined;
}

/** Where a line stands: among a class's members, in a function's body, or at the top level. */
export type LineContext = 'class' | 'function' | 'top';

/** Languages whose functions can be declared inside others with a keyword of their own. */
const NESTED_FUNCTIONS = new Set(['python', 'ruby', 'javascript', 'javascriptreact', 'typescript', 'typescriptreact', 'go', 'rust', 'php', 'shellscript']);

/** Languages where a signature is also read inside a class wherever it is: their methods need one (PHP's carry a visibility that only a class allows), and an inline window may have cut the class header off. */
const METHODS_ONLY_IN_CLASSES = new Set(['java', 'csharp', 'php']);
const OBJECT_METHODS = new Set(['javascript', 'javascriptreact', 'typescript', 'typescriptreact']);

/**
 * Whether the token at `offset` (the last one before the cursor) opens the body of a function in
 * the tree as parsed: the `{` of a block that is a function's body, or Python's `:` of a `def`.
 * This is how each grammar reads a signature whose body is not written yet, however it recovers
 * from the missing end (a body that runs on to the end of the file, a MISSING `}`).
 */
export function opensFunctionBody(tree: Tree, offset: number): boolean {
  const token = tree.rootNode.descendantForIndex(offset);
  if (!token || token.startIndex !== offset) return false;
  if (token.type === ':' && token.parent?.type === 'function_definition') return token.parent.childForFieldName('body')?.startIndex !== undefined;
  if (token.type !== '{') return false;
  const block = token.parent;
  const fn = block?.parent;
  return !!block && !!fn && FUNCTION_KINDS.has(fn.type) && block.startIndex === token.startIndex && (fn.childForFieldName('body')?.id === block.id || BLOCK_KINDS.has(block.type));
}

/** What encloses the line that starts at `offset`, not counting what starts on that line. */
export function lineContext(tree: Tree, offset: number): LineContext {
  const row = tree.rootNode.descendantForIndex(offset)?.startPosition.row ?? 0;
  for (let n: Node | null = tree.rootNode.namedDescendantForIndex(offset); n; n = n.parent) {
    if (n.startPosition.row >= row) continue;
    if (FUNCTION_KINDS.has(n.type)) return 'function';
    if (CLASS_KINDS.has(n.type)) return 'class';
  }
  return 'top';
}

/** How to close a signature line so that it parses as a function on its own, per grammar. */
function closings(line: string, languageId: string, context: LineContext): string[] {
  const trimmed = line.trim();
  switch (languageId) {
    case 'python':
      return trimmed.endsWith(':') ? [`${trimmed}\n    pass\n`] : [];
    case 'ruby':
      return /^((private|protected|public|module_function)\s+)?def\s/.test(trimmed) ? [`${trimmed}\nend\n`] : [];
    case 'shellscript':
      return trimmed.endsWith('{') ? [`${trimmed}\n:\n}\n`] : [];
    default: {
      if (context === 'function' && !NESTED_FUNCTIONS.has(languageId)) return [];
      // In a class, JavaScript would take `if (x) {}` for a method named "if".
      if (/^(if|for|while|switch|catch|else|do|try|with|return|foreach|using|lock|fixed|unsafe)\b/.test(trimmed)) return [];
      const opens = trimmed.endsWith('{');
      const closed = opens ? `${trimmed}\n}` : `${trimmed} {\n}`;
      const candidates = [closed];
      // A method parses only in a class (or, in JavaScript, an object literal). Without its brace
      // `foo(a, b)` in a function is a call, so a method is tried there only when the line opens a body.
      // An inline window may have cut the class header off, so a JavaScript line that opens a
      // body is tried as a method even where the tree puts it at the top level.
      const methods = METHODS_ONLY_IN_CLASSES.has(languageId) || context === 'class' || (opens && (context !== 'top' || OBJECT_METHODS.has(languageId)));
      if (methods) candidates.push(`class C_ {\n${closed}\n}`);
      if (methods && OBJECT_METHODS.has(languageId)) candidates.push(`x = {\n${closed}\n}`);
      return languageId === 'php' ? candidates.map((c) => `<?php\n${c}\n`) : candidates;
    }
  }
}

/** A function that starts on `firstRow` and takes in the body after the signature's last row. */
function hasFunctionFrom(node: Node, firstRow: number, lastSignatureRow: number): boolean {
  if (FUNCTION_KINDS.has(node.type) && node.startPosition.row === firstRow) return node.endPosition.row > lastSignatureRow;
  if (node.startPosition.row > firstRow) return false;
  return node.namedChildren.some((c) => !!c && hasFunctionFrom(c, firstRow, lastSignatureRow));
}

/**
 * Whether `line` is a function signature: closed with an empty body (and, for a method, put in a
 * class), it parses as a function with no syntax error. `parse` parses a few lines of the same
 * language; the caller frees nothing (the tree is deleted here).
 */
export function parsesAsSignature(line: string, languageId: string, context: LineContext, parse: (text: string) => Tree | undefined): boolean {
  if (line.trim().length < 4 || line.length > 2000) return false;
  for (const candidate of closings(line, languageId, context)) {
    const tree = parse(candidate);
    if (!tree) return false;
    try {
      const firstRow = (candidate.startsWith('<?php') ? 1 : 0) + (/^(<\?php\n)?(class C_|x = )/.test(candidate) ? 1 : 0);
      const lastSignatureRow = firstRow + line.trim().split('\n').length - 1;
      if (!tree.rootNode.hasError && hasFunctionFrom(tree.rootNode, firstRow, lastSignatureRow)) return true;
    } finally {
      tree.delete();
    }
  }
  return false;
}

/** Opening minus closing parentheses in `text`, outside string literals. */
export function parenBalance(text: string): number {
  let balance = 0;
  for (const ch of text.replace(STRING_LITERAL, '')) {
    if (ch === '(') balance++;
    else if (ch === ')') balance--;
  }
  return balance;
}

/** The last line of a signature has nothing of a body beyond its opener: `{`, `:`, or nothing (Ruby). */
export function endsLikeSignature(line: string, languageId: string): boolean {
  const code = line.replace(/\s+(\/\/|#).*$/, '').trimEnd();
  // A signature over several lines ends with the parameters' closing parenthesis: `): Type {`, `):`.
  if (/^\s*\)/.test(code) && (languageId === 'python' ? code.endsWith(':') : languageId !== 'ruby')) return true;
  if (languageId === 'python') return code.endsWith(':') && /^\s*(async\s+)?def\s/.test(code);
  if (languageId === 'ruby') return /^\s*((private|protected|public|module_function)\s+)?def\s/.test(code) && !/\bdef\s+[\w.?!]+(\(.*\))?\s*=[^=~>]/.test(code);
  return code.endsWith('{') || /\)\s*(:\s*[\w<>[\], .|&?]+|->\s*[\w<>[\], .&:']+|[\w<>[\]*&:, ]*)?$/.test(code);
}
