import * as assert from 'node:assert/strict';
import { CHAT_SYSTEM_PROMPT, buildFimPrompt, detectFimFamily, trimContext, trimPrefix, trimSuffix, type FimPromptInput } from '../../src/core/complete/fimPrompt';

const PREFIX = 'def add(a, b):\n    return ';
const SUFFIX = '\n\nprint(add(1, 2))\n';

function input(model: string, extra: Partial<FimPromptInput> = {}): FimPromptInput {
  return { prefix: PREFIX, suffix: SUFFIX, model, api: 'completions', path: 'src/math.py', languageId: 'python', ...extra };
}

describe('inline completions: FIM prompts', () => {
  it('Qwen2.5-Coder gets its <|fim_…|> tokens and stop tokens', () => {
    const p = buildFimPrompt(input('qwen2.5-coder:7b-base'));
    assert.equal(p.kind, 'fim-tokens');
    if (p.kind !== 'fim-tokens') return;
    assert.equal(p.family, 'qwen');
    assert.equal(p.prompt, `<|fim_prefix|>${PREFIX}<|fim_suffix|>${SUFFIX}<|fim_middle|>`);
    assert.ok(p.stop.includes('<|endoftext|>') && p.stop.includes('<|fim_prefix|>') && p.stop.includes('<|file_sep|>'));
  });

  it('DeepSeek-Coder gets <｜fim▁begin｜>…<｜fim▁hole｜>…<｜fim▁end｜>', () => {
    const p = buildFimPrompt(input('deepseek-ai/DeepSeek-Coder-V2-Lite-Base'));
    assert.ok(p.kind === 'fim-tokens');
    assert.equal(p.family, 'deepseek');
    assert.equal(p.prompt, `<｜fim▁begin｜>${PREFIX}<｜fim▁hole｜>${SUFFIX}<｜fim▁end｜>`);
    assert.ok(p.stop.includes('<｜end▁of▁sentence｜>'));
  });

  it('CodeLlama gets <PRE> … <SUF>… <MID>', () => {
    const p = buildFimPrompt(input('codellama:13b-code'));
    assert.ok(p.kind === 'fim-tokens');
    assert.equal(p.family, 'codellama');
    assert.equal(p.prompt, `<PRE> ${PREFIX} <SUF>${SUFFIX} <MID>`);
    assert.deepEqual(p.stop, ['<PRE>', '<SUF>', '<MID>', '<EOT>', '</s>']);
  });

  it('StarCoder and StarCoder2 get <fim_prefix>…<fim_suffix>…<fim_middle>', () => {
    for (const model of ['bigcode/starcoder', 'StarCoder2-15B']) {
      const p = buildFimPrompt(input(model));
      assert.ok(p.kind === 'fim-tokens');
      assert.equal(p.family, 'starcoder');
      assert.equal(p.prompt, `<fim_prefix>${PREFIX}<fim_suffix>${SUFFIX}<fim_middle>`);
      assert.ok(p.stop.includes('<|endoftext|>'));
    }
  });

  it('Codestral puts the suffix first: [SUFFIX]…[PREFIX]…', () => {
    const p = buildFimPrompt(input('Codestral-22B-v0.1'));
    assert.ok(p.kind === 'fim-tokens');
    assert.equal(p.family, 'codestral');
    assert.equal(p.prompt, `[SUFFIX]${SUFFIX}[PREFIX]${PREFIX}`);
    assert.ok(p.stop.includes('[PREFIX]') && p.stop.includes('[SUFFIX]'));
  });

  it('detects families case-insensitively and leaves unknown and chat-tuned non-coder names alone', () => {
    assert.equal(detectFimFamily('QWEN2.5-CODER-32B'), 'qwen');
    assert.equal(detectFimFamily('Qwen3-Coder-30B-A3B'), 'qwen');
    assert.equal(detectFimFamily('code-llama-7b'), 'codellama');
    assert.equal(detectFimFamily('qwen2.5-72b-instruct'), undefined);
    assert.equal(detectFimFamily('gpt-4o-mini'), undefined);
  });

  it('an unknown model on a completions endpoint gets the endpoint’s own FIM (prompt + suffix)', () => {
    assert.deepEqual(buildFimPrompt(input('my-finetune')), { kind: 'fim-suffix', prompt: PREFIX, suffix: SUFFIX });
  });

  it('an explicit template from settings wins over detection', () => {
    assert.deepEqual(buildFimPrompt(input('qwen2.5-coder:7b', { template: 'suffix' })), { kind: 'fim-suffix', prompt: PREFIX, suffix: SUFFIX });
    const p = buildFimPrompt(input('my-finetune', { template: 'starcoder' }));
    assert.ok(p.kind === 'fim-tokens' && p.prompt.startsWith('<fim_prefix>'));
    assert.equal(buildFimPrompt(input('qwen2.5-coder:7b', { template: 'auto' })).kind, 'fim-tokens');
    assert.equal(buildFimPrompt(input('qwen2.5-coder:7b', { template: 'chat' })).kind, 'chat');
  });

  it('a chat-only model gets a system message (only the code, no fences, no explanation) and the file around a marker', () => {
    const p = buildFimPrompt(input('qwen2.5-coder:7b', { api: 'chat' }));
    assert.ok(p.kind === 'chat');
    assert.equal(p.messages.length, 2);
    assert.equal(p.messages[0].role, 'system');
    assert.equal(p.messages[0].content, CHAT_SYSTEM_PROMPT);
    assert.match(p.messages[0].content, /only the code/);
    assert.match(p.messages[0].content, /Do not use Markdown code fences/);
    assert.match(p.messages[0].content, /Do not explain/);
    const user = p.messages[1].content;
    assert.equal(p.messages[1].role, 'user');
    assert.ok(user.includes('File: src/math.py'));
    assert.ok(user.includes('Language: python'));
    assert.ok(user.includes(`${PREFIX}${p.marker}${SUFFIX}`));
    // The prompt itself must not show the model the fences it is told not to use.
    assert.ok(!user.includes('```'));
    assert.ok(!p.messages[0].content.includes('```'));
  });

  it('the chat marker is one the code does not contain', () => {
    const p = buildFimPrompt(input('gpt-4o', { api: 'chat', prefix: 'const s = "<CURSOR>";\n' }));
    assert.ok(p.kind === 'chat');
    assert.notEqual(p.marker, '<CURSOR>');
    assert.ok(p.messages[1].content.includes(`const s = "<CURSOR>";\n${p.marker}`));
  });
});

describe('inline completions: context trimming', () => {
  const lines = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag} line ${String(i).padStart(3, '0')}`).join('\n');

  it('trimPrefix keeps the end, starting at a line start', () => {
    const prefix = `${lines(50, 'p')}\n    cursor`;
    const trimmed = trimPrefix(prefix, 100);
    assert.ok(trimmed.length <= 100);
    assert.ok(prefix.endsWith(trimmed));
    assert.ok(trimmed.endsWith('    cursor'));
    assert.equal(prefix[prefix.length - trimmed.length - 1], '\n');
    assert.match(trimmed, /^p line \d{3}\n/);
  });

  it('trimSuffix keeps the start, ending at a line end', () => {
    const suffix = `) {\n${lines(50, 's')}`;
    const trimmed = trimSuffix(suffix, 100);
    assert.ok(trimmed.length <= 100);
    assert.ok(suffix.startsWith(trimmed));
    assert.equal(suffix[trimmed.length], '\n');
    assert.ok(trimmed.startsWith(') {\n'));
  });

  it('a cursor line longer than the budget is cut, keeping the text next to the cursor', () => {
    assert.equal(trimPrefix(`a\n${'x'.repeat(30)}y`, 10), `${'x'.repeat(9)}y`);
    assert.equal(trimSuffix(`y${'x'.repeat(30)}\nb`, 10), `y${'x'.repeat(9)}`);
  });

  it('trimContext fits the token budget (characters / 4), the prefix getting most of it and what the suffix does not use', () => {
    const prefix = lines(200, 'p');
    const suffix = lines(200, 's');
    const t = trimContext(prefix, suffix, 100);
    assert.ok(t.prefix.length + t.suffix.length <= 400);
    assert.ok(t.prefix.length > 2 * t.suffix.length);
    const short = trimContext(prefix, 'end\n', 100);
    assert.equal(short.suffix, 'end\n');
    assert.ok(short.prefix.length > 350 && short.prefix.length <= 396);
    assert.deepEqual(trimContext('a', 'b', 100), { prefix: 'a', suffix: 'b' });
  });

  it('buildFimPrompt applies the budget', () => {
    const p = buildFimPrompt({ prefix: lines(500, 'p'), suffix: lines(500, 's'), model: 'x', api: 'completions', path: 'a', languageId: 'c', maxContextTokens: 50 });
    assert.ok(p.kind === 'fim-suffix');
    assert.ok(p.prompt.length + p.suffix.length <= 200);
    assert.match(p.prompt, /^p line \d{3}\n/);
  });
});
