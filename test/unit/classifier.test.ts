import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { ClassifyMode } from '../../src/core/classify/classification';
import { Classifier, diff } from '../../src/core/classify/classifier';
import { TreeSitterLoader } from '../../src/core/classify/treeSitterLoader';
import type { DiagnosticInfo, RequestContext } from '../../src/core/context/requestContext';
import { silentLogger } from '../../src/core/log/logger';
import { request } from '../support/classifyRequest';
import { REPO_ROOT } from './repoRoot';

describe('classifier (tree-sitter, real grammars)', () => {
  const loader = new TreeSitterLoader(path.join(REPO_ROOT, 'dist', 'wasm'), silentLogger);
  // These tests check what the classifier finds, not how fast: a generous parse cap keeps a busy
  // machine from sending them down the text-only path. The cap itself is tested on its own below.
  const classifier = new Classifier(loader, silentLogger, { parseTimeCapMs: 5000 });
  after(() => {
    classifier.dispose();
    loader.dispose();
  });
  const classify = (languageId: string, source: string, mode: ClassifyMode, diagnostics: DiagnosticInfo[] = []) =>
    classifier.classify(request(languageId, source, diagnostics), mode);
  const expectTask = async (languageId: string, source: string, mode: ClassifyMode, task: string) => {
    const result = await classify(languageId, source, mode);
    assert.equal(result.task, task, `${languageId} ${mode}: ${result.reason}`);
    assert.equal(result.textOnly, false, result.reason);
    return result;
  };

  describe('inline kinds, per language family', () => {
    const families: Record<string, { line: string; block: string; comment: string; string: string }> = {
      typescript: {
        line: 'function f(a: number) {\n  const b = a +|\n  return b;\n}\n',
        block: 'function f(a: number): number {\n  |\n}\n',
        comment: 'function f() {\n  // adds the tax to| the price\n  return 1;\n}\n',
        string: 'const greeting = "hello |world";\n',
      },
      javascript: {
        line: 'const total = items.map((x) => x.|)\n',
        block: '// returns the largest value in the list\n|\n',
        comment: '/**\n * Sorts the users by| name.\n */\nfunction sort(users) { return users; }\n',
        string: "const path = '/usr/|local';\n",
      },
      python: {
        line: 'def f(xs):\n    total = sum(|\n    return total\n',
        block: 'def area(r):\n    |\n\ndef other():\n    return 1\n',
        comment: 'def f():\n    """Return the| answer."""\n    return 42\n',
        string: 'name = "Ada |Lovelace"\n',
      },
      go: {
        line: 'package main\n\nfunc f(a int) int {\n\tb := a *|\n\treturn b\n}\n',
        block: 'package main\n\nfunc f(a int) int {\n\t|\n}\n',
        comment: 'package main\n\n// Sum adds| the numbers.\nfunc Sum() {}\n',
        string: 'package main\n\nvar s = "a |b c"\n',
      },
      rust: {
        line: 'fn f(a: i32) -> i32 {\n    let b = a.|\n    b\n}\n',
        block: 'fn f(a: i32) -> i32 {\n    |\n}\n',
        comment: '/// Adds one to| the number.\nfn f() {}\n',
        string: 'fn f() { let s = "x |y"; }\n',
      },
      java: {
        line: 'class A {\n  int f(int a) {\n    int b = Math.|\n    return b;\n  }\n}\n',
        block: 'class A {\n  int f(int a) {\n    |\n  }\n}\n',
        comment: 'class A {\n  /** Returns the| sum. */\n  int f() { return 1; }\n}\n',
        string: 'class A { String s = "x |y"; }\n',
      },
      csharp: {
        line: 'class A {\n  int F(int a) {\n    var b = a +|\n    return b;\n  }\n}\n',
        block: 'class A {\n  int F(int a) {\n    |\n  }\n}\n',
        comment: 'class A {\n  // the main| entry\n  void F() {}\n}\n',
        string: 'class A { string s = "x |y"; }\n',
      },
      cpp: {
        line: 'int f(int a) {\n  int b = std::|\n  return b;\n}\n',
        block: 'int f(int a) {\n  |\n}\n',
        comment: '/* computes| the hash */\nint f() { return 1; }\n',
        string: 'const char* s = "x |y";\n',
      },
      ruby: {
        line: 'def f(a)\n  b = a.|\n  b\nend\n',
        block: 'def f(a)\n  |\nend\n',
        comment: '# Greets| the user\ndef greet; end\n',
        string: 'name = "Ada |Lovelace"\n',
      },
      shellscript: {
        line: 'deploy() {\n  rsync -av |\n}\n',
        block: 'deploy() {\n  |\n}\n',
        comment: '# copies the| files\ncp a b\n',
        string: 'echo "hello |world"\n',
      },
    };
    for (const [language, cases] of Object.entries(families)) {
      it(`${language}: line, block, comment, string`, async () => {
        await expectTask(language, cases.line, 'inline', 'complete-line');
        await expectTask(language, cases.block, 'inline', 'complete-block');
        await expectTask(language, cases.comment, 'inline', 'complete-comment');
        await expectTask(language, cases.string, 'inline', 'none');
      });
    }

    it('treats code inside a template substitution as code, not string', async () => {
      await expectTask('typescript', 'const s = `total: ${items.|}`;\n', 'inline', 'complete-line');
    });

    it('asks for no completion in a generated file', async () => {
      const r = await classify('typescript', '// Code generated by protoc-gen-ts. DO NOT EDIT.\nexport const a = |\n', 'inline');
      assert.equal(r.task, 'none');
      assert.match(r.reason, /generated/);
    });
  });

  describe('automatic action (commands)', () => {
    const GOOD_TS = 'export function price(items: number[], tax: number): number {\n  let total = 0;\n  for (const item of items) {\n    total += item;\n  }\n  return total * (1 + tax);\n}\n';
    const SCRAMBLED_TS = 'export function price(items: number[], tax: number): number {\n        let   total =0;\n for (const item   of items) {\n          total +=   item;\n   }\n     return total   * (1 + tax);\n}\n';

    it('explains a selected well-formed function', async () => {
      const r = await expectTask('typescript', `«${GOOD_TS.trimEnd()}»\n`, 'auto', 'explain');
      assert.equal(r.features.wholeNodeSelection, true);
      assert.equal(r.features.syntaxErrors, 0);
    });

    it('tidies a selected function whose layout is scrambled', async () => {
      const r = await expectTask('typescript', `«${SCRAMBLED_TS.trimEnd()}»\n`, 'auto', 'format');
      assert.ok(r.features.formatIrregularity >= 0.4, String(r.features.formatIrregularity));
    });

    it('debugs code with a syntax error near the cursor', async () => {
      const broken = GOOD_TS.replace('for (const item of items) {', 'for (const item of items {');
      const r = await expectTask('typescript', broken.replace('total += item', 'total +=| item'), 'auto', 'debug');
      assert.ok(r.features.syntaxErrors > 0);
    });

    it('debugs code that has error diagnostics in range even when it parses', async () => {
      const diagnostic: DiagnosticInfo = {
        range: { start: { line: 5, character: 9 }, end: { line: 5, character: 14 } },
        message: "Cannot find name 'totl'.",
        severity: 'error',
      };
      const r = await classify('typescript', GOOD_TS.replace('return total', 'return| totl'), 'auto', [diagnostic]);
      assert.equal(r.task, 'debug', r.reason);
      assert.equal(r.features.diagnosticErrors, 1);
    });

    it('generates into an empty body, and a Python body still to be written is not a bug', async () => {
      await expectTask('typescript', 'export function price(items: number[]): number {\n  |\n}\n', 'auto', 'generate');
      await expectTask('python', 'import math\n\ndef hyp(a, b):\n    |\n\ndef other():\n    return 1\n', 'auto', 'generate');
    });

    it('generates under a describing comment on a blank line', async () => {
      await expectTask('go', 'package main\n\n// Reverse returns s with its runes in reverse order.\n|\n', 'auto', 'generate');
    });

    it('debugs Python with a missing colon, and tidies Python only by spacing', async () => {
      await expectTask('python', 'def f(x)\n    return x +| 1\n', 'auto', 'debug');
      await expectTask('python', '«def f(x, y):\n    z   =  x+    y\n    w =x   *  2\n    return   z  , w»\n', 'auto', 'format');
    });

    it('lets an explicit command set the task and still fills in difficulty and features', async () => {
      const r = await classify('typescript', `«${GOOD_TS.trimEnd()}»\n`, 'debug');
      assert.equal(r.task, 'debug');
      assert.equal(r.confidence, 1);
      assert.ok(r.difficulty > 0);
      assert.equal(r.features.unit?.kind, 'function_declaration');
      assert.equal(r.features.branchCount, 1);
    });

    it('rates a long, nested, branching function harder than a one-liner', async () => {
      const easy = await classify('typescript', '«export const one = () => 1;»\n', 'explain');
      const body = Array.from({ length: 12 }, (_, i) => `    if (x > ${i}) {\n      for (const y of ys) {\n        if (y === ${i}) total += y * ${i};\n      }\n    }`).join('\n');
      const hard = await classify('typescript', `export function f(x: number, ys: number[]) {\n  let total = 0;\n  while (total < 100) {\n${body}\n  }\n  return| total;\n}\n`, 'explain');
      assert.ok(hard.difficulty > easy.difficulty + 0.2, `${hard.difficulty} vs ${easy.difficulty}`);
      assert.ok(hard.difficulty <= 1 && easy.difficulty >= 0);
    });
  });

  describe('degraded paths', () => {
    it('falls back to text features for a language without a grammar, and says so', async () => {
      const r = await classify('lua', 'local function f(x)\n  -- doubles| the input\n  return x * 2\nend\n', 'inline');
      assert.equal(r.textOnly, true);
      assert.equal(r.task, 'complete-comment');
      assert.match(r.reason, /text-only \(no grammar for lua\)/);
      const block = await classify('haskell', 'main = do\n  |\n', 'inline');
      assert.equal(block.task, 'complete-block', block.reason);
    });

    it('does not parse binary content and asks for no completion', async () => {
      const r = await classify('typescript', 'const a = 1;\u0000\u0001\u0002 |\n', 'inline');
      assert.equal(r.task, 'none');
      assert.equal(r.textOnly, true);
      assert.match(r.reason, /binary/);
    });

    it('does not parse minified code and asks for no completion', async () => {
      const line = `var a=${Array.from({ length: 800 }, (_, i) => `f${i}(${i})`).join(',')};`;
      const r = await classify('javascript', `${line}|\n`, 'inline');
      assert.equal(r.task, 'none');
      assert.match(r.reason, /minified/);
    });

    it('parses only a window of a very large file and still finds the function around the cursor', async () => {
      const fn = (i: number) => `export function f${i}(a: number): number {\n  const b = a * ${i};\n  return b + 1;\n}\n`;
      const many = Array.from({ length: 4000 }, (_, i) => fn(i)).join('\n');
      const source = many.replace('return b + 1;\n}\n\nexport function f2500', 'return b +|\n}\n\nexport function f2500');
      const r = await classify('typescript', source, 'inline');
      assert.equal(r.task, 'complete-line', r.reason);
      assert.equal(r.textOnly, false);
      assert.equal(r.features.unit?.name, 'f2499');
      assert.ok(source.length > 200_000, 'far larger than one parse window');
    });

    it('returns within its time cap on 20,000 unclosed parentheses', async () => {
      const capped = new Classifier(loader, silentLogger);
      // A grammar's first parse has a longer cap (it compiles the code it runs); this one is not first.
      await capped.classify(request('javascript', 'const y = 1;|\n'), 'auto');
      const r = await capped.classify(request('javascript', `const x = ${'('.repeat(20_000)}|\n`), 'auto');
      capped.dispose();
      assert.ok(['debug', 'explain'].includes(r.task));
      assert.ok(r.timings.parseMs <= 60, `parse took ${r.timings.parseMs} ms`);
    });

    it('never stops the parse of a small file, even on a machine so starved that every tick takes a second', async () => {
      let clock = 0;
      const starved = new TreeSitterLoader(path.join(REPO_ROOT, 'dist', 'wasm'), silentLogger, () => (clock += 1000));
      const slow = new Classifier(starved, silentLogger);
      try {
        for (const attempt of ['first', 'second']) {
          const helpers = Array.from({ length: 40 }, (_, i) => `def helper_${i}(x):\n    return x * ${i} + 1\n\n`).join('');
          const r = await slow.classify(request('python', `${helpers}def rotate(xs, k):\n    return xs[k:]| + xs[:k]\n`), 'auto');
          assert.equal(r.textOnly, false, `${attempt} parse: ${r.reason}`);
          assert.equal(r.features.unit?.name, 'rotate', JSON.stringify(r.features));
        }
      } finally {
        slow.dispose();
        starved.dispose();
      }
    });

    it('parses a large document whole in the background, then serves any position from that tree and keeps it current', async () => {
      const fn = (i: number) => `export function f${i}(a: number): number {\n  const b = a * ${i};\n  return b + 1;\n}\n`;
      const text = Array.from({ length: 3000 }, (_, i) => fn(i)).join('\n');
      const at = (name: string, t: string) => {
        const before = t.slice(0, t.indexOf(`function ${name}(`));
        const line = before.split('\n').length;
        return { line, character: 12 };
      };
      const ctx = (t: string, name: string): RequestContext => {
        const p = at(name, t);
        return { ...request('typescript', '|'), path: 'big.ts', text: t, headerText: t.slice(0, 200), selection: { start: p, end: p, active: p } };
      };
      const first = await classifier.classify(ctx(text, 'f10'), 'auto');
      assert.ok(first.timings.parseMs > 0);
      let far = await classifier.classify(ctx(text, 'f2900'), 'auto');
      for (let i = 0; i < 400 && far.timings.parse !== 'reused'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        far = await classifier.classify(ctx(text, 'f2900'), 'auto');
      }
      assert.equal(far.timings.parse, 'reused', 'the whole-document tree serves a far position without parsing');
      assert.equal(far.features.unit?.name, 'f2900');
      const edited = text.replace('const b = a * 2900;', 'const b = a * 2900;\n  const c = b +');
      const afterEdit = await classifier.classify(ctx(edited, 'f2900'), 'auto');
      assert.equal(afterEdit.features.unit?.name, 'f2900');
      assert.equal(afterEdit.timings.parse, 'incremental', 'the edit is applied to the whole-document tree, not parsed afresh');
    });

    it('for inline completions, parses a small window around the cursor, never the whole document, and prepare() readies it', async () => {
      const fn = (i: number) => `export function g${i}(a: number): number {\n  const b = a * ${i};\n  return b + 1;\n}\n`;
      const text = Array.from({ length: 3000 }, (_, i) => fn(i)).join('\n');
      const ctx = (t: string, name: string): RequestContext => {
        const line = t.slice(0, t.indexOf(`function ${name}(`)).split('\n').length;
        const p = { line, character: 12 };
        return { ...request('typescript', '|'), path: 'inline-big.ts', text: t, headerText: t.slice(0, 200), selection: { start: p, end: p, active: p } };
      };
      await classifier.classify(ctx(text, 'g10'), 'inline');
      // No whole-document tree is built in the background for inline requests: a far spot parses its own window.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const far = await classifier.classify(ctx(text, 'g2900'), 'inline');
      assert.equal(far.timings.parse, 'fresh');
      assert.equal(far.features.unit?.name, 'g2900');
      // prepare() after an edit: the request's classification then reuses the tree.
      const edited = text.replace('const b = a * 2900;', 'const b = a * 2900;\n  const c = b +');
      await classifier.prepare(ctx(edited, 'g2900'), 'inline');
      const after = await classifier.classify(ctx(edited, 'g2900'), 'inline');
      assert.equal(after.timings.parse, 'reused');
      assert.equal(after.features.unit?.name, 'g2900');
    });

    it('finds the one edit between two texts', () => {
      const random = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
      const r = random(42);
      for (let n = 0; n < 200; n++) {
        const before = Array.from({ length: Math.floor(r() * 20000) }, () => 'abc\n'[Math.floor(r() * 4)]).join('');
        const a = Math.floor(r() * before.length);
        const b = a + Math.floor(r() * Math.min(50, before.length - a));
        const after = before.slice(0, a) + 'xyz'.slice(0, Math.floor(r() * 4)) + before.slice(b);
        const d = diff(before, after);
        assert.equal(before.slice(0, d.start) + after.slice(d.start, d.newEnd) + before.slice(d.oldEnd), after);
        assert.ok(d.oldEnd >= d.start && d.newEnd >= d.start);
      }
    });

    it('reuses and incrementally updates the tree of a document being edited, with the same results as a fresh parse', async () => {
      const base = request('typescript', 'export function f(a: number) {\n  const b = a + 1;\n  return b;\n}\n|');
      const edits = ['  const c = b * 2;\n', '  if (c > 3) {\n', '    return c;\n', '  }\n'];
      let text = base.text;
      for (const edit of edits) {
        const at = text.indexOf('  return b;');
        text = text.slice(0, at) + edit + text.slice(at);
        const position = { line: text.slice(0, at + edit.length - 1).split('\n').length - 1, character: edit.length - 1 };
        const incremental = await classifier.classify({ ...base, text, headerText: text, selection: { start: position, end: position, active: position } }, 'inline');
        const fresh = await classifier.classify(
          { ...base, path: `${base.path}-fresh-${edit}`, text, headerText: text, selection: { start: position, end: position, active: position } },
          'inline',
        );
        assert.deepEqual(incremental.features, fresh.features);
        assert.equal(incremental.task, fresh.task);
      }
    });
  });
});
