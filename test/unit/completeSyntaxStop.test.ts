import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { TreeSitterLoader } from '../../src/core/classify/treeSitterLoader';
import { stopAtSyntaxError, type ParseText } from '../../src/core/complete/syntaxStop';
import { silentLogger } from '../../src/core/log/logger';
import { REPO_ROOT } from './repoRoot';

describe('inline completions: the tree-sitter syntax check of multi-line completions', () => {
  const loader = new TreeSitterLoader(path.join(REPO_ROOT, 'dist', 'wasm'), silentLogger);
  let parses = 0;
  const parse: ParseText = async (languageId, text) => {
    parses++;
    return (await loader.parse(languageId, text, { timeCapMs: 5000 }))?.tree;
  };
  const check = (languageId: string, prefix: string, completion: string, suffix: string) => stopAtSyntaxError({ completion, prefix, suffix, languageId, parse });

  beforeEach(() => {
    parses = 0;
  });

  it('keeps a completion that parses, and does not parse a single line at all', async () => {
    const clean = await check('typescript', 'function f(a: number) {\n  const b = a + 1;\n  ', 'const c = b * 2;\n  return c;', '\n}\n');
    assert.deepEqual(clean, { text: 'const c = b * 2;\n  return c;', verdict: 'clean', parses: 1 });
    const line = await check('typescript', 'const a = ', '1 +', ';\n');
    assert.deepEqual(line, { text: '1 +', verdict: 'clean', parses: 0 });
    assert.equal(parses, 1);
  });

  it('cuts a completion at the line where it breaks the code, keeping the lines before', async () => {
    const result = await check('typescript', 'function f(a: number) {\n  const b = a + 1;\n  ', 'const c = b * 2;\n  return c;\n  if (c > ) {\n    c++;', '\n}\n');
    assert.equal(result.verdict, 'cut-at-error');
    assert.equal(result.text, 'const c = b * 2;\n  return c;');
  });

  it('never cuts the first line, whose text the half-typed line before the cursor may need', async () => {
    const result = await check('typescript', 'function f() {\n  ', 'let = ;\n  g();', '\n}\n');
    assert.equal(result.text, 'let = ;');
  });

  it('trims lines from the end when the completion closes more than it opened and breaks the code after it', async () => {
    const result = await check('typescript', 'function f(x: boolean) {\n  if (x) {\n    ', 'g();\n  }\n}', '\n  }\n  return 1;\n}\n');
    assert.equal(result.verdict, 'trimmed-end');
    assert.equal(result.text, 'g();');
  });

  it('does not blame the completion for errors the code after it already had', async () => {
    const suffix = '\n}\nconst broken = ;\n';
    const result = await check('typescript', 'function f() {\n  ', 'g();\n  h();', suffix);
    assert.equal(result.verdict, 'kept');
    assert.equal(result.text, 'g();\n  h();');
  });

  it('ignores an error of the half-typed line before the cursor', async () => {
    const result = await check('python', 'def total(items):\n    s = 0\n    for item in items:\n        s +', '= item\n    return s', '\n');
    assert.equal(result.verdict, 'clean');
    assert.equal(result.text, '= item\n    return s');
  });

  it('cuts a Python completion that runs into a broken statement', async () => {
    const result = await check('python', 'def total(items):\n    s = 0\n    ', 'for item in items:\n        s += item\n    return s +\n', '\n');
    assert.equal(result.verdict, 'cut-at-error');
    assert.equal(result.text, 'for item in items:\n        s += item');
  });

  it('leaves a language without a grammar to the indentation and bracket stops', async () => {
    const result = await check('plaintext', 'a\n', 'b\nc', '\n');
    assert.deepEqual(result, { text: 'b\nc', verdict: 'unparsed', parses: 1 });
  });
});
