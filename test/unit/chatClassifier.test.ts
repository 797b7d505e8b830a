import * as assert from 'node:assert/strict';
import type { Features } from '../../src/core/classify/classification';
import { classifyChatRequest, referencedPathsIn, type ChatEditorContext, type ChatRequestInput, type ChatTask } from '../../src/core/chat/chatClassifier';
import type { ChatMessage, ToolCall } from '../../src/core/providers/chatProvider';

const user = (content: string, extra: Partial<ChatMessage> = {}): ChatMessage => ({ role: 'user', content, ...extra });
const assistant = (content: string, toolCalls?: ToolCall[]): ChatMessage => ({ role: 'assistant', content, toolCalls });
const toolResult = (callId: string, content: string): ChatMessage => ({ role: 'user', content: '', toolResults: [{ callId, content }] });
const call = (id: string, name: string, input: Record<string, unknown> = {}): ToolCall => ({ id, name, input });

/** The editor as the adapter describes it; the tree-sitter classification is given, not computed. */
function editor(over: Partial<ChatEditorContext> = {}, task: 'format' | 'explain' | 'generate' | 'debug' = 'generate', difficulty = 0.5): ChatEditorContext {
  return {
    path: 'src/parser/tokenize.ts',
    languageId: 'typescript',
    selectionText: '',
    classification: { task, difficulty, reason: 'cursor in an empty body', features: {} as Features },
    ...over,
  };
}

function classify(text: string | ChatMessage[], extra: Partial<ChatRequestInput> = {}) {
  const messages = typeof text === 'string' ? [{ role: 'system' as const, content: 'You are a coding assistant.' }, user(text)] : text;
  return classifyChatRequest({ messages, toolCount: 0, ...extra });
}

const taskOf = (text: string, extra: Partial<ChatRequestInput> = {}) => classify(text, extra).task;

const PYTHON_TRACEBACK = [
  'Traceback (most recent call last):',
  '  File "/home/dev/app/main.py", line 12, in <module>',
  '    total = parse(rows)',
  '  File "/home/dev/app/parse.py", line 4, in parse',
  '    return sum(int(r) for r in rows)',
  "ValueError: invalid literal for int() with base 10: 'x'",
].join('\n');

const TS_ERRORS = [
  "src/parser/tokenize.ts(14,7): error TS2322: Type 'string' is not assignable to type 'number'.",
  "src/parser/tokenize.ts(20,3): error TS2304: Cannot find name 'peek'.",
].join('\n');

const NODE_TRACE = [
  "TypeError: Cannot read properties of undefined (reading 'length')",
  '    at tokenize (/work/app/src/parser/tokenize.ts:14:20)',
  '    at Object.<anonymous> (/work/app/src/index.ts:3:1)',
].join('\n');

/** A request as VS Code's Copilot Chat renders it: boilerplate, attachments, then `<userRequest>`. */
function copilotTurn(request: string, attachment?: { filePath: string; body: string }): ChatMessage[] {
  const attachments = attachment
    ? `<attachments>\n<attachment id="file:${attachment.filePath.split('/').pop()}" filePath="${attachment.filePath}">\n${attachment.body}\n</attachment>\n</attachments>\n`
    : '';
  return [
    { role: 'system', content: 'You are an expert AI programming assistant. If the user asks you to fix a bug, write code.' },
    user('<environment_info>\nThe user\'s current OS is: Linux\n</environment_info>\n<workspace_info>\nI am working in a workspace with the following folders:\n- /work/app\n```\nsrc/\n  index.ts\n  other.ts\n```\n</workspace_info>'),
    user(
      `${attachments}<context>\nThe current date is May 2, 2026.\n</context>\n<editorContext>\nThe user's current file is /work/app/src/parser/tokenize.ts. \n</editorContext>\n` +
        '<reminderInstructions>\nDo NOT create a new markdown file to document each change. Fix errors you introduce.\n</reminderInstructions>\n' +
        `<userRequest>\n${request}\n</userRequest>`,
    ),
  ];
}

describe('chat classifier: intent of the instruction', () => {
  /** Phrasings real users type, by the task they ask for. */
  const PHRASINGS: Array<[ChatTask, string[]]> = [
    ['explain', ['explain this function', 'What does this do?', 'how does the retry loop work?', 'Walk me through the parser', 'what is this?', 'Can you help me understand the tokenizer?']],
    ['debug', ['fix this', 'There is a bug in the sum', 'the build fails on CI', 'it crashes when the list is empty', "this doesn't work", 'why is the cache not used?', "why isn't the test passing"]],
    [
      'generate',
      ['write a function that parses ISO dates', 'implement retry with backoff', 'create a React component for the login form', 'add a unit test for tokenize', 'generate a CLI for this', 'make a function that reverses a string', 'refactor this into smaller functions'],
    ],
    ['format', ['format this file', 'please reformat the selection', 'fix the indentation', 'run prettier on this', 'the indentation is all over the place']],
  ];
  for (const [task, texts] of PHRASINGS) {
    for (const text of texts) it(`${task}: ${JSON.stringify(text)}`, () => assert.equal(taskOf(text), task));
  }

  it('a general question with no task words is chat, and the reason says so', () => {
    const c = classify('What is the difference between a process and a thread?');
    assert.equal(c.task, 'chat');
    assert.match(c.reason, /^chat: a general question/);
  });

  /** Messages where several rules could match, with the task that should win and why. */
  const CONFLICTS: Array<[string, string, ChatTask]> = [
    ['"add" in a question about a function named add is no request to add', 'what does add() return when the list is empty?', 'explain'],
    ['inline code decides nothing', 'what does `add` return?', 'explain'],
    ['error words in "add error handling" ask for code', 'add error handling to the fetch call', 'generate'],
    ['an error word alone asks for a fix', 'I get an error when I run it', 'debug'],
    ['"fix the indentation" is a format phrase, not a fix', 'fix the indentation', 'format'],
    ['a fix word outside the format phrase still wins', 'fix the indentation and the off-by-one bug', 'debug'],
    ['generate first, then explain: generate', 'write a comment explaining this function', 'generate'],
    ['explain first, then generate: explain', 'explain this function, then rewrite it', 'explain'],
    ['an imperative that asks for behaviour is no error report', 'throw an error if x is null', 'generate'],
    ['asking for faster code asks for a change', 'can this be made faster?', 'generate'],
    ['asking which of two is faster is a question, not a request for code', 'Which is faster in general, a hash map or a sorted array?', 'chat'],
    ['asking for a faster version is a request for code', 'give me a faster version of this loop', 'generate'],
  ];
  for (const [why, text, task] of CONFLICTS) {
    it(`${why}: ${JSON.stringify(text)} → ${task}`, () => assert.equal(taskOf(text), task));
  }

  it('the reason names the words that decided', () => {
    assert.equal(classify('it crashes on empty input').reason, 'debug: the message says "crashes"');
    assert.match(classify('what does the reducer do?').reason, /^explain: the message says "what does … do"/);
  });

  it("the instruction is the last user turn's own text, trimmed", () => {
    const c = classify([user('explain it'), assistant('It parses.'), user('  now write tests for it  ')]);
    assert.equal(c.instruction, 'now write tests for it');
    assert.equal(c.task, 'generate');
  });
});

describe('chat classifier: quoted errors', () => {
  it('a pasted Python traceback is debug, counted once, and the reason says it is a stack trace', () => {
    const c = classify(PYTHON_TRACEBACK);
    assert.equal(c.task, 'debug');
    assert.equal(c.errorsMentioned, 1);
    assert.equal(c.reason, 'debug: the message quotes a stack trace');
  });

  it('a pasted TypeScript compiler error is debug, one per error line', () => {
    const c = classify(`${TS_ERRORS}\nany idea?`);
    assert.equal(c.task, 'debug');
    assert.equal(c.errorsMentioned, 2);
    assert.match(c.reason, /2 compiler errors/);
  });

  it('a JS exception with its frames inside a fenced block counts as one stack trace', () => {
    const c = classify(`what now?\n\`\`\`\n${NODE_TRACE}\n\`\`\``);
    assert.equal(c.task, 'debug');
    assert.equal(c.errorsMentioned, 1);
  });

  it('"explain this error" with a pasted error and no fix word is explain, and says why', () => {
    const c = classify(`explain this error\n\`\`\`\n${PYTHON_TRACEBACK}\n\`\`\``);
    assert.equal(c.task, 'explain');
    assert.match(c.reason, /quotes a stack trace, but asks no fix/);
  });

  it('a pasted error with "explain … and fix" is debug', () => {
    assert.equal(classify(`explain this error and fix it\n${PYTHON_TRACEBACK}`).task, 'debug');
  });

  it('code that merely contains "error:" keys is no error evidence', () => {
    const c = classify('explain this\n```ts\nconst state = {\n  error: null,\n  loading: false,\n};\nconsole.error("x");\n```');
    assert.equal(c.errorsMentioned, 0);
    assert.equal(c.task, 'explain');
  });
});

describe('chat classifier: the active editor', () => {
  it('a deictic message that decides nothing takes the editor classification\'s task, and says so', () => {
    const c = classify('this?', { editor: editor() });
    assert.equal(c.task, 'generate');
    assert.equal(c.aboutActiveEditor, true);
    assert.equal(c.reason, 'generate: the message decides nothing; at the cursor: cursor in an empty body');
  });

  it('"help" / "look at this" with the editor named take its task too', () => {
    assert.equal(taskOf('look at this', { editor: editor({}, 'debug') }), 'debug');
    assert.equal(taskOf('help with tokenize.ts', { editor: editor({}, 'explain') }), 'explain');
  });

  it('without an editor, a message that decides nothing is chat', () => {
    assert.equal(taskOf('this?'), 'chat');
  });

  it('a general question is chat even with an editor open, and not about it', () => {
    const c = classify('What is the capital of France?', { editor: editor() });
    assert.equal(c.task, 'chat');
    assert.equal(c.aboutActiveEditor, false);
  });

  it('naming the editor\'s file (path, file name, file URI, #file:, attachment) makes the request about it', () => {
    for (const text of [
      'explain src/parser/tokenize.ts',
      'what does tokenize.ts export?',
      'explain file:///work/app/src/parser/tokenize.ts',
      'explain #file:tokenize.ts',
      '<attachment id="file:tokenize.ts" filePath="/work/app/src/parser/tokenize.ts">\nexport const x = 1;\n</attachment>\nexplain',
    ]) {
      assert.equal(classify(text, { editor: editor() }).aboutActiveEditor, true, text);
    }
  });

  it('a deictic while another file is referenced is not about the active editor', () => {
    const c = classify('explain this function in src/other.ts', { editor: editor() });
    assert.equal(c.aboutActiveEditor, false);
    assert.deepEqual(c.referencedPaths, ['src/other.ts']);
  });

  it('carrying a piece of the selection (>= 20 non-space chars) makes it about the editor; a short one does not', () => {
    const selection = 'export function tokenize(input: string): Token[] {\n  return input.split(/\\s+/).map(toToken);\n}';
    const pasted = classify('why is it slow?\n```\nreturn input.split(/\\s+/).map(toToken);\n```', { editor: editor({ selectionText: selection }) });
    assert.equal(pasted.aboutActiveEditor, true);
    const short = classify('what is x + 1 for a regular reader', { editor: editor({ selectionText: 'x + 1' }) });
    assert.equal(short.aboutActiveEditor, false);
  });

  it('Copilot\'s <editorContext> and workspace listing alone do not make a general question about the editor', () => {
    const c = classify(copilotTurn('What is the difference between TCP and UDP?'), { editor: editor() });
    assert.equal(c.task, 'chat');
    assert.equal(c.aboutActiveEditor, false);
    assert.deepEqual(c.referencedPaths, []);
  });

  it('in a Copilot prompt, the instruction is the <userRequest>, and the boilerplate\'s words decide nothing', () => {
    const c = classify(copilotTurn('hello'));
    assert.equal(c.instruction, 'hello');
    assert.equal(c.task, 'chat');
    assert.equal(c.errorsMentioned, 0);
    assert.equal(c.codeChars, 0);
  });

  it('a Copilot attachment of the active file counts as code and makes "this?" about the editor', () => {
    const body = '```ts\nexport function tokenize(input: string) {\n  return input.split(" ");\n}\n```';
    const c = classify(copilotTurn('this?', { filePath: '/work/app/src/parser/tokenize.ts', body }), { editor: editor({}, 'explain') });
    assert.equal(c.aboutActiveEditor, true);
    assert.equal(c.task, 'explain');
    assert.ok(c.codeChars > 40);
    assert.deepEqual(c.referencedPaths, ['/work/app/src/parser/tokenize.ts']);
  });
});

describe('chat classifier: agent turns', () => {
  const tools = (n: number) => ({ toolCount: n });

  it('a request that offers tools is agent, and the reason counts tools and rounds', () => {
    const c = classify('fix the failing test', tools(3));
    assert.equal(c.task, 'agent');
    assert.equal(c.reason, 'agent: 3 tools offered, 0 tool rounds so far; asks to debug (the message says "fix")');
    assert.deepEqual(c.features, [
      ['tools', 'yes'],
      ['rounds', '0'],
      ['errors', 'no'],
      ['code', 'none'],
    ]);
  });

  it('a question stays a question when tools are offered (VS Code offers them in Ask mode too); its tool round is agent', () => {
    const explain = classify('Explain what a closure is in one sentence.', tools(19));
    assert.equal(explain.task, 'explain');
    assert.equal(explain.reason, 'explain: the message says "explain"; 19 tools offered, but the message asks a question');
    assert.equal(taskOf('Which is faster, a hash map or a sorted array?', tools(40)), 'chat');
    assert.equal(taskOf('write a parser for the config file', tools(40)), 'agent');
    const afterCall = classify([user('Explain src/a.ts'), assistant('', [call('1', 'readFile', { filePath: 'src/a.ts' })]), toolResult('1', 'export const a = 1;')], tools(19));
    assert.equal(afterCall.task, 'agent');
  });

  it('tool rounds are counted across a multi-round turn', () => {
    const messages = [
      user('rename foo to bar everywhere'),
      assistant('Looking.', [call('1', 'search', { query: 'foo' })]),
      toolResult('1', 'src/a.ts:3: foo()'),
      assistant('', [call('2', 'readFile', { filePath: '/work/app/src/a.ts' }), call('3', 'readFile', { filePath: '/work/app/src/b.ts' })]),
      toolResult('2', 'foo();'),
    ];
    const c = classify(messages, tools(2));
    assert.equal(c.toolRounds, 2);
    assert.equal(c.instruction, 'rename foo to bar everywhere');
    assert.match(c.reason, /^agent: 2 tools offered, 2 tool rounds so far/);
    assert.deepEqual(c.features[1], ['rounds', '2-4']);
    // The search result names src/a.ts before the calls read it by its absolute path.
    assert.deepEqual(c.referencedPaths, ['src/a.ts', '/work/app/src/a.ts', '/work/app/src/b.ts']);
  });

  it('a new user instruction resets the tool rounds', () => {
    const messages = [
      user('rename foo to bar'),
      assistant('', [call('1', 'edit')]),
      toolResult('1', 'ok'),
      assistant('', [call('2', 'edit')]),
      toolResult('2', 'ok'),
      assistant('Done.'),
      user('now explain what changed'),
    ];
    const c = classify(messages, tools(2));
    assert.equal(c.toolRounds, 0);
    assert.equal(c.instruction, 'now explain what changed');
  });

  it('a turn that carries tool results is agent even when no tools are offered any more', () => {
    const c = classify([user('list the files'), assistant('', [call('1', 'ls')]), toolResult('1', 'a.ts\nb.ts')], tools(0));
    assert.equal(c.task, 'agent');
    assert.match(c.reason, /the turn carries tool calls or results, 1 tool round so far/);
  });

  it('tool calls in an earlier, finished turn do not make a plain question agent', () => {
    const c = classify([user('list the files'), assistant('', [call('1', 'ls')]), toolResult('1', 'a.ts'), assistant('a.ts'), user('what does a.ts do?')], tools(0));
    assert.equal(c.task, 'explain');
  });

  it('Copilot tool-result turns (no text of their own) do not reset the rounds', () => {
    const messages = [...copilotTurn('fix the build'), assistant('', [call('1', 'run')]), user('', { toolResults: [{ callId: '1', content: TS_ERRORS }] }), assistant('', [call('2', 'edit')])];
    const c = classify(messages, tools(5));
    assert.equal(c.toolRounds, 2);
    assert.equal(c.errorsMentioned, 2);
    assert.equal(c.instruction, 'fix the build');
  });
});

describe('chat classifier: difficulty', () => {
  const code = (chars: number) => `explain this\n\`\`\`ts\n${'const a = 1;\n'.repeat(Math.ceil(chars / 13))}\`\`\``;

  it('stays in [0, 1] and does not fall with more code', () => {
    let previous = -1;
    for (const chars of [0, 100, 1_000, 10_000, 100_000, 300_000]) {
      const d = classify(chars === 0 ? 'explain this' : code(chars)).difficulty;
      assert.ok(d >= previous && d >= 0 && d <= 1, `${chars} chars: ${d} after ${previous}`);
      previous = d;
    }
    assert.ok(classify(code(10_000)).difficulty > classify('explain this').difficulty);
  });

  it('does not fall with more errors', () => {
    let previous = -1;
    for (const n of [1, 2, 4, 8]) {
      const d = classify(`fix this\n${Array.from({ length: n }, (_, i) => `src/a.ts(${i + 1},1): error TS2304: Cannot find name 'x'.`).join('\n')}`).difficulty;
      assert.ok(d >= previous, `${n} errors: ${d} after ${previous}`);
      previous = d;
    }
  });

  it('does not fall with more tool rounds, and saturates below 1', () => {
    let previous = -1;
    for (const rounds of [0, 1, 2, 5, 20, 100]) {
      const messages: ChatMessage[] = [user('migrate the tests to vitest')];
      for (let i = 0; i < rounds; i++) messages.push(assistant('', [call(`c${i}`, 'edit')]), toolResult(`c${i}`, 'ok'));
      const d = classify(messages, { toolCount: 4 }).difficulty;
      assert.ok(d >= previous && d < 1, `${rounds} rounds: ${d} after ${previous}`);
      previous = d;
    }
  });

  it('does not fall with a longer conversation', () => {
    const turns = (n: number) => Array.from({ length: n }, (_, i) => [user(`question ${i}: why is it slow?`), assistant('Because.')]).flat();
    const short = classify([...turns(0), user('what does the cache do?')]).difficulty;
    const long = classify([...turns(6), user('what does the cache do?')]).difficulty;
    assert.ok(long >= short);
  });

  it("leans toward the editor classification's difficulty when about the editor", () => {
    const easy = classify('explain this function', { editor: editor({}, 'explain', 0.05) }).difficulty;
    const hard = classify('explain this function', { editor: editor({}, 'explain', 0.95) }).difficulty;
    assert.ok(hard > easy);
    const notAbout = classify('explain closures in JavaScript', { editor: editor({}, 'explain', 0.95) }).difficulty;
    assert.equal(notAbout, classify('explain closures in JavaScript').difficulty);
  });

  it('is deterministic', () => {
    const input: ChatRequestInput = { messages: copilotTurn('fix the crash in the parser'), toolCount: 2, editor: editor() };
    assert.deepEqual(classifyChatRequest(input), classifyChatRequest(input));
  });
});

describe('chat classifier: large inputs', () => {
  it('a 200k-char message classifies quickly, counts its code and finds paths at both ends', () => {
    const body = 'let x = compute(x) + 1; // filler\n'.repeat(6_000);
    const text = `fix the bug in src/head.ts\n\`\`\`ts\n${body}\`\`\`\nsee also lib/tail.py`;
    assert.ok(text.length > 200_000);
    const started = Date.now();
    const c = classify(text);
    assert.ok(Date.now() - started < 1_000, 'took too long');
    assert.equal(c.task, 'debug');
    assert.ok(c.codeChars >= body.length - 1);
    assert.deepEqual(c.features[3], ['code', 'large']);
    assert.deepEqual(c.referencedPaths, ['src/head.ts', 'lib/tail.py']);
  });

  it('pathological long tokens classify quickly', () => {
    const started = Date.now();
    for (const text of ['.'.repeat(200_000) + 'a', 'a/'.repeat(100_000), `why ${'no '.repeat(60_000)}`, '<a '.repeat(70_000), `at ${':1'.repeat(100_000)}`, `file://${'%'.repeat(200_000)}`]) {
      classify(text);
      referencedPathsIn(text);
    }
    assert.ok(Date.now() - started < 2_000, 'took too long');
  });
});

describe('referencedPathsIn', () => {
  it('reads file URIs as the decoded path after file://', () => {
    assert.deepEqual(referencedPathsIn('open file:///home/me/My%20Project/src/app.ts, then run'), ['/home/me/My Project/src/app.ts']);
  });

  it('reads #file: references', () => {
    assert.deepEqual(referencedPathsIn('compare #file:src/a.ts with #file:b.py.'), ['src/a.ts', 'b.py']);
  });

  it('reads filePath="…" and path="…" attributes and their JSON forms', () => {
    assert.deepEqual(referencedPathsIn('<attachment id="x" filePath="/w/src/a.ts">…</attachment> <file path="lib/b.rb">'), ['/w/src/a.ts', 'lib/b.rb']);
    assert.deepEqual(referencedPathsIn('{"filePath":"/w/c.go","query":"x"}'), ['/w/c.go']);
  });

  it('reads Markdown links to files, not to web pages or anchors', () => {
    assert.deepEqual(referencedPathsIn('See [config](src/config.ts#L10) and [docs](https://example.com/a.html) and [top](#top).'), ['src/config.ts']);
  });

  it('reads bare relative and absolute paths, with a line number dropped', () => {
    assert.deepEqual(referencedPathsIn('in src/foo/bar.ts:12:5, ./a.py and /home/x/y.go (also ../up/z.rs)'), ['src/foo/bar.ts', './a.py', '/home/x/y.go', '../up/z.rs']);
    assert.deepEqual(referencedPathsIn('C:\\proj\\src\\Main.cs failed'), ['C:\\proj\\src\\Main.cs']);
  });

  it('reads bare file names with a code extension, and drops one that a longer path already names', () => {
    assert.deepEqual(referencedPathsIn('edit package.json and utils.py'), ['package.json', 'utils.py']);
    assert.deepEqual(referencedPathsIn('[tokenize.ts](src/tokenize.ts)'), ['src/tokenize.ts']);
  });

  it('does not take URLs, version numbers, abbreviations, domains or library names for paths', () => {
    assert.deepEqual(referencedPathsIn('e.g. upgrade to 1.2.3 or v2.0.1, i.e. see https://github.com/a/b.ts and example.com/x.html; Node.js and Vue.js, etc.'), []);
  });

  it('reports each path once, in order of appearance', () => {
    assert.deepEqual(referencedPathsIn('b.ts then src/a.ts then #file:b.ts then src/a.ts'), ['b.ts', 'src/a.ts']);
  });
});
