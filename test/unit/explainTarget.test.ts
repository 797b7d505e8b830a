import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { RequestContext, TextPosition } from '../../src/core/context/requestContext';
import { findEnclosingUnit } from '../../src/core/classify/enclosingUnit';
import { GRAMMAR_FILE_NAMES, TreeSitterLoader, grammarFileFor } from '../../src/core/classify/treeSitterLoader';
import { silentLogger } from '../../src/core/log/logger';
import { findExplainTarget } from '../../src/core/prompts/explainTarget';
import { Classifier } from '../../src/core/classify/classifier';
import { REPO_ROOT } from './repoRoot';

/** The grammars as the build ships them: these tests also check what `npm run build` copied. */
const WASM_ROOT = path.join(REPO_ROOT, 'dist', 'wasm');

function context(languageId: string, text: string, start: TextPosition, end: TextPosition = start): RequestContext {
  return {
    requestId: 't',
    command: 'explain',
    languageId,
    path: 'src/sample',
    text,
    textStartLine: 0,
    headerText: text,
    selection: { start, end, active: end },
    diagnostics: [],
    workspaceTrusted: true,
  };
}

const TS = [
  'import { readFile } from "node:fs";',
  '',
  'export class Greeter {',
  '  constructor(private readonly name: string) {}',
  '',
  '  greet(times: number): string[] {',
  '    const out: string[] = [];',
  '    for (let i = 0; i < times; i++) {',
  '      out.push(`Hello, ${this.name}`);',
  '    }',
  '    return out.map((s) => s.trim());',
  '  }',
  '}',
  '',
].join('\n');

/** The explain target as the extension finds it: classify with the explain command, then pick. */
async function targetWith(loader: TreeSitterLoader, ctx: RequestContext) {
  const classifier = new Classifier(loader, silentLogger, { backgroundParse: false });
  try {
    return findExplainTarget(ctx, await classifier.classify(ctx, 'explain'));
  } finally {
    classifier.dispose();
  }
}

describe('explain target (tree-sitter, real grammars)', () => {
  const loader = new TreeSitterLoader(WASM_ROOT, silentLogger);

  it('uses the selection when there is one', async () => {
    const target = await targetWith(loader, context('typescript', TS, { line: 6, character: 4 }, { line: 6, character: 31 }));
    assert.equal(target.source, 'selection');
    assert.equal(target.code, 'const out: string[] = [];');
    assert.equal(target.startLine, 6);
  });

  it('finds the method around the cursor when nothing is selected, not the short callback', async () => {
    const target = await targetWith(loader, context('typescript', TS, { line: 10, character: 22 }));
    assert.equal(target.source, 'enclosing-unit');
    assert.equal(target.unitKind, 'method_definition');
    assert.equal(target.unitName, 'greet');
    assert.equal(target.startLine, 5);
    assert.equal(target.endLine, 11);
    assert.ok(target.code.startsWith('  greet(times: number)'));
    assert.ok(target.code.endsWith('  }'));
  });

  it('falls back to the class when the cursor is between its members', async () => {
    const target = await targetWith(loader, context('typescript', TS, { line: 4, character: 0 }));
    assert.equal(target.unitKind, 'class_declaration');
    assert.equal(target.unitName, 'Greeter');
  });

  it('keeps offsets right after non-ASCII text', async () => {
    const py = '# ünïcödé ✓ 😀 comment\n\ndef area(r):\n    """Área 😀"""\n    return 3.14 * r * r\n';
    const target = await targetWith(loader, context('python', py, { line: 4, character: 8 }));
    assert.equal(target.unitKind, 'function_definition');
    assert.equal(target.code, 'def area(r):\n    """Área 😀"""\n    return 3.14 * r * r');
  });

  it('explains the lines around the cursor in a language without a grammar, and says so', async () => {
    const text = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
    const target = await targetWith(loader, context('haskell', text, { line: 50, character: 0 }));
    assert.equal(target.source, 'lines-around-cursor');
    assert.equal(target.startLine, 30);
    assert.equal(target.endLine, 70);
    assert.ok(target.code.startsWith('line 30\n') && target.code.endsWith('line 70'));
  });

  it('ships every grammar it maps, and each one loads and parses', async () => {
    const samples: Record<string, string> = {
      typescript: 'function f(a: number) { return a; }',
      typescriptreact: 'function F() { return <div>{1}</div>; }',
      javascript: 'function f(a) { return a; }',
      python: 'def f(a):\n    return a\n',
      go: 'package main\nfunc f(a int) int { return a }\n',
      rust: 'fn f(a: i32) -> i32 { a }',
      java: 'class A { int f(int a) { return a; } }',
      csharp: 'class A { int F(int a) { return a; } }',
      cpp: 'int f(int a) { return a; }',
      ruby: 'def f(a)\n  a\nend\n',
      php: '<?php function f($a) { return $a; }',
      shellscript: 'f() { echo "$1"; }',
    };
    for (const file of ['tree-sitter.wasm', ...GRAMMAR_FILE_NAMES]) {
      assert.ok(existsSync(path.join(WASM_ROOT, file)), `${file} is in dist/wasm`);
    }
    for (const [languageId, code] of Object.entries(samples)) {
      assert.ok(grammarFileFor(languageId), `${languageId} has a grammar`);
      const parsed = await loader.parse(languageId, code);
      assert.ok(parsed, `${languageId} parsed`);
      try {
        assert.equal(parsed.tree.rootNode.hasError, false, `${languageId} parses without errors`);
        const unit = findEnclosingUnit(parsed.tree, code.trimEnd().length - 2);
        assert.ok(unit, `${languageId}: a unit around the body`);
      } finally {
        parsed.tree.delete();
      }
    }
  });

  it('has no grammar for a language id that only looks like one', () => {
    assert.equal(grammarFileFor('toString'), undefined);
    assert.equal(grammarFileFor('plaintext'), undefined);
  });

  it('degrades to text-only when the grammar files are missing, and logs why', async () => {
    const errors: string[] = [];
    const broken = new TreeSitterLoader(path.join(REPO_ROOT, 'no-such-folder'), { ...silentLogger, error: (m) => errors.push(m) });
    const target = await targetWith(broken, context('typescript', TS, { line: 10, character: 22 }));
    assert.equal(target.source, 'lines-around-cursor');
    assert.equal(errors.length, 1);
    assert.match(errors[0], /could not load tree-sitter-typescript\.wasm/);
  });
});
