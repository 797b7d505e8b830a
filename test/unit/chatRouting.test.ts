import * as assert from 'node:assert/strict';
import { AUTO_MODEL_ID, DEFAULT_CONTEXT_WINDOW, chatModelEntries } from '../../src/core/chat/chatModels';
import { chatPrivacy } from '../../src/core/chat/chatPrivacy';
import { ChatTurns, REGENERATE_WINDOW_MS, requestKey, turnKey } from '../../src/core/chat/chatTurns';
import { parseSettings, type SettingKey } from '../../src/core/config/settingsSchema';
import { mergePolicy, type Policy, type RepoPolicy } from '../../src/core/policy/policy';
import type { ChatMessage } from '../../src/core/providers/chatProvider';
import { RouteRefusal, route, type RouteInput } from '../../src/core/route/router';
import { CachingTokenCounter } from '../../src/core/tokens/cachingTokenCounter';
import type { TokenCounter } from '../../src/core/tokens/tokenCounter';

const raw: Partial<Record<SettingKey, unknown>> = {
  providers: [
    { id: 'cloud', kind: 'openai', baseUrl: 'https://api.example.com/v1' },
    { id: 'local', kind: 'openai', baseUrl: 'http://127.0.0.1:11434/v1', auth: 'none' },
  ],
  models: [
    { id: 'mini', provider: 'cloud', name: 'mini-1', tags: ['cheap'], price: { inputPerMTok: 0.4, outputPerMTok: 1.6 }, contextWindow: 32_000 },
    { id: 'coder', provider: 'cloud', name: 'coder-2', tags: ['code'], price: { inputPerMTok: 2, outputPerMTok: 8 }, contextWindow: 200_000 },
    { id: 'big', provider: 'cloud', name: 'big-3', tags: ['strong', 'code'], price: { inputPerMTok: 15, outputPerMTok: 75 } },
    { id: 'plain-local', provider: 'local', name: 'llama3:8b', tags: ['local'], capabilities: ['chat'], price: { inputPerMTok: 0, outputPerMTok: 0 } },
    { id: 'fim-only', provider: 'local', name: 'starcoder2:3b', tags: ['local'], capabilities: ['fim'] },
  ],
  'tasks.chat': 'cheap',
  'tasks.explain': 'cheap',
  'tasks.agent': 'code',
  'routing.mode': 'task',
};

function policyWith(overrides: Partial<Record<SettingKey, unknown>> = {}, repo?: RepoPolicy): Policy {
  const { settings, issues } = parseSettings((key) => (key in overrides ? overrides[key] : raw[key]));
  assert.deepEqual(issues, []);
  return mergePolicy(settings, repo ? { policy: repo, hash: 'h' } : undefined);
}

const user = (content: string): ChatMessage => ({ role: 'user', content });

describe('chat models in the picker', () => {
  it('lists Auto first, then one entry per tier that has a chat model, each with the models behind it', () => {
    const entries = chatModelEntries(policyWith(), 4096);
    assert.deepEqual(entries.map((e) => [e.id, e.name]), [
      [AUTO_MODEL_ID, 'CodeRoute Auto'],
      ['tier-cheap', 'CodeRoute Cheap'],
      ['tier-code', 'CodeRoute Code'],
      ['tier-strong', 'CodeRoute Strong'],
      ['tier-local', 'CodeRoute Local'],
    ]);
    const byId = new Map(entries.map((e) => [e.id, e]));
    assert.deepEqual(byId.get('tier-code')?.modelIds, ['coder', 'big']);
    // A model that only fills in the middle cannot chat: it is behind no entry.
    assert.deepEqual(byId.get('tier-local')?.modelIds, ['plain-local']);
    // Auto reaches what the chat tasks name (cheap, code), not the local tier.
    assert.deepEqual(byId.get(AUTO_MODEL_ID)?.modelIds, ['mini', 'coder', 'big']);
  });

  it('takes the smallest window of the models behind an entry, less the output allowance, and the default for an unknown one', () => {
    const byId = new Map(chatModelEntries(policyWith(), 4096).map((e) => [e.id, e]));
    assert.equal(byId.get('tier-cheap')?.maxInputTokens, 32_000 - 4096);
    assert.equal(byId.get(AUTO_MODEL_ID)?.maxInputTokens, 32_000 - 4096, 'Auto may route to the 32k model');
    assert.equal(byId.get('tier-strong')?.maxInputTokens, DEFAULT_CONTEXT_WINDOW - 4096);
    assert.equal(byId.get('tier-cheap')?.maxOutputTokens, 4096);
  });

  it('offers tool calling only where every model that may take an agent turn calls tools', () => {
    const byId = new Map(chatModelEntries(policyWith(), 4096).map((e) => [e.id, e]));
    assert.equal(byId.get('tier-code')?.toolCalling, true);
    assert.equal(byId.get('tier-local')?.toolCalling, false, 'the local model chats without tools');
    assert.equal(byId.get(AUTO_MODEL_ID)?.toolCalling, true, 'agent turns go to code models, which call tools');
    const localAgent = new Map(chatModelEntries(policyWith({ 'tasks.agent': ['coder', 'plain-local'] }), 4096).map((e) => [e.id, e]));
    assert.equal(localAgent.get(AUTO_MODEL_ID)?.toolCalling, false);
  });

  it('leaves out what the repository policy denies, and offers nothing when no model can chat', () => {
    const denied = chatModelEntries(policyWith({}, { deny: { models: ['big'] } } as RepoPolicy), 4096);
    assert.ok(!denied.some((e) => e.id === 'tier-strong'), 'the strong tier had only the denied model');
    assert.ok(!denied.some((e) => e.modelIds.includes('big')));
    const none = chatModelEntries(policyWith({ models: [{ id: 'fim-only', provider: 'local', name: 'starcoder2:3b', tags: ['cheap'], capabilities: ['fim'] }] }), 4096);
    assert.deepEqual(none, []);
  });
});

describe('routing a chat request', () => {
  const input = (overrides: Partial<RouteInput> = {}): RouteInput => ({ requestId: 'c1', task: 'chat', languageId: 'plaintext', path: '', policy: policyWith(), ...overrides });

  it('a pinned tier replaces the task setting as the candidates, and the reason says where they came from', () => {
    const decision = route(input({ candidates: { entries: ['strong'], origin: 'CodeRoute Strong in the picker' } }));
    assert.equal(decision.chosen.model.id, 'big');
    assert.match(decision.reason, /CodeRoute Strong in the picker/);
  });

  it('a turn that offers tools leaves out models that cannot call them, and says why', () => {
    const decision = route(input({ task: 'agent', candidates: { entries: ['local', 'code'], origin: 'test' }, requires: ['tools'] }));
    assert.equal(decision.chosen.model.id, 'coder');
    const local = decision.candidates.find((c) => c.modelId === 'plain-local');
    assert.match(local?.note ?? '', /cannot call tools/);
    assert.throws(() => route(input({ task: 'agent', candidates: { entries: ['local'], origin: 'test' }, requires: ['tools'] })), RouteRefusal);
  });

  it('the repository policy still decides for a pinned tier: a tier it does not allow is refused', () => {
    const policy = policyWith({}, { tasks: { chat: 'cheap' } } as RepoPolicy);
    assert.equal(policy.taskTiers.chat, 'cheap');
    assert.throws(() => route(input({ policy, candidates: { entries: ['strong'], origin: 'picker' } })), /pins chat to cheap/);
  });

  it('takes the difficulty given for a chat request', () => {
    const decision = route(input({ difficulty: 0.83 }));
    assert.equal(decision.estimateContext?.difficulty, 0.83);
    assert.ok(decision.features?.includes('difficulty 0.83'), decision.features?.join('; '));
  });
});

describe('chat privacy', () => {
  const policy = policyWith({ 'privacy.noAi': ['secrets/**'], 'privacy.localOnly': ['internal/**'] });

  it('refuses for a no-ai active editor, by directive or by path, naming the file and the reason', () => {
    const byDirective = chatPrivacy([{ path: 'src/billing.ts', directives: { noAi: true, localOnly: false }, active: true }], policy);
    assert.deepEqual(byDirective, { refused: 'CodeRoute sent nothing: the active editor, src/billing.ts, is marked "coderoute: no-ai".' });
    const byPath = chatPrivacy([{ path: 'secrets/keys.ts', active: true }], policy);
    assert.ok('refused' in byPath && /secrets\/keys\.ts.*"secrets\/\*\*"/.test(byPath.refused), JSON.stringify(byPath));
  });

  it('refuses for a referenced no-ai file even when the active editor is fine, and no-ai wins over local-only', () => {
    const result = chatPrivacy(
      [
        { path: 'internal/a.ts', active: true },
        { path: 'secrets/b.ts', active: false },
      ],
      policy,
    );
    assert.ok('refused' in result && result.refused.includes('the request carries secrets/b.ts'), JSON.stringify(result));
  });

  it('keeps a request with a local-only file to local models, and lets the others go anywhere', () => {
    assert.deepEqual(chatPrivacy([{ path: 'internal/a.ts', active: false }], policy), {
      privacy: 'local-only',
      why: 'the request carries internal/a.ts, which is in the local-only path "internal/**"',
    });
    assert.deepEqual(chatPrivacy([{ path: 'src/app.ts', active: true }], policy), { privacy: 'any' });
  });
});

describe('chat turns', () => {
  const question = user('What does src/a.ts export?');
  const call: ChatMessage = { role: 'assistant', content: '', toolCalls: [{ id: 't1', name: 'readFile', input: { path: 'src/a.ts' } }] };
  const result: ChatMessage = { role: 'user', content: '', toolResults: [{ callId: 't1', content: 'export const a = 1;' }] };

  it('every round of an agent turn has the key of the instruction that began it; a new instruction starts another', () => {
    const first = turnKey([question]);
    assert.equal(turnKey([question, call, result]), first);
    assert.equal(turnKey([question, call, result, call, result]), first);
    assert.notEqual(turnKey([question, call, result, { role: 'assistant', content: 'It exports a.' }, user('And b.ts?')]), first);
  });

  it('a request sent again within the window is a regenerate of its earlier answer, counted once', () => {
    const turns = new ChatTurns();
    const key = requestKey([question], ['readFile']);
    assert.notEqual(key, requestKey([question], []), 'the tools offered are part of the request');
    turns.rememberAnswer(key, { requestId: 'r1', task: 'chat', modelId: 'mini', at: 1_000 });
    assert.equal(turns.takeRegenerated(requestKey([user('something else')], []), 2_000), undefined);
    assert.equal(turns.takeRegenerated(key, 2_000)?.requestId, 'r1');
    assert.equal(turns.takeRegenerated(key, 3_000), undefined, 'one answer is rejected once');
    turns.rememberAnswer(key, { requestId: 'r2', task: 'chat', modelId: 'mini', at: 1_000 });
    assert.equal(turns.takeRegenerated(key, 1_000 + REGENERATE_WINDOW_MS + 1), undefined, 'too late to be a regenerate');
  });

  it('remembers the model of a turn, and forgets the oldest turns past its capacity', () => {
    const turns = new ChatTurns();
    turns.rememberTurn('first', 'coder');
    assert.equal(turns.modelOfTurn('first'), 'coder');
    for (let i = 0; i < 500; i++) turns.rememberTurn(`t${i}`, 'mini');
    assert.equal(turns.modelOfTurn('first'), undefined);
    assert.equal(turns.modelOfTurn('t499'), 'mini');
  });
});

describe('the caching token counter', () => {
  /** Counts one token a character and records what it was asked. */
  class Recording implements TokenCounter {
    readonly name = 'recording';
    readonly asked: string[][] = [];
    fail = false;
    count(texts: readonly string[]): Promise<number[]> {
      this.asked.push([...texts]);
      return this.fail ? Promise.reject(new Error('no tokenizer')) : Promise.resolve(texts.map((t) => t.length));
    }
  }

  it('sends only texts it has not counted, once each, and answers in order', async () => {
    const inner = new Recording();
    const counter = new CachingTokenCounter(inner);
    assert.deepEqual(await counter.count(['aa', 'bbb', 'aa']), [2, 3, 2]);
    assert.deepEqual(await counter.count(['bbb', 'c']), [3, 1]);
    assert.deepEqual(inner.asked, [['aa', 'bbb'], ['c']]);
  });

  it('shares one count between concurrent asks for the same text', async () => {
    const inner = new Recording();
    const counter = new CachingTokenCounter(inner);
    const [a, b] = await Promise.all([counter.count(['same']), counter.count(['same'])]);
    assert.deepEqual([a, b], [[4], [4]]);
    assert.deepEqual(inner.asked, [['same']]);
  });

  it('keeps no more text than its bound, dropping the least recently used first', async () => {
    const inner = new Recording();
    const counter = new CachingTokenCounter(inner, 10);
    await counter.count(['aaaa', 'bbbb']);
    await counter.count(['aaaa']); // used again: b is now the oldest
    await counter.count(['cccc']);
    inner.asked.length = 0;
    await counter.count(['aaaa', 'bbbb', 'cccc']);
    assert.deepEqual(inner.asked, [['bbbb']]);
  });

  it('passes a failure on and does not keep it: the next ask tries again', async () => {
    const inner = new Recording();
    const counter = new CachingTokenCounter(inner);
    inner.fail = true;
    await assert.rejects(counter.count(['x']), /no tokenizer/);
    inner.fail = false;
    assert.deepEqual(await counter.count(['x']), [1]);
  });
});
