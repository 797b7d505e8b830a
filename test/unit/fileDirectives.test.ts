import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { Classifier } from '../../src/core/classify/classifier';
import { directivesInTree } from '../../src/core/classify/commentDirectives';
import { TreeSitterLoader } from '../../src/core/classify/treeSitterLoader';
import type { RequestContext } from '../../src/core/context/requestContext';
import { silentLogger } from '../../src/core/log/logger';
import { DIRECTIVE_HEADER_LINES, readFileDirectives } from '../../src/core/policy/fileDirectives';
import { REPO_ROOT } from './repoRoot';

describe('file directives', () => {
  it('reads directives from comments in any language', () => {
    assert.deepEqual(readFileDirectives('// coderoute: no-ai\nconst x = 1;'), { noAi: true, localOnly: false });
    assert.deepEqual(readFileDirectives('# coderoute:local-only\n'), { noAi: false, localOnly: true });
    assert.deepEqual(readFileDirectives('/* coderoute: no-ai */\n-- coderoute: local-only'), { noAi: true, localOnly: true });
    assert.deepEqual(readFileDirectives('const coderoute = { ai: 1 }; // no-ai elsewhere'), { noAi: false, localOnly: false });
  });
  // What a directive does to routing (refused, or kept to local models) is tested with the router.
});

/** A request as the adapters build it: the whole text, and its first lines as the header. */
function fileRequest(languageId: string, text: string, file = `file.${languageId}`): RequestContext {
  const start = { line: 0, character: 0 };
  return {
    requestId: 't',
    languageId,
    path: file,
    text,
    textStartLine: 0,
    headerText: text.split('\n', DIRECTIVE_HEADER_LINES).join('\n'),
    selection: { start, end: start, active: start },
    diagnostics: [],
    workspaceTrusted: true,
  };
}

const NONE = { noAi: false, localOnly: false };
const NO_AI = { noAi: true, localOnly: false };
const LOCAL_ONLY = { noAi: false, localOnly: true };

describe('file directives from tree-sitter comments', () => {
  const loader = new TreeSitterLoader(path.join(REPO_ROOT, 'dist', 'wasm'), silentLogger);
  // A generous cap: these tests check what is read, not how fast (a capped parse reads the text).
  const classifier = new Classifier(loader, silentLogger, { parseTimeCapMs: 5000 });
  after(() => {
    classifier.dispose();
    loader.dispose();
  });
  const directivesOf = (languageId: string, text: string) => classifier.directives(fileRequest(languageId, text));

  const cases: { languageId: string; comments: [string, object][]; strings: string[] }[] = [
    {
      languageId: 'typescript',
      comments: [
        ['// coderoute: no-ai\nexport const x = 1;\n', NO_AI],
        ['/* coderoute: local-only */\nexport const x = 1;\n', LOCAL_ONLY],
        ['/**\n * Billing.\n * coderoute: no-ai\n */\nexport const x = 1;\n', NO_AI],
        ['export const x = 1; // coderoute: local-only\n', LOCAL_ONLY],
      ],
      strings: [
        'export const note = "coderoute: no-ai";\n',
        "const a = '// coderoute: no-ai';\n",
        'const b = `/* coderoute: local-only */ ${1}`;\n',
        'const c = /coderoute: no-ai/;\n',
      ],
    },
    {
      languageId: 'python',
      comments: [
        ['# coderoute: no-ai\nimport os\n', NO_AI],
        ['import os  # coderoute: local-only\n', LOCAL_ONLY],
      ],
      strings: [
        '"""Module notes: coderoute: no-ai"""\nimport os\n',
        'NOTE = "# coderoute: no-ai"\n',
        'pattern = re.compile(r"""\n  \\d+  # coderoute: local-only\n""", re.VERBOSE)\n',
      ],
    },
    {
      languageId: 'go',
      comments: [
        ['// coderoute: no-ai\npackage main\n', NO_AI],
        ['/* coderoute: local-only */\npackage main\n', LOCAL_ONLY],
      ],
      strings: ['package main\n\nvar a = "// coderoute: no-ai"\nvar b = `coderoute: local-only`\n'],
    },
    {
      languageId: 'rust',
      comments: [
        ['// coderoute: no-ai\nfn main() {}\n', NO_AI],
        ['//! coderoute: local-only\nfn main() {}\n', LOCAL_ONLY],
        ['/// coderoute: no-ai\nfn main() {}\n', NO_AI],
        ['/* coderoute: local-only */\nfn main() {}\n', LOCAL_ONLY],
      ],
      strings: ['fn main() {\n    let a = "// coderoute: no-ai";\n    let b = r#"coderoute: local-only"#;\n}\n'],
    },
    {
      languageId: 'shellscript',
      comments: [
        ['#!/bin/bash\n# coderoute: no-ai\necho hi\n', NO_AI],
        ['echo hi # coderoute: local-only\n', LOCAL_ONLY],
      ],
      strings: [
        'echo "coderoute: no-ai"\n',
        "echo '# coderoute: local-only'\n",
        'cat <<EOF\n# coderoute: no-ai\nEOF\n',
      ],
    },
  ];

  for (const { languageId, comments, strings } of cases) {
    it(`reads directives from ${languageId} comments`, async () => {
      for (const [text, expected] of comments) assert.deepEqual(await directivesOf(languageId, text), expected, text);
    });

    it(`ignores directives in ${languageId} string literals`, async () => {
      for (const text of strings) {
        assert.deepEqual(await directivesOf(languageId, text), NONE, text);
        // The text-only reader cannot tell: it is what a language without a grammar gets.
        assert.notDeepEqual(readFileDirectives(text), NONE, text);
      }
    });
  }

  it('reads the whole header of a language without a grammar, comment or not', async () => {
    assert.deepEqual(await directivesOf('lua', '-- coderoute: no-ai\nlocal x = 1\n'), NO_AI);
    assert.deepEqual(await directivesOf('lua', 'local s = "coderoute: local-only"\n'), LOCAL_ONLY);
    assert.deepEqual(await directivesOf('markdown', '<!-- coderoute: no-ai -->\n# Notes\n'), NO_AI);
  });

  it(`ignores directives past the first ${DIRECTIVE_HEADER_LINES} lines`, async () => {
    const filler = (n: number) => Array.from({ length: n }, (_, i) => `const v${i} = ${i};`).join('\n');
    const last = `${filler(DIRECTIVE_HEADER_LINES - 1)}\n// coderoute: no-ai\n`;
    const past = `${filler(DIRECTIVE_HEADER_LINES)}\n// coderoute: no-ai\n`;
    assert.deepEqual(await directivesOf('typescript', last), NO_AI);
    assert.deepEqual(await directivesOf('typescript', past), NONE);
    assert.deepEqual(await directivesOf('lua', past.replace('//', '--')), NONE);
    // Given a tree of the whole file, only the header's comments count, and only their header part.
    const parsed = await loader.parse('typescript', `${past}/* a\n${filler(DIRECTIVE_HEADER_LINES)}\ncoderoute: no-ai */\n`, { timeCapMs: 5000 });
    assert.ok(parsed);
    assert.deepEqual(directivesInTree(parsed.tree), NONE);
    parsed.tree.delete();
    const straddling = await loader.parse('typescript', `${filler(DIRECTIVE_HEADER_LINES - 2)}\n/* a\ncoderoute: local-only\nb\ncoderoute: no-ai */\n`, { timeCapMs: 5000 });
    assert.ok(straddling);
    assert.deepEqual(directivesInTree(straddling.tree), LOCAL_ONLY);
    straddling.tree.delete();
  });

  it('reads on past the header when a comment or function runs on past it', async () => {
    const lines = (n: number, line: (i: number) => string) => Array.from({ length: n }, (_, i) => line(i));
    const license = ['/*', ' * coderoute: no-ai', ...lines(40, () => ' * Licensed under …'), ' */', 'export const x = 1;'].join('\n');
    assert.deepEqual(await directivesOf('typescript', license), NO_AI);
    const rust = ['/* coderoute: local-only', ...lines(40, () => '   notes'), '*/', 'fn main() {}'].join('\n');
    assert.deepEqual(await directivesOf('rust', rust), LOCAL_ONLY);
    const go = ['package main', '/*', 'coderoute: no-ai', ...lines(40, () => 'notes'), '*/'].join('\n');
    assert.deepEqual(await directivesOf('go', go), NO_AI);
    // A function cut off where the header ends does not turn its strings into directives.
    const ts = ['export function f() {', '  const s = "coderoute: no-ai";', ...lines(40, (i) => `  const v${i} = ${i};`), '}'].join('\n');
    assert.deepEqual(await directivesOf('typescript', ts), NONE);
    const py = ['def f():', '    s = "coderoute: no-ai"', ...lines(40, (i) => `    v${i} = ${i}`)].join('\n');
    assert.deepEqual(await directivesOf('python', py), NONE);
  });

  it('reads the header as text when no tree can settle it', async () => {
    // A comment still open after the lines parsed for context, or a header with a syntax error:
    // the tree cannot tell comments from code there, so the text decides (it can only find more).
    const longLicense = ['/*', ' * coderoute: no-ai', ...Array.from({ length: 400 }, () => ' * Licensed under …'), ' */'].join('\n');
    assert.deepEqual(await directivesOf('typescript', longLicense), NO_AI);
    assert.deepEqual(await directivesOf('typescript', 'const s = "coderoute: local-only";\nconst = ;\n'), LOCAL_ONLY);
    // Without the document's first lines beyond the header (a window elsewhere), the header decides alone.
    const windowed = { ...fileRequest('typescript', ['/*', ' * coderoute: no-ai', ...Array.from({ length: 40 }, () => ' *'), ' */'].join('\n')), textStartLine: 100, text: 'x' };
    assert.deepEqual(await classifier.directives(windowed), NO_AI);
  });

  it('reads the header again when it changes, not when the rest of the file does', async () => {
    let parses = 0;
    const counting = Object.assign(Object.create(loader) as TreeSitterLoader, {
      parse: (...args: Parameters<TreeSitterLoader['parse']>) => {
        parses++;
        return loader.parse(...args);
      },
    });
    const own = new Classifier(counting, silentLogger, { parseTimeCapMs: 5000 });
    try {
      const body = '\nexport const x = 1;\n';
      assert.deepEqual(await own.directives(fileRequest('typescript', `const a = 1;${body}`, 'a.ts')), NONE);
      assert.deepEqual(await own.directives(fileRequest('typescript', `// coderoute: no-ai${body}`, 'a.ts')), NO_AI);
      assert.equal(parses, 2);
      const request = fileRequest('typescript', `// coderoute: no-ai${body}`, 'a.ts');
      assert.deepEqual(await own.directives({ ...request, text: `${request.text}export const y = 2;\n` }), NO_AI);
      assert.equal(parses, 2, 'an edit below the header reuses what was read');
    } finally {
      own.dispose();
    }
  });
});
