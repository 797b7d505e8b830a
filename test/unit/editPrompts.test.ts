import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Classification, Features } from '../../src/core/classify/classification';
import { Classifier } from '../../src/core/classify/classifier';
import { TreeSitterLoader } from '../../src/core/classify/treeSitterLoader';
import type { DiagnosticInfo, RequestContext, TextPosition } from '../../src/core/context/requestContext';
import { silentLogger } from '../../src/core/log/logger';
import type { TokenCounter } from '../../src/core/tokens/tokenCounter';
import { extractCode, reindent } from '../../src/core/prompts/codeExtraction';
import { PromptTooLargeError, buildEditMessages, type EditPromptInput } from '../../src/core/prompts/editPrompts';
import { findEditTarget, importsOf, type EditTarget, type EditTask } from '../../src/core/prompts/editTarget';
import { REPO_ROOT } from './repoRoot';

function context(languageId: string, text: string, start: TextPosition, end: TextPosition = start, diagnostics: DiagnosticInfo[] = []): RequestContext {
  const selection = { start, end, active: end };
  return { requestId: 't', languageId, path: 'src/sample', text, textStartLine: 0, headerText: text, selection, diagnostics, workspaceTrusted: true };
}

/** A classification as the classifier would give it, with only the features these tests need. */
function classification(features: Partial<Features> = {}): Classification {
  return {
    task: 'format',
    difficulty: 0.3,
    confidence: 1,
    language: 'typescript',
    textOnly: false,
    reason: 'test',
    features: { syntaxErrors: 0, diagnosticErrors: 0, emptyBlock: false, ...features } as Features,
    timings: { parseMs: 0, classifyMs: 0, parse: 'fresh' },
  };
}

/** Counts words, so a test can see exactly what a budget allows. */
const wordCounter: TokenCounter = {
  name: 'words',
  count: async (texts) => texts.map((t) => t.split(/\s+/).filter(Boolean).length),
};

const TS = [
  'import { readFile } from "node:fs";',
  'import {',
  '  join,',
  '  resolve,',
  '} from "node:path";',
  '',
  'export class Greeter {',
  '  greet(times: number): string[] {',
  '    const out: string[] = [];',
  '    for (let i = 0; i < times; i++) {',
  '      out.push(`Hello`)',
  '    }',
  '    return out;',
  '  }',
  '',
  '  farewell(name: string): string {',
  '  }',
  '',
  '  // return the name in capitals',
  '  ',
  '}',
  '',
].join('\n');

describe('edit targets (tree-sitter, real grammars)', () => {
  const loader = new TreeSitterLoader(path.join(REPO_ROOT, 'dist', 'wasm'), silentLogger);
  const classifier = new Classifier(loader, silentLogger, { backgroundParse: false, parseTimeCapMs: 5000 });
  after(() => {
    classifier.dispose();
    loader.dispose();
  });
  const target = async (ctx: RequestContext, task: EditTask) => findEditTarget(ctx, await classifier.classify(ctx, task), task);

  it('format widens a selection to whole lines, leaving out a line the selection only touches at its start', async () => {
    const t = await target(context('typescript', TS, { line: 8, character: 10 }, { line: 10, character: 0 }), 'format');
    assert.equal(t.source, 'selection');
    assert.equal(t.startLine, 8);
    assert.equal(t.endLine, 9);
    assert.equal(t.code, '    const out: string[] = [];\n    for (let i = 0; i < times; i++) {');
    assert.equal(t.indent, '    ');
  });

  it('format rewrites the method around the cursor when nothing is selected', async () => {
    const t = await target(context('typescript', TS, { line: 12, character: 6 }), 'format');
    assert.equal(t.source, 'enclosing-unit');
    assert.equal(t.unitName, 'greet');
  });

  it('debug takes the whole function around the cursor', async () => {
    const t = await target(context('typescript', TS, { line: 10, character: 20 }), 'debug');
    assert.equal(t.source, 'enclosing-unit');
    assert.equal(t.unitKind, 'method_definition');
    assert.equal(t.startLine, 7);
    assert.equal(t.endLine, 13);
    assert.ok(t.code.startsWith('  greet(') && t.code.endsWith('  }'));
  });

  it('debug takes the lines around the cursor when there is no unit', async () => {
    const text = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
    const t = await target(context('haskell', text, { line: 50, character: 0 }), 'debug');
    assert.equal(t.source, 'lines-around-cursor');
    assert.deepEqual([t.startLine, t.endLine], [30, 70]);
  });

  it('generate takes a signature with an empty body whole', async () => {
    const t = await target(context('typescript', TS, { line: 15, character: 34 }), 'generate');
    assert.equal(t.source, 'enclosing-unit');
    assert.equal(t.unitName, 'farewell');
    assert.deepEqual([t.startLine, t.endLine], [15, 16]);
  });

  it('generate takes an empty Python body with its docstring-less signature and the comment above as instruction', async () => {
    const py = 'import os\n\n# add two numbers\ndef add(a, b):\n    \n\nprint(add(1, 2))\n';
    const t = await target(context('python', py, { line: 4, character: 4 }), 'generate');
    assert.equal(t.source, 'enclosing-unit');
    assert.deepEqual([t.startLine, t.endLine], [3, 4]);
    assert.equal(t.instructionComment, 'add two numbers');
  });

  it('generate takes the cursor line and the instruction comment right above it', async () => {
    const t = await target(context('typescript', TS, { line: 19, character: 2 }), 'generate');
    assert.equal(t.source, 'cursor-line');
    assert.deepEqual([t.startLine, t.endLine], [18, 19]);
    assert.equal(t.instructionComment, 'return the name in capitals');
  });

  it('generate takes only the cursor line when no comment is above it', async () => {
    const t = await target(context('typescript', TS, { line: 5, character: 0 }), 'generate');
    assert.equal(t.source, 'cursor-line');
    assert.deepEqual([t.startLine, t.endLine], [5, 5]);
    assert.equal(t.instructionComment, undefined);
  });
});

describe('imports', () => {
  it('finds multi-line imports whole and stops at code', () => {
    assert.deepEqual(importsOf(context('typescript', TS, { line: 0, character: 0 })), TS.split('\n').slice(0, 5));
  });

  it('knows each language family by its own keywords', () => {
    const cases: [string, string, string[]][] = [
      ['python', 'import os\nfrom a.b import (\n  c,\n)\nx = 1\n', ['import os', 'from a.b import (', '  c,', ')']],
      ['go', 'package main\n\nimport (\n\t"fmt"\n)\nfunc main() {}\n', ['package main', 'import (', '\t"fmt"', ')']],
      ['rust', 'use std::io;\npub use crate::x;\nfn main() {}\n', ['use std::io;', 'pub use crate::x;']],
      ['csharp', 'using System;\nusing (var x = y) {}\n', ['using System;']],
      ['cpp', '#include <vector>\n#include "a.h"\nint x;\n', ['#include <vector>', '#include "a.h"']],
      ['ruby', "require 'json'\nrequire_relative 'a'\n", ["require 'json'", "require_relative 'a'"]],
      ['php', '<?php\nnamespace App;\nuse Foo\\Bar;\n', ['namespace App;', 'use Foo\\Bar;']],
      ['java', 'package a;\nimport java.util.List;\nclass A {}\n', ['package a;', 'import java.util.List;']],
      ['haskell', 'import Data.List\n', []],
    ];
    for (const [languageId, text, expected] of cases) {
      assert.deepEqual(importsOf(context(languageId, text, { line: 0, character: 0 })), expected, languageId);
    }
  });

  it('reads the header when the text window does not start at the top, and keeps at most 40 lines', () => {
    const header = Array.from({ length: 60 }, (_, i) => `import m${i}`).join('\n');
    const ctx = { ...context('python', 'x = 1', { line: 500, character: 0 }), textStartLine: 500, headerText: header };
    const found = importsOf(ctx);
    assert.equal(found.length, 40);
    assert.equal(found[0], 'import m0');
  });
});

describe('edit prompts', () => {
  const pushes = Array.from({ length: 16 }, (_, i) => `    out.push(${i});`);
  const code = ['  greet(times: number): string[] {', '    const out = [];', '    retrun out;', ...pushes, '  }'];
  const target: EditTarget = { startLine: 36, endLine: 55, code: code.join('\n'), source: 'enclosing-unit', indent: '  ', unitName: 'greet' };
  const filler = Array.from({ length: 32 }, (_, i) => `  x${i} = ${i};`);
  const text = ['import { a } from "a";', 'import { b } from "b";', '', 'export class Greeter {', ...filler, ...code, '}', ''].join('\n');
  const diagnostics: DiagnosticInfo[] = [
    { range: { start: { line: 38, character: 4 }, end: { line: 38, character: 10 } }, message: "Cannot find name 'retrun'.", severity: 'error', source: 'ts' },
    { range: { start: { line: 1, character: 0 }, end: { line: 1, character: 5 } }, message: 'Unused import.', severity: 'warning' },
  ];
  const input = (task: EditTask, extra: Partial<EditPromptInput> = {}): EditPromptInput => ({
    task,
    ctx: { ...context('typescript', text, { line: 38, character: 5 }, { line: 38, character: 5 }, diagnostics), path: 'src/greeter.ts' },
    classification: classification({ syntaxErrors: 2 }),
    target,
    maxOutputTokens: 100,
    ...extra,
  });

  it('asks for one fenced block and gives language, path, imports, surrounding code and the target', async () => {
    const { messages, trimmed } = await buildEditMessages(input('format'));
    const [system, user] = messages;
    assert.equal(system.role, 'system');
    assert.match(system.content, /exactly one fenced code block/);
    assert.match(system.content, /change nothing else/);
    assert.match(user.content, /^File `src\/greeter\.ts` \(typescript\)\. Rewrite lines 37-56\./);
    assert.ok(user.content.includes('```typescript\nimport { a } from "a";\nimport { b } from "b";\n```'));
    assert.ok(user.content.includes('  x31 = 31;\n```\n'));
    assert.ok(user.content.endsWith('Code just after the lines to rewrite:\n```typescript\n}\n```'));
    assert.ok(user.content.includes(`The lines to rewrite:\n\`\`\`typescript\n${target.code}\n\`\`\``));
    assert.deepEqual(trimmed, []);
  });

  it('gives debug the diagnostics in the target with lines relative to it, and the syntax-error count', async () => {
    const { messages } = await buildEditMessages(input('debug'));
    const user = messages[1].content;
    assert.ok(user.includes("- line 3: error (ts): Cannot find name 'retrun'."));
    assert.ok(!user.includes('Unused import'), 'diagnostics outside the target are left out');
    assert.match(user, /found 2 syntax errors/);
    assert.match(messages[0].content, /fix/);
  });

  it('gives generate the typed instruction, else the instruction comment', async () => {
    const typed = await buildEditMessages(input('generate', { instruction: 'count the greetings' }));
    assert.match(typed.messages[1].content, /Instruction:\ncount the greetings/);
    const commented = await buildEditMessages(input('generate', { target: { ...target, source: 'cursor-line', instructionComment: 'sort the list' } }));
    assert.match(commented.messages[1].content, /Instruction:\nsort the list/);
    assert.match(commented.messages[1].content, /cursor is on the last of the lines/);
  });

  it('fences code that holds backticks with a longer fence', async () => {
    const { messages } = await buildEditMessages(input('format', { target: { ...target, code: 'const md = "````";' } }));
    assert.ok(messages[1].content.includes('`````typescript\nconst md = "````";\n`````'));
  });

  it('counts with the tokenizer and drops nothing when the window is large', async () => {
    const built = await buildEditMessages(input('debug', { tokens: wordCounter, contextWindow: 100_000 }));
    assert.deepEqual(built.trimmed, []);
    assert.ok(built.inputTokens && built.inputTokens > 0);
    assert.equal(built.target, target);
  });

  it('drops imports, then surrounding code, then cuts the target, and never exceeds the window', async () => {
    const full = await buildEditMessages(input('format', { tokens: wordCounter }));
    const sizes: number[] = [];
    for (let window = full.inputTokens! + 100; window > 100; window--) {
      let built;
      try {
        built = await buildEditMessages(input('format', { tokens: wordCounter, contextWindow: window }));
      } catch (error) {
        assert.ok(error instanceof PromptTooLargeError);
        break;
      }
      assert.ok(built.inputTokens! + 100 <= window, `${built.inputTokens} + 100 fits ${window}`);
      sizes.push(built.trimmed.length);
      const user = built.messages[1].content;
      if (built.trimmed.length >= 1) {
        assert.match(built.trimmed[0], /^imports/);
        assert.ok(!user.includes('import { a }'));
      }
      if (built.trimmed.length >= 2) {
        assert.equal(built.trimmed[1], 'surrounding code');
        assert.ok(!user.includes('x31 = 31'));
      }
      if (built.trimmed.length === 3) {
        assert.match(built.trimmed[2], /^target code \(first \d+ of 20 lines kept\)$/);
        assert.ok(built.target.endLine < target.endLine);
        assert.ok(user.includes(`Rewrite lines 37-${built.target.endLine + 1}.`));
        assert.ok(user.includes('cut to its first'));
      }
    }
    assert.deepEqual([...new Set(sizes)], [0, 1, 2, 3], 'each step was reached in order');
  });

  it('estimates from characters without a tokenizer', async () => {
    const built = await buildEditMessages(input('format', { contextWindow: 300 }));
    assert.equal(built.inputTokens, undefined);
    assert.ok(built.trimmed.length > 0);
    const chars = built.messages.reduce((sum, m) => sum + m.content.length, 0);
    assert.ok(chars / 4 + 100 <= 300 + built.messages.length * 4 + 2);
  });
});

describe('code extraction', () => {
  it('takes the code of a single fence and strips the trailing newline', () => {
    assert.deepEqual(extractCode('Here it is:\n```ts\nconst a = 1;\n\n```\nDone.'), { code: 'const a = 1;', from: 'fence' });
  });

  it('reads tilde fences', () => {
    assert.deepEqual(extractCode('~~~python\nx = 1\n~~~'), { code: 'x = 1', from: 'fence' });
  });

  it('keeps ``` inside a longer fence', () => {
    const md = 'const s = `\n```\ninner\n```\n`;';
    assert.deepEqual(extractCode(`\`\`\`\`ts\n${md}\n\`\`\`\``), { code: md, from: 'fence' });
  });

  it('tolerates a missing closing fence at the end', () => {
    assert.deepEqual(extractCode('```\nfoo();\nbar();\n'), { code: 'foo();\nbar();', from: 'fence' });
  });

  it('prefers the longest of several blocks, the first of equal ones', () => {
    assert.equal(extractCode('```\na()\n```\ntext\n```\nlonger()\nblock()\n```\n```\nb()\n```')?.code, 'longer()\nblock()');
    assert.equal(extractCode('```\none()\n```\n```\ntwo()\n```')?.code, 'one()');
  });

  it('takes an indented fence and drops its indentation', () => {
    assert.equal(extractCode('1. Replace:\n   ```js\n   if (a) {\n     b();\n   }\n   ```')?.code, 'if (a) {\n  b();\n}');
  });

  it('returns undefined for prose without a fence, and the whole answer for bare code', () => {
    assert.equal(extractCode('I could not find a bug in this code.'), undefined);
    assert.equal(extractCode('Sure, here is the fix'), undefined);
    assert.equal(extractCode('   \n'), undefined);
    assert.deepEqual(extractCode('\nfunction f() {\n  return 1;\n}\n'), { code: 'function f() {\n  return 1;\n}', from: 'whole' });
  });
});

describe('reindent', () => {
  it('restores the base indentation the model dropped, keeping relative indentation', () => {
    assert.equal(reindent('if (a) {\n  b();\n\n}', '    '), '    if (a) {\n      b();\n\n    }');
  });

  it('leaves code with the right base indentation alone, and removes indentation the target lacks', () => {
    assert.equal(reindent('  x();\n    y();', '  '), '  x();\n    y();');
    assert.equal(reindent('    x();\n      y();', ''), 'x();\n  y();');
  });
});
