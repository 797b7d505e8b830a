import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { classifyChatRequest } from '../../src/core/chat/chatClassifier';
import { chatModelEntries } from '../../src/core/chat/chatModels';
import { parseSettings, type SettingKey } from '../../src/core/config/settingsSchema';
import { silentLogger } from '../../src/core/log/logger';
import { mergePolicy } from '../../src/core/policy/policy';
import type { ChatMessage } from '../../src/core/providers/chatProvider';
import { CachingTokenCounter } from '../../src/core/tokens/cachingTokenCounter';
import type { TokenCounter } from '../../src/core/tokens/tokenCounter';
import { WorkerTokenCounter } from '../../src/core/tokens/workerTokenCounter';
import { REPO_ROOT } from '../host/testResults';
import { ms, percentile, spread } from './figures';

/**
 * npm run bench:chat — what CodeRoute's chat models cost VS Code per call.
 *
 * Token counts: VS Code's chat asks `provideTokenCount` for every message of the conversation on
 * every request (to fit the prompt into the window). A conversation grows to about 20,000 tokens
 * (code from this repository's sources and prose, the way an agent turn carries files); after each
 * new exchange every message is counted again, one call each, as VS Code does. Measured per call,
 * with the real tokenizer (o200k in a worker thread): straight to the worker (the baseline) and
 * through the caching counter the chat provider uses, in the same process, one after the other.
 * Also: classifying a request over that conversation, and the model list the picker asks for (the
 * work activation adds, besides registering). Figures are for humans; exit code 0.
 */

const TARGET_TOKENS = 20_000;
const EXCHANGES = 30;

function sourceTexts(): string[] {
  const dir = path.join(REPO_ROOT, 'src', 'core', 'route');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(path.join(dir, f), 'utf8'));
}

/** A conversation of about `tokens` tokens, alternating questions with code and answers. */
function conversation(tokens: number): ChatMessage[] {
  const sources = sourceTexts();
  const messages: ChatMessage[] = [{ role: 'system', content: 'You are a coding assistant working in a TypeScript repository.' }];
  let chars = 0;
  // About 4.6 characters a token for this mix of code and prose under o200k.
  for (let i = 0; chars < tokens * 4.6; i++) {
    const code = sources[i % sources.length].slice(0, 3000);
    const question = `Question ${i}: what does this part of the router do, and is there a bug?\n\`\`\`ts\n${code}\n\`\`\``;
    const answer = `Answer ${i}: it scores each candidate by its expected acceptance less a price term, then orders them. ${'The reasoning continues. '.repeat(20)}`;
    messages.push({ role: 'user', content: question }, { role: 'assistant', content: answer });
    chars += question.length + answer.length;
  }
  return messages;
}

/** Every message counted, one call each, after each new exchange; the duration of every call. */
async function countAsVsCodeDoes(counter: TokenCounter, full: readonly ChatMessage[]): Promise<{ calls: number[]; tokens: number }> {
  const calls: number[] = [];
  let tokens = 0;
  const start = Math.max(1, full.length - EXCHANGES * 2);
  for (let end = start; end <= full.length; end += 2) {
    tokens = 0;
    for (const message of full.slice(0, end)) {
      const t0 = performance.now();
      const [n] = await counter.count([message.content]);
      calls.push(performance.now() - t0);
      tokens += n;
    }
  }
  return { calls, tokens };
}

async function main(): Promise<void> {
  const script = path.join(REPO_ROOT, 'dist', 'tokenizerWorker.js');
  const messages = conversation(TARGET_TOKENS);
  console.log(`chat bench: a conversation of ${messages.length} messages, ${EXCHANGES} exchanges counted again after each`);

  const baseline = new WorkerTokenCounter({ script, logger: silentLogger });
  const worker = new WorkerTokenCounter({ script, logger: silentLogger });
  try {
    // Both workers load the vocabulary first: the first count of a session is not the steady state.
    await Promise.all([baseline.count(['warm up']), worker.count(['warm up'])]);
    const direct = await countAsVsCodeDoes(baseline, messages);
    const cached = await countAsVsCodeDoes(new CachingTokenCounter(worker), messages);
    console.log(`  the conversation: ${direct.tokens} tokens (o200k_base)${direct.tokens === cached.tokens ? '' : ` — MISMATCH: cached counts ${cached.tokens}`}`);
    console.log(`  provideTokenCount, straight to the tokenizer (${direct.calls.length} calls): ${spread(direct.calls)}`);
    console.log(`  provideTokenCount, through the cache (${cached.calls.length} calls):      ${spread(cached.calls)}`);
    const ratio = percentile(cached.calls, 95) / percentile(direct.calls, 95);
    console.log(`  p95 per call, cached / straight: ${ratio.toFixed(3)}`);
    const longest = messages.reduce((a, m) => (m.content.length > a.content.length ? m : a));
    const cold: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      await worker.count([`${i} ${longest.content}`]);
      cold.push(performance.now() - t0);
    }
    console.log(`  a new message of ${longest.content.length} characters (not cached): ${spread(cold)}`);
  } finally {
    baseline.dispose();
    worker.dispose();
  }

  const classify: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    classifyChatRequest({ messages, toolCount: i % 2 ? 12 : 0 });
    classify.push(performance.now() - t0);
  }
  console.log(`  classifying a request over the whole conversation: ${spread(classify)}`);

  const raw: Partial<Record<SettingKey, unknown>> = {
    providers: [{ id: 'p', kind: 'openai', baseUrl: 'https://api.example.com/v1' }],
    models: Array.from({ length: 20 }, (_, i) => ({ id: `m${i}`, provider: 'p', name: `model-${i}`, tags: [['cheap'], ['code'], ['strong'], ['local']][i % 4] })),
  };
  const policy = mergePolicy(parseSettings((key) => raw[key]).settings);
  const list: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const t0 = performance.now();
    chatModelEntries(policy, 4096);
    list.push(performance.now() - t0);
  }
  console.log(`  the picker's model list over 20 models: p50 ${ms(percentile(list, 50))}, p99 ${ms(percentile(list, 99))}`);
}

void main();
