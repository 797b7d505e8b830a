import type { Node } from 'web-tree-sitter';

/**
 * Scenarios of code people leave unfinished, made from a real function: its body replaced by a
 * placeholder (a TODO comment, `pass`, `todo!()`, `throw new Error("not implemented")`, …), or
 * removed so that only the signature is left, as when it was just typed. The cursor goes on a
 * blank line below, or at the end of the placeholder or signature line. Either way the user wants
 * the body written: `generate` for the automatic action, `complete-block` inline.
 */

export type CursorAt = 'below' | 'eol';

interface BodySpan {
  /** Offset just after what opens the body (`{`, `:`, or the end of a Ruby `def` line). */
  open: number;
  /** Offset of what closes it (`}` or `end`), or where the text after the body starts (Python). */
  close: number;
  headerIndent: string;
  inner: string;
}

const BRACE_LANGUAGES = new Set(['typescript', 'typescriptreact', 'javascript', 'java', 'csharp', 'cpp', 'c', 'go', 'rust', 'php', 'shellscript']);

export function lineStartOf(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

function indentationAt(text: string, offset: number): string {
  return /^[ \t]*/.exec(text.slice(lineStartOf(text, offset)))?.[0] ?? '';
}

function lineEndOf(text: string, offset: number): number {
  const end = text.indexOf('\n', offset);
  return end === -1 ? text.length : end;
}

/** A function's body: its `body` field, else its first block-like child. */
export function bodyNode(fn: Node): Node | null {
  return fn.childForFieldName('body') ?? fn.namedChildren.find((c) => c && /block|body|compound_statement/.test(c.type)) ?? null;
}

function bodySpan(text: string, fn: Node, language: string): BodySpan | undefined {
  const headerIndent = indentationAt(text, fn.startIndex);
  const unit = headerIndent.includes('\t') || language === 'go' ? '\t' : language === 'ruby' ? '  ' : '    ';
  const inner = headerIndent + unit;
  const body = bodyNode(fn);
  if (language === 'python') {
    if (!body) return undefined;
    const colon = text.slice(0, body.startIndex).replace(/[ \t]*\n?[ \t]*$/, '').length;
    if (text[colon - 1] !== ':') return undefined;
    return { open: colon, close: body.endIndex, headerIndent, inner };
  }
  if (language === 'ruby') {
    if (!text.slice(fn.startIndex, fn.endIndex).endsWith('end')) return undefined;
    const params = fn.childForFieldName('parameters') ?? fn.childForFieldName('name');
    if (!params) return undefined;
    const open = lineEndOf(text, params.endIndex);
    const close = fn.endIndex - 3;
    if (open >= close || text.slice(open, close).trim() === '') return undefined;
    return { open, close, headerIndent, inner };
  }
  if (!BRACE_LANGUAGES.has(language) || !body) return undefined;
  const open = text.indexOf('{', body.startIndex);
  const close = body.endIndex - 1;
  if (open === -1 || open >= close || text[close] !== '}') return undefined;
  return { open: open + 1, close, headerIndent, inner };
}

const NAME = '{name}';

/** Placeholders people write, per language; `{name}` becomes the function's name. */
const PLACEHOLDERS: Record<string, string[][]> = {
  python: [['pass'], ['...'], ['# TODO: implement'], ['raise NotImplementedError'], [`raise NotImplementedError("${NAME}")`], ['pass  # TODO'], ['# FIXME'], ['# implement me', 'pass']],
  typescript: [['// TODO'], [`// TODO: implement ${NAME}`], ["throw new Error('not implemented');"], ['throw new Error("Not implemented yet");'], ['return null; // TODO'], ['/* FIXME */'], ['// implement me']],
  javascript: [['// TODO'], [`// TODO: implement ${NAME}`], ["throw new Error('not implemented');"], ['throw new Error("Not implemented yet");'], ['return null; // TODO'], ['/* FIXME */'], ['// implement me']],
  java: [['// TODO Auto-generated method stub', 'return null;'], ['// TODO'], ['throw new UnsupportedOperationException("Not implemented");'], ['throw new UnsupportedOperationException();'], ['// FIXME: implement'], ['return 0; // TODO']],
  csharp: [['throw new NotImplementedException();'], ['throw new System.NotImplementedException();'], ['// TODO'], ['// TODO: implement'], ['return null; // TODO']],
  cpp: [['// TODO'], ['// TODO: implement'], ['throw std::logic_error("not implemented");'], ['return {}; // TODO'], ['/* FIXME */']],
  c: [['// TODO'], ['/* TODO: implement */'], ['return 0; /* TODO */'], ['/* FIXME */'], ['abort(); /* not implemented */']],
  go: [['panic("TODO")'], ['panic("not implemented")'], ['// TODO: implement'], ['return nil // TODO'], [`panic("${NAME}: not implemented")`]],
  rust: [['todo!()'], ['unimplemented!()'], [`todo!("implement ${NAME}")`], ['// TODO'], ['unimplemented!("not yet")']],
  ruby: [['raise NotImplementedError'], ['# TODO'], ['# TODO: implement'], ['raise NotImplementedError, "not implemented"'], ['nil # TODO']],
  php: [['// TODO'], ["throw new \\Exception('Not implemented');"], ["throw new \\RuntimeException('TODO');"], ['# TODO: implement'], ['return null; // TODO']],
  shellscript: [[': # TODO'], ['# TODO: implement'], ['echo "not implemented" >&2', 'return 1'], ['return 0 # TODO']],
};
PLACEHOLDERS.typescriptreact = PLACEHOLDERS.typescript;

function nameOf(fn: Node): string {
  return fn.childForFieldName('name')?.text ?? 'this';
}

/** A Python function's own docstring, kept when it has one: a docstring alone is a common stub. */
function pythonDocstring(fn: Node): string | undefined {
  const first = bodyNode(fn)?.firstNamedChild;
  if (first?.type !== 'expression_statement' || first.firstNamedChild?.type !== 'string') return undefined;
  const text = first.text;
  return text.includes('\n') && text.split('\n').length > 6 ? undefined : text;
}

export interface Scenario {
  text: string;
  cursor: number;
  /** What was left, for the report. */
  what: string;
}

/** The body replaced by a placeholder; the cursor below it or at the end of its last line. */
export function placeholderBody(text: string, fn: Node, language: string, at: CursorAt, random: () => number): Scenario | undefined {
  const span = bodySpan(text, fn, language);
  const choices = PLACEHOLDERS[language];
  if (!span || !choices) return undefined;
  let lines = choices[Math.floor(random() * choices.length)].map((l) => l.replace(NAME, nameOf(fn)));
  if (language === 'python') {
    const doc = pythonDocstring(fn);
    const pick = random();
    if (doc && pick < 0.3) lines = doc.split('\n').map((l, i) => (i === 0 ? l : l.trimStart()));
    else if (doc && pick < 0.5) lines = [...doc.split('\n').map((l, i) => (i === 0 ? l : l.trimStart())), lines[lines.length - 1]];
  }
  const body = lines.map((l) => span.inner + l).join('\n');
  const prefix = `${text.slice(0, span.open)}\n${at === 'below' ? `${body}\n${span.inner}` : body}`;
  const rest = language === 'python' ? `\n${text.slice(span.close).replace(/^[ \t]*\n?/, '')}` : `\n${span.headerIndent}${text.slice(span.close)}`;
  return { text: prefix + rest, cursor: prefix.length, what: lines.join(' / ') };
}

/**
 * Only the signature is left, with no closing brace or `end` yet: the cursor at the end of the
 * signature line, or on a blank line below it. (A signature with its closing brace already typed
 * is the empty-body scenario.)
 */
export function bareSignature(text: string, fn: Node, language: string, at: CursorAt): Scenario | undefined {
  const span = bodySpan(text, fn, language);
  if (!span) return undefined;
  const header = text.slice(0, span.open);
  // What followed the function, from the next line on: the code the user has not touched.
  const afterClose = language === 'python' ? span.close : span.close + (language === 'ruby' ? 3 : 1);
  const restStart = lineEndOf(text, afterClose);
  // `} && complete -F …` (bash-completion's idiom): without the brace the rest is not code of its own.
  if (text.slice(afterClose, restStart).trim() !== '') return undefined;
  const rest = text.slice(restStart);
  if (language === 'python' && at === 'below') return undefined; // that is the empty-body scenario
  const prefix = at === 'below' ? `${header}\n${span.inner}` : header;
  return { text: `${prefix}\n${rest.replace(/^\n/, '')}`, cursor: prefix.length, what: text.slice(lineStartOf(text, fn.startIndex), span.open).trim().split('\n').pop() ?? '' };
}

/** The body emptied, the cursor on the blank line inside it (the closing brace or `end` kept). */
export function emptiedBody(text: string, fn: Node, language: string): Scenario | undefined {
  const span = bodySpan(text, fn, language);
  if (!span) return undefined;
  const prefix = `${text.slice(0, span.open)}\n${span.inner}`;
  const rest = language === 'python' ? `\n\n${text.slice(span.close)}` : `\n${span.headerIndent}${text.slice(span.close)}`;
  return { text: prefix + rest, cursor: prefix.length, what: 'nothing' };
}
