import * as assert from 'node:assert/strict';
import type { DiagnosticInfo, RequestContext, TextPosition } from '../../src/core/context/requestContext';

/**
 * A request for the classifier. `source` marks the cursor with `|` (or `cursor`, for code that
 * holds a `|`), or a selection with `«` and `»` (the cursor at its end).
 */
export function request(languageId: string, source: string, diagnostics: DiagnosticInfo[] = [], cursor = '|'): RequestContext {
  const pos = (offset: number, text: string): TextPosition => {
    const before = text.slice(0, offset);
    return { line: before.split('\n').length - 1, character: offset - (before.lastIndexOf('\n') + 1) };
  };
  let text = source;
  let start: TextPosition;
  let end: TextPosition;
  if (source.includes('«')) {
    const a = source.indexOf('«');
    text = source.replace('«', '');
    const b = text.indexOf('»');
    text = text.replace('»', '');
    start = pos(a, text);
    end = pos(b, text);
  } else {
    const at = source.indexOf(cursor);
    assert.ok(at >= 0, 'the source marks the cursor');
    text = source.slice(0, at) + source.slice(at + cursor.length);
    start = end = pos(at, text);
  }
  return {
    requestId: 't',
    languageId,
    path: `test.${languageId}.${Math.random()}`,
    text,
    textStartLine: 0,
    headerText: text.split('\n', 30).join('\n'),
    selection: { start, end, active: end },
    diagnostics,
    workspaceTrusted: true,
  };
}
