import * as assert from 'node:assert/strict';
import { detectIndentUnit, postprocessCompletion, removeSuffixOverlap, stripFence, type PostprocessInput } from '../../src/core/complete/postprocess';

function run(completion: string, prefix: string, suffix: string, extra: Partial<PostprocessInput> = {}): string {
  return postprocessCompletion({ completion, prefix, suffix, mode: 'complete-block', languageId: 'typescript', ...extra });
}

describe('inline completions: post-processing', () => {
  describe('overlap with the text after the cursor', () => {
    it('drops the end that repeats the start of the suffix: foo(a, b)) before ) gives foo(a, b)', () => {
      assert.equal(run('foo(a, b))', 'const x = ', ')', { mode: 'complete-line' }), 'foo(a, b)');
    });

    it('keeps a closer that belongs to the completion (print( + foo(a) before ))', () => {
      assert.equal(run('foo(a)', 'print(', ')', { mode: 'complete-line' }), 'foo(a)');
    });

    it('drops a repeated ; and a repeated ") {"', () => {
      assert.equal(run('bar();', '  ', ';', { mode: 'complete-line' }), 'bar()');
      assert.equal(removeSuffixOverlap('if (ready) {', '', ') {\n}', 'typescript'), 'if (ready');
    });

    it('does not treat one shared letter as a repeat', () => {
      assert.equal(removeSuffixOverlap('count', 'let n = ', 't;', 'typescript'), 'count');
    });

    it('drops lines identical to the next lines of the suffix', () => {
      const prefix = 'function f() {\n  const a = 1;\n  ';
      const suffix = '\n  return a;\n}\n';
      assert.equal(run('const b = 2;\n  return a;\n}', prefix, suffix), 'const b = 2;');
    });

    it('returns nothing when the completion only repeats the suffix', () => {
      assert.equal(run('\n  return a;', 'function f() {\n  const a = 1;', '\n  return a;\n}\n'), '');
    });
  });

  describe('complete-line', () => {
    it('stops at the end of the line', () => {
      assert.equal(run('a + b;\n  console.log(x);\n}', 'function f(a, b) {\n  const x = ', '\n}', { mode: 'complete-line' }), 'a + b;');
    });

    it('keeps the closing bracket the line needs when the model put it on the next line', () => {
      assert.equal(run('a, b\n);\nfoo();', 'const x = sum(', '\n', { mode: 'complete-line' }), 'a, b);');
    });

    it('does not add the closer when the rest of the line already closes the bracket', () => {
      assert.equal(run('a, b\n);', 'const x = sum(', ');\n', { mode: 'complete-line' }), 'a, b');
    });

    it('at the end of a finished line, where the model starts a new line, offers that next line', () => {
      const prefix = 'function f(a: number) {\n  const b = a + 1;';
      assert.equal(run('\n  return b;\n}', prefix, '\n}\n', { mode: 'complete-line' }), '\n  return b;');
      // Blank lines before it are skipped; nothing useful after the break gives nothing.
      assert.equal(run('\n\n  return b;', prefix, '\n}\n', { mode: 'complete-line' }), '\n  return b;');
      assert.equal(run('\n\n', prefix, '\n}\n', { mode: 'complete-line' }), '');
      // Mid-line (text after the cursor), the line's own end is still where it stops.
      assert.equal(run('\n  return b;', 'const b = ', 'a + 1;\n', { mode: 'complete-line' }), '');
    });
  });

  describe('complete-block (TypeScript)', () => {
    it('finishes the function the cursor line opens, closing brace included, and stops there', () => {
      const prefix = 'export function add(a: number, b: number): number {';
      const completion = '\n  return a + b;\n}\n\nexport function sub(a: number, b: number): number {\n  return a - b;\n}';
      assert.equal(run(completion, prefix, '\n'), '\n  return a + b;\n}');
    });

    it('goes on through } else {', () => {
      const prefix = 'function f(x: number) {\n  if (x > 0) {';
      const completion = '\n    return 1;\n  } else {\n    return -1;\n  }\n  return 0;';
      assert.equal(run(completion, prefix, '\n}\n'), '\n    return 1;\n  } else {\n    return -1;\n  }');
    });

    it('inside a body, stops where the enclosing block ends (a line indented less than the cursor line)', () => {
      const prefix = 'class A {\n  run() {\n    const x = ';
      const completion = 'compute();\n    log(x);\n  }\n\n  stop() {}\n}';
      assert.equal(run(completion, prefix, '\n'), 'compute();\n    log(x);');
    });

    it('a multi-line call the cursor line opens ends with its closing line', () => {
      const prefix = 'const server = createServer({';
      const completion = '\n  port: 8080,\n  host: "localhost",\n});\nserver.listen();';
      assert.equal(run(completion, prefix, '\n'), '\n  port: 8080,\n  host: "localhost",\n});');
    });

    it('brackets inside strings and comments do not count', () => {
      const prefix = 'function f() {';
      const completion = '\n  const s = "}"; // {\n  return s;\n}\nf();';
      assert.equal(run(completion, prefix, '\n'), '\n  const s = "}"; // {\n  return s;\n}');
    });
  });

  describe('complete-block (Python)', () => {
    const py = (completion: string, prefix: string, suffix = '\n') => run(completion, prefix, suffix, { languageId: 'python' });

    it('finishes the function the cursor line opens and stops before the next top-level line', () => {
      assert.equal(py('\n    return a + b\n\ndef sub(a, b):\n    return a - b\n', 'def add(a, b):'), '\n    return a + b');
    });

    it('inside a body, stops at the first line indented less than the cursor line', () => {
      const prefix = 'def area(r):\n    pi = ';
      assert.equal(py('3.14159\n    return pi * r * r\n\nprint(area(2))', prefix), '3.14159\n    return pi * r * r');
    });

    it('keeps else/elif/except branches of the block it opened', () => {
      const prefix = 'def sign(x):\n    if x > 0:';
      const completion = '\n        return 1\n    elif x < 0:\n        return -1\n    else:\n        return 0\nprint(sign(3))';
      assert.equal(py(completion, prefix), '\n        return 1\n    elif x < 0:\n        return -1\n    else:\n        return 0');
    });

    it('a "#" comment with a colon does not open a block', () => {
      const prefix = 'def f():\n    x = 1  ';
      assert.equal(py('# note: x\n    y = 2\nz = 3', prefix), '# note: x\n    y = 2');
    });
  });

  describe('fences', () => {
    it('strips a fence a chat model added', () => {
      assert.equal(stripFence('```ts\nreturn a + b;\n```'), 'return a + b;');
      assert.equal(stripFence('```\nx = 1\n'), 'x = 1\n');
      assert.equal(stripFence('Here is the code:\n\n```python\nx = 1\n```\nDone.'), 'x = 1');
      assert.equal(stripFence('x = 1'), 'x = 1');
    });

    it('post-processing a chat answer: fence, echoed line start and marker removed', () => {
      const out = run('```typescript\nconst total = a + b;<CURSOR>\n```', 'function f(a: number, b: number) {\n  const total = ', '\n}', {
        fromChat: true,
        marker: '<CURSOR>',
        mode: 'complete-line',
      });
      assert.equal(out, 'a + b;');
    });
  });

  describe('indentation', () => {
    it('re-indents spaces to tabs when the file uses tabs', () => {
      const prefix = 'function f() {\n\tif (x) {';
      const completion = '\n        y();\n    }';
      assert.equal(run(completion, prefix, '\n}'), '\n\t\ty();\n\t}');
    });

    it('re-indents tabs to the file’s space width', () => {
      const prefix = 'def f():\n  if x:';
      assert.equal(run('\n\t\treturn 1', prefix, '\n', { languageId: 'python' }), '\n    return 1');
    });

    it('moves a chat answer written from column 0 to the cursor’s indentation', () => {
      const prefix = 'def f(xs):\n    ';
      const out = run('for x in xs:\n    print(x)', prefix, '\n', { languageId: 'python', fromChat: true });
      assert.equal(out, 'for x in xs:\n        print(x)');
    });

    it('leaves a chat answer alone when it is already at the cursor’s indentation', () => {
      const out = run('x = 1\n    y = 2', 'def f():\n    ', '\n', { languageId: 'python', fromChat: true });
      assert.equal(out, 'x = 1\n    y = 2');
    });

    it('detects the indentation unit from the steps between lines, not from a comment’s single space', () => {
      assert.equal(detectIndentUnit('/**\n * doc\n */\nfunction f() {\n  if (x) {\n    y();\n  }\n}'), '  ');
      assert.equal(detectIndentUnit('a\n\tb\n\t\tc'), '\t');
      assert.equal(detectIndentUnit('a\nb'), undefined);
    });
  });

  describe('nothing useful left', () => {
    it('whitespace only', () => {
      assert.equal(run('   \n\n  ', 'const x = 1;\n', '\n'), '');
    });

    it('a repeat of the line before', () => {
      assert.equal(run('console.log(x);', 'function f() {\n  console.log(x);\n  ', '\n}', { mode: 'complete-line' }), '');
    });

    it('a plain completion passes unchanged', () => {
      assert.equal(run('x + 1;', 'const y = ', '\n', { mode: 'complete-line' }), 'x + 1;');
    });
  });
});
