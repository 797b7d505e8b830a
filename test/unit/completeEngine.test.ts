import * as assert from 'node:assert/strict';
import type { ParseText } from '../../src/core/complete/syntaxStop';
import * as path from 'node:path';
import type { Attempt, ChatRunResult } from '../../src/core/actions/runChatAttempt';
import { Classifier } from '../../src/core/classify/classifier';
import { TreeSitterLoader } from '../../src/core/classify/treeSitterLoader';
import { CompletionCache } from '../../src/core/complete/completionCache';
import { CompletionEngine, completionApi, type CompletionOutcome, type CompletionReservation } from '../../src/core/complete/completionEngine';
import { CompletionEscalation } from '../../src/core/complete/escalation';
import { CHAT_SYSTEM_PROMPT } from '../../src/core/complete/fimPrompt';
import { parseSettings, type ModelConfig, type ProviderConfig, type SettingKey, type Settings } from '../../src/core/config/settingsSchema';
import type { RequestContext, TextPosition } from '../../src/core/context/requestContext';
import { Learner } from '../../src/core/learn/learner';
import { silentLogger } from '../../src/core/log/logger';
import { mergePolicy } from '../../src/core/policy/policy';
import { HttpProviderClients } from '../../src/core/providers/providerFactory';
import { ProviderHealth } from '../../src/core/providers/health/providerHealth';
import type { RouteDecision, RoutedModel } from '../../src/core/route/routeDecision';
import { NO_SPEND } from '../../src/core/route/router';
import { priceOf } from '../../src/core/route/pricing';
import { MockLlmServer } from '../mock/mockLlmServer';
import { REPO_ROOT } from './repoRoot';

/**
 * The inline completion engine end to end on real parts: the tree-sitter classifier, the router,
 * the HTTP provider clients, talking over loopback to the mock LLM server. Only the budget gate
 * (`reserve`) is a recording stand-in, as the extension's ledger is not part of the engine.
 */

// ---------------------------------------------------------------------------------------------
// Documents

/** A function with a partial statement: the cursor (`|`) at the end of `sum +=`. */
const LINE_SOURCE = ['export function total(items: number[]): number {', '  let sum = 0;', '  for (const item of items) sum +=|', '  return sum;', '}', ''].join('\n');
/** The cursor on the empty line of an empty function body. */
const BLOCK_SOURCE = ['export function total(items: number[]): number {', '  |', '}', ''].join('\n');

interface Spot {
  request: RequestContext;
  offset: number;
}

let requestCounter = 0;

/** A request for `source`, whose cursor is marked with `|`. */
function spot(source: string, filePath = 'src/total.ts', languageId = 'typescript'): Spot {
  const offset = source.indexOf('|');
  assert.ok(offset >= 0, 'the source marks the cursor');
  const text = source.slice(0, offset) + source.slice(offset + 1);
  const before = text.slice(0, offset);
  const position: TextPosition = { line: before.split('\n').length - 1, character: offset - (before.lastIndexOf('\n') + 1) };
  return {
    offset,
    request: {
      requestId: `complete-${++requestCounter}`,
      languageId,
      path: filePath,
      text,
      textStartLine: 0,
      headerText: text.split('\n', 30).join('\n'),
      selection: { start: position, end: position, active: position },
      diagnostics: [],
      workspaceTrusted: true,
    },
  };
}

/** The same document with `typed` inserted at the cursor, and the cursor after it. */
function typedAt(at: Spot, typed: string): Spot {
  const { text } = at.request;
  return spot(text.slice(0, at.offset) + typed + '|' + text.slice(at.offset), at.request.path, at.request.languageId);
}

// ---------------------------------------------------------------------------------------------
// Settings

const PRICE = { inputPerMTok: 1, outputPerMTok: 2 };

/** A cheap FIM model, served by an OpenAI-compatible `/completions` with `suffix`. */
const FIM_CHEAP = { id: 'fim-cheap', provider: 'mock', name: 'mock-fim-small', tags: ['cheap'], capabilities: ['fim'], price: PRICE };
/** A code model with both APIs. */
const CODER = { id: 'coder', provider: 'mock', name: 'mock-coder-large', tags: ['code'], capabilities: ['chat', 'fim'], price: PRICE };
/** A local Qwen coder, served raw (Ollama-style): its FIM tokens go in the prompt. */
const QWEN_LOCAL = { id: 'qwen-local', provider: 'ollama', name: 'qwen2.5-coder:1.5b', tags: ['cheap', 'local'], capabilities: ['fim'], price: { inputPerMTok: 0, outputPerMTok: 0 } };

/**
 * The mock server as two providers: `mock` (a keyed cloud endpoint) and `ollama` (a local one
 * without a key). Every model has the same price, so that in the default hybrid mode the choice
 * among candidates follows the acceptance priors alone. Learning is off unless a test turns it on.
 */
function settingsFor(server: MockLlmServer, overrides: Partial<Record<SettingKey, unknown>> = {}): Settings {
  const raw: Partial<Record<SettingKey, unknown>> = {
    providers: [
      { id: 'mock', kind: 'openai', baseUrl: server.baseUrl, auth: 'apiKey' },
      { id: 'ollama', kind: 'openai', baseUrl: server.baseUrl, auth: 'none' },
    ],
    models: [FIM_CHEAP, CODER],
    'learning.enabled': false,
    ...overrides,
  };
  const { settings, issues } = parseSettings((key) => raw[key]);
  assert.deepEqual(issues, []);
  return settings;
}

// ---------------------------------------------------------------------------------------------
// The engine, built as the extension's InlineCompletions builds it

interface ReserveCall {
  decision: RouteDecision;
  promptTokens: number;
  maxOutputTokens: number;
}

interface Harness {
  engine: CompletionEngine;
  cache: CompletionCache;
  escalation: CompletionEscalation;
  reserves: ReserveCall[];
  settled: ChatRunResult[];
  released: number;
  attempts: Attempt[][];
  complete(at: Spot, signal?: AbortSignal): Promise<CompletionOutcome>;
}

interface HarnessOptions {
  apiKey?: (providerId: string) => string | undefined;
  /** Replaces the recording reservation's answer (a refusal, or a side effect before it). */
  reserve?: (call: ReserveCall, reservation: CompletionReservation) => Promise<CompletionReservation | { refused: string }>;
  learner?: Learner;
  cache?: CompletionCache;
  escalation?: CompletionEscalation;
  /** Tree-sitter for the syntax check of multi-line completions. */
  parse?: ParseText;
}

function httpOnly(provider: ProviderConfig) {
  if (provider.kind === 'vscode-lm') throw new Error(`${provider.id} is not an HTTP provider`);
  return provider;
}

function harness(classifier: Classifier, settings: Settings, options: HarnessOptions = {}): Harness {
  const clients = new HttpProviderClients();
  const policy = mergePolicy(settings);
  const cache = options.cache ?? new CompletionCache();
  const escalation = options.escalation ?? new CompletionEscalation();
  const h: Omit<Harness, 'engine' | 'complete'> = { cache, escalation, reserves: [], settled: [], released: 0, attempts: [] };
  const engine = new CompletionEngine({
    classifier,
    settings: () => settings,
    policy: () => policy,
    budget: () => NO_SPEND,
    prices: priceOf,
    learner: async () => options.learner,
    apiKey: async (id) => (options.apiKey ? options.apiKey(id) : id === 'mock' ? 'sk-test-complete' : undefined),
    reserve: async (decision, promptTokens, maxOutputTokens) => {
      const call = { decision, promptTokens, maxOutputTokens };
      h.reserves.push(call);
      const reservation: CompletionReservation = {
        decision,
        settle: async (run) => {
          h.settled.push(run);
        },
        release: async () => {
          h.released++;
        },
      };
      return options.reserve ? options.reserve(call, reservation) : reservation;
    },
    chatProvider: (routed, key) => clients.get(httpOnly(routed.provider), key, settings.request),
    completionProvider: (routed, key) => (routed.provider.kind === 'openai' ? clients.completions(routed.provider, key, settings.request) : undefined),
    health: new ProviderHealth(),
    logger: silentLogger,
    cache,
    escalation,
    parse: options.parse,
    onAttempts: (attempts) => h.attempts.push([...attempts]),
  });
  const full = h as Harness;
  full.engine = engine;
  full.complete = async (at, signal = new AbortController().signal) => {
    const outcome = await engine.complete({ request: at.request, offset: at.offset, signal });
    // The engine settles a call on the next turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    return outcome;
  };
  return full;
}

function completion(outcome: CompletionOutcome): Extract<CompletionOutcome, { status: 'completion' }> {
  assert.equal(outcome.status, 'completion', `expected a completion, got ${JSON.stringify(outcome.status === 'none' ? { why: outcome.why, message: outcome.message } : outcome)}`);
  return outcome as Extract<CompletionOutcome, { status: 'completion' }>;
}

function nothing(outcome: CompletionOutcome): Extract<CompletionOutcome, { status: 'none' }> {
  assert.equal(outcome.status, 'none', `expected no completion, got ${outcome.status === 'completion' ? JSON.stringify(outcome.text) : ''}`);
  return outcome as Extract<CompletionOutcome, { status: 'none' }>;
}

type Body = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------

describe('completion engine (real classifier, router and HTTP clients against the loopback mock server)', () => {
  let server: MockLlmServer;
  const loader = new TreeSitterLoader(path.join(REPO_ROOT, 'dist', 'wasm'), silentLogger);
  // A generous parse cap keeps a busy machine from sending the classifier down the text-only path.
  const classifier = new Classifier(loader, silentLogger, { parseTimeCapMs: 5000 });

  before(async () => {
    server = await MockLlmServer.start();
  });
  beforeEach(() => server.reset());
  after(async () => {
    classifier.dispose();
    loader.dispose();
    await server.close();
  });

  const bodyOf = (i: number) => server.requests[i].body as Body;

  describe('fill-in-the-middle', () => {
    it('asks /v1/completions with the model name, the text before the cursor as prompt and the text after as suffix, and returns only the line', async () => {
      const h = harness(classifier, settingsFor(server));
      const at = spot(LINE_SOURCE);
      // The model runs on past the end of the line, as base models do.
      server.enqueue({ kind: 'reply', text: ' item;\n  sum *= 2;\n  return sum;\n}\n' });
      const outcome = completion(await h.complete(at));

      assert.equal(server.requests.length, 1);
      const [received] = server.requests;
      assert.equal(received.path, '/v1/completions');
      assert.equal(received.headers.authorization, 'Bearer sk-test-complete');
      const body = bodyOf(0);
      assert.equal(body.model, 'mock-fim-small');
      assert.equal(body.prompt, at.request.text.slice(0, at.offset));
      assert.ok((body.prompt as string).endsWith('\n  for (const item of items) sum +='), 'the prompt ends with the partial line');
      assert.equal(body.suffix, '\n  return sum;\n}\n');
      assert.equal(body.stream, true);
      assert.equal(body.max_tokens, 128, 'a line completion needs little output');
      assert.equal(body.temperature, 0.2);
      assert.equal(body.messages, undefined);
      assert.equal(body.stop, undefined, 'no stop list: the endpoint inserts its own FIM tokens');

      assert.equal(outcome.text, ' item;', 'only the rest of the line');
      assert.equal(outcome.kind, 'complete-line');
      assert.equal(outcome.modelId, 'fim-cheap');
      assert.equal(outcome.decision.chosen.model.id, 'fim-cheap');
      assert.equal(outcome.cached, undefined);
      assert.equal(outcome.requestId, at.request.requestId);
    });

    it('drops the part of the answer the document already has after the cursor', async () => {
      const h = harness(classifier, settingsFor(server));
      const at = spot(['export function doubled(items: number[]): number[] {', '  return items.map((x) => |);', '}', ''].join('\n'));
      server.enqueue({ kind: 'reply', text: 'x * 2);' });
      const outcome = completion(await h.complete(at));
      assert.equal(bodyOf(0).suffix, ');\n}\n');
      assert.equal(outcome.text, 'x * 2', 'the `);` after the cursor is not inserted twice');
    });

    it('a model whose name shows a FIM family gets the raw FIM-token prompt, no suffix, and the family stop list', async () => {
      const h = harness(classifier, settingsFor(server, { models: [QWEN_LOCAL] }));
      const at = spot(LINE_SOURCE);
      server.enqueue({ kind: 'reply', text: ' item;' });
      const outcome = completion(await h.complete(at));

      assert.equal(server.requests.length, 1);
      assert.equal(server.requests[0].path, '/v1/completions');
      assert.equal(server.requests[0].headers.authorization, undefined, 'a provider without auth gets no key');
      const body = bodyOf(0);
      const prefix = at.request.text.slice(0, at.offset);
      const suffix = at.request.text.slice(at.offset);
      assert.equal(body.model, 'qwen2.5-coder:1.5b');
      assert.equal(body.prompt, `<|fim_prefix|>${prefix}<|fim_suffix|>${suffix}<|fim_middle|>`);
      assert.equal('suffix' in body, false, 'the FIM tokens carry the suffix');
      assert.deepEqual(body.stop, ['<|endoftext|>', '<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<|fim_pad|>', '<|repo_name|>', '<|file_sep|>', '<|im_start|>', '<|im_end|>']);
      assert.equal(outcome.text, ' item;');
      assert.equal(outcome.modelId, 'qwen-local');
    });
  });

  describe('chat models', () => {
    it('a chat-only model is asked through /v1/chat/completions with the file around a cursor marker, and its fenced answer is stripped to the code to insert', async () => {
      const chatty = { id: 'chatty', provider: 'mock', name: 'mock-chat-1', tags: ['cheap'], capabilities: ['chat'], price: PRICE };
      const h = harness(classifier, settingsFor(server, { models: [chatty] }));
      const at = spot(LINE_SOURCE.replace('sum +=|', 'sum += |'));
      // Chat models wrap code in a fence, and often repeat the start of the cursor's line.
      server.enqueue({ kind: 'reply', text: '```typescript\nfor (const item of items) sum += item;\n```\n' });
      const outcome = completion(await h.complete(at));

      assert.equal(server.requests.length, 1);
      assert.equal(server.requests[0].path, '/v1/chat/completions');
      const body = bodyOf(0);
      assert.equal(body.model, 'mock-chat-1');
      assert.equal(body.prompt, undefined);
      assert.equal(body.suffix, undefined);
      assert.equal(body.temperature, 0.2);
      const messages = body.messages as { role: string; content: string }[];
      assert.equal(messages.length, 2);
      assert.deepEqual(messages[0], { role: 'system', content: CHAT_SYSTEM_PROMPT });
      assert.equal(messages[1].role, 'user');
      const prefix = at.request.text.slice(0, at.offset);
      const suffix = at.request.text.slice(at.offset);
      assert.ok(messages[1].content.includes('File: src/total.ts'), messages[1].content);
      assert.ok(messages[1].content.includes('Language: typescript'), messages[1].content);
      assert.ok(messages[1].content.includes(`${prefix}<CURSOR>${suffix}`), 'the whole file with the marker at the cursor');

      assert.equal(outcome.text, 'item;', 'no fence, no echo of the line, no trailing newline');
      assert.equal(outcome.modelId, 'chatty');
    });

    it('a FIM model set to `fimTemplate: chat` is asked through chat too', async () => {
      const viaChat = { ...CODER, id: 'coder-chat', tags: ['cheap'], fimTemplate: 'chat' };
      const h = harness(classifier, settingsFor(server, { models: [viaChat] }));
      server.enqueue({ kind: 'reply', text: ' item;' });
      const outcome = completion(await h.complete(spot(LINE_SOURCE)));
      assert.equal(server.requests[0].path, '/v1/chat/completions');
      assert.equal(outcome.text, ' item;');
    });

    it('a model of an anthropic provider is asked through the Messages API', async () => {
      const settings = settingsFor(server, {
        providers: [{ id: 'claude', kind: 'anthropic', baseUrl: server.rootUrl, auth: 'apiKey' }],
        models: [{ id: 'haiku', provider: 'claude', name: 'claude-haiku-mock', tags: ['cheap'], capabilities: ['chat', 'fim'], price: PRICE }],
      });
      const h = harness(classifier, settings, { apiKey: (id) => (id === 'claude' ? 'sk-ant-test' : undefined) });
      server.enqueue({ kind: 'reply', text: '```ts\n item;\n```' });
      const outcome = completion(await h.complete(spot(LINE_SOURCE)));
      assert.equal(server.requests.length, 1);
      assert.equal(server.requests[0].path, '/v1/messages');
      assert.equal(bodyOf(0).model, 'claude-haiku-mock');
      assert.equal(outcome.text, ' item;');
    });
  });

  describe('the cache', () => {
    it('answers the same spot again without a request, and the rest of the completion once its start is typed', async () => {
      const h = harness(classifier, settingsFor(server));
      const at = spot(LINE_SOURCE);
      server.enqueue({ kind: 'reply', text: ' item;' });
      const first = completion(await h.complete(at));
      assert.equal(first.cached, undefined);
      assert.equal(server.requests.length, 1);

      const again = completion(await h.complete(spot(LINE_SOURCE)));
      assert.equal(again.cached, 'exact');
      assert.equal(again.text, ' item;');
      assert.equal(again.modelId, 'fim-cheap');
      assert.equal(server.requests.length, 1, 'no second request');

      const typed = completion(await h.complete(typedAt(at, ' it')));
      assert.equal(typed.cached, 'typed-through');
      assert.equal(typed.text, 'em;', 'the rest of what the ghost text showed');
      assert.equal(server.requests.length, 1, 'still no second request');
      assert.equal(h.reserves.length, 1, 'nothing is held for a cache hit');
    });

    it('does not serve another model\u2019s cached completion', async () => {
      const cache = new CompletionCache();
      server.enqueue({ kind: 'reply', text: ' item;' }, { kind: 'reply', text: ' items.length;' });
      await harness(classifier, settingsFor(server), { cache }).complete(spot(LINE_SOURCE));
      const other = harness(classifier, settingsFor(server, { models: [{ ...FIM_CHEAP, id: 'fim-other', name: 'mock-fim-other' }] }), { cache });
      const outcome = completion(await other.complete(spot(LINE_SOURCE)));
      assert.equal(outcome.cached, undefined);
      assert.equal(outcome.text, ' items.length;');
      assert.equal(server.requests.length, 2);
    });
  });

  describe('privacy', () => {
    it('a file marked `coderoute: no-ai` gets nothing and sends nothing', async () => {
      const h = harness(classifier, settingsFor(server));
      const outcome = nothing(await h.complete(spot(`// coderoute: no-ai\n${LINE_SOURCE}`)));
      assert.equal(outcome.why, 'no-ai');
      assert.match(outcome.message ?? '', /coderoute: no-ai/);
      assert.equal(server.requests.length, 0);
      assert.equal(h.reserves.length, 0);
    });

    it('a path under privacy.noAi gets nothing and sends nothing', async () => {
      const h = harness(classifier, settingsFor(server, { 'privacy.noAi': ['secrets/**'] }));
      const outcome = nothing(await h.complete(spot(LINE_SOURCE, 'secrets/total.ts')));
      assert.equal(outcome.why, 'no-ai');
      assert.equal(outcome.subject, 'coderoute.privacy.noAi');
      assert.match(outcome.message ?? '', /secrets\/\*\*/);
      assert.equal(server.requests.length, 0);
      assert.equal(h.reserves.length, 0);
    });

    it('a local-only file with no local model gets nothing and sends nothing', async () => {
      const h = harness(classifier, settingsFor(server, { models: [FIM_CHEAP] }));
      const outcome = nothing(await h.complete(spot(`// coderoute: local-only\n${LINE_SOURCE}`)));
      assert.equal(outcome.why, 'no-allowed-model');
      assert.match(outcome.message ?? '', /local/);
      assert.equal(server.requests.length, 0);
      assert.equal(h.reserves.length, 0);
    });

    it('a local-only file goes to the model tagged local, never to the cloud one', async () => {
      const h = harness(classifier, settingsFor(server, { models: [FIM_CHEAP, QWEN_LOCAL] }));
      server.enqueue({ kind: 'reply', text: ' item;' });
      const outcome = completion(await h.complete(spot(`// coderoute: local-only\n${LINE_SOURCE}`)));
      assert.equal(outcome.modelId, 'qwen-local');
      assert.equal(outcome.decision.privacy, 'local-only');
      assert.deepEqual(outcome.decision.fallbacks.map((f) => f.model.id), []);
      assert.deepEqual(server.requests.map((r) => (r.body as Body).model), ['qwen2.5-coder:1.5b']);
    });
  });

  describe('when nothing is asked', () => {
    it('a spot the classifier says needs nothing (inside a string literal) sends nothing', async () => {
      const h = harness(classifier, settingsFor(server));
      const outcome = nothing(await h.complete(spot('export const greeting = "hello |world";\n')));
      assert.equal(outcome.why, 'kind-none');
      assert.equal(server.requests.length, 0);
      assert.equal(h.reserves.length, 0);
    });

    it('a budget refusal sends nothing and says why', async () => {
      const h = harness(classifier, settingsFor(server), { reserve: async () => ({ refused: 'The daily budget of $1.00 is spent.' }) });
      const outcome = nothing(await h.complete(spot(LINE_SOURCE)));
      assert.equal(outcome.why, 'budget');
      assert.equal(outcome.message, 'The daily budget of $1.00 is spent.');
      assert.equal(outcome.decision?.chosen.model.id, 'fim-cheap');
      assert.equal(h.reserves.length, 1);
      assert.equal(server.requests.length, 0);
    });

    it('a budget gate that fails counts as a refusal: nothing is sent', async () => {
      const h = harness(classifier, settingsFor(server), {
        reserve: async () => {
          throw new Error('ledger locked');
        },
      });
      const outcome = nothing(await h.complete(spot(LINE_SOURCE)));
      assert.equal(outcome.why, 'budget');
      assert.match(outcome.message ?? '', /could not check the budgets \(ledger locked\)/);
      assert.equal(server.requests.length, 0);
    });

    it('an answer with nothing left after post-processing is `empty`: settled, not cached', async () => {
      const h = harness(classifier, settingsFor(server));
      server.enqueue({ kind: 'reply', text: '\n\n' });
      const outcome = nothing(await h.complete(spot(LINE_SOURCE)));
      assert.equal(outcome.why, 'empty');
      assert.equal(server.requests.length, 1);
      assert.equal(h.settled.length, 1);
      assert.equal(h.cache.size, 0);
    });

    it('a task setting naming a model that does not exist is `config`, naming the setting, and nothing is sent', async () => {
      const h = harness(classifier, settingsFor(server, { 'tasks.complete': ['no-such-model'] }));
      const outcome = nothing(await h.complete(spot(LINE_SOURCE)));
      assert.equal(outcome.why, 'config');
      assert.equal(outcome.subject, 'coderoute.tasks.complete');
      assert.match(outcome.message ?? '', /no-such-model/);
      assert.equal(server.requests.length, 0);
    });

    it('a provider that needs a key without one set: missing-key, naming the provider, and nothing sent', async () => {
      const h = harness(classifier, settingsFor(server), { apiKey: () => undefined });
      const outcome = nothing(await h.complete(spot(LINE_SOURCE)));
      assert.equal(outcome.why, 'missing-key');
      assert.equal(outcome.subject, 'mock');
      assert.match(outcome.message ?? '', /No API key is set for mock/);
      assert.equal(server.requests.length, 0);
      assert.equal(h.reserves.length, 0);
    });
  });

  describe('cancellation', () => {
    it('a signal aborted before the call: cancelled, nothing held, nothing sent', async () => {
      const h = harness(classifier, settingsFor(server));
      const controller = new AbortController();
      controller.abort();
      const outcome = nothing(await h.complete(spot(LINE_SOURCE), controller.signal));
      assert.equal(outcome.why, 'cancelled');
      assert.equal(server.requests.length, 0);
      assert.equal(h.reserves.length, 0);
      assert.equal(h.settled.length, 0);
    });

    it('cancelled while the budget was being held: the reservation is released, not settled, and nothing is sent', async () => {
      const controller = new AbortController();
      const h = harness(classifier, settingsFor(server), {
        reserve: async (_call, reservation) => {
          controller.abort();
          return reservation;
        },
      });
      const outcome = nothing(await h.complete(spot(LINE_SOURCE), controller.signal));
      assert.equal(outcome.why, 'cancelled');
      assert.equal(h.released, 1);
      assert.equal(h.settled.length, 0);
      assert.equal(server.requests.length, 0);
    });

    it('cancelled mid-stream: cancelled, the connection is closed, and what was produced is settled once', async () => {
      const h = harness(classifier, settingsFor(server));
      server.enqueue({ kind: 'reply', text: ' item + 0 + 0 + 0 + 0 + 0;', chunks: 6, chunkDelayMs: 150 });
      const controller = new AbortController();
      const pending = h.complete(spot(LINE_SOURCE), controller.signal);
      await server.waitForRequests(1);
      controller.abort();
      const outcome = nothing(await pending);
      assert.equal(outcome.why, 'cancelled');
      assert.equal(h.settled.length, 1);
      assert.equal(h.released, 0);
      assert.equal(h.settled[0].attempts.at(-1)?.status, 'cancelled');
      assert.equal(h.cache.size, 0, 'nothing is cached from a cancelled call');
      const deadline = Date.now() + 5000;
      while (!server.requests[0].clientAborted && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(server.requests[0].clientAborted, true, 'the server sees the connection close');
    });
  });

  describe('failures and fallbacks', () => {
    const A = { ...FIM_CHEAP, id: 'fim-a', name: 'mock-fim-a' };
    const B = { ...FIM_CHEAP, id: 'fim-b', name: 'mock-fim-b' };

    it('a failing model with a fallback in the chain: the fallback answers, and the reservation is settled once', async () => {
      const h = harness(classifier, settingsFor(server, { models: [A, B], 'tasks.complete': ['fim-a', 'fim-b'] }));
      server.enqueue({ kind: 'fail', status: 500 }, { kind: 'reply', text: ' item;' });
      const outcome = completion(await h.complete(spot(LINE_SOURCE)));
      assert.equal(outcome.decision.chosen.model.id, 'fim-a');
      assert.equal(outcome.modelId, 'fim-b');
      assert.equal(outcome.text, ' item;');
      assert.deepEqual(server.requests.map((r) => (r.body as Body).model), ['mock-fim-a', 'mock-fim-b'], 'one try of the first, then the fallback');
      assert.equal(h.settled.length, 1);
      assert.equal(h.released, 0);
      assert.deepEqual(h.settled[0].attempts.map((a) => [a.modelId, a.status]), [['fim-a', 'error'], ['fim-b', 'ok']]);
      assert.equal(h.settled[0].attempts[0].errorKind, 'server');
    });

    it('a failing model with no fallback: failed, with a message, and the reservation is settled once', async () => {
      const h = harness(classifier, settingsFor(server, { models: [A, B], 'tasks.complete': ['fim-a'] }));
      server.enqueue({ kind: 'fail', status: 500, message: 'the GPU caught fire' });
      const outcome = nothing(await h.complete(spot(LINE_SOURCE)));
      assert.equal(outcome.why, 'failed');
      assert.match(outcome.message ?? '', /500|GPU caught fire/, 'says what went wrong');
      assert.equal(outcome.subject, 'mock');
      assert.equal(server.requests.length, 1, 'completions are not retried');
      assert.equal(h.settled.length, 1);
      assert.equal(h.released, 0);
      assert.equal(h.settled[0].attempts.length, 1);
      assert.equal(h.cache.size, 0);
    });
  });

  describe('settlement', () => {
    it('settles a network completion once with its attempts and tokens, and a cache hit never', async () => {
      const h = harness(classifier, settingsFor(server));
      const at = spot(LINE_SOURCE);
      server.enqueue({ kind: 'reply', text: ' item;' });
      const outcome = completion(await h.complete(at));

      assert.equal(h.reserves.length, 1);
      const prefix = at.request.text.slice(0, at.offset);
      const suffix = at.request.text.slice(at.offset);
      assert.equal(h.reserves[0].promptTokens, Math.ceil((prefix + suffix).length / 4), 'the prompt the model reads');
      assert.equal(h.reserves[0].maxOutputTokens, 128);
      assert.equal(h.reserves[0].decision.requestId, at.request.requestId);

      assert.equal(h.settled.length, 1);
      const run = h.settled[0];
      assert.equal(run.answeredBy?.model.id, outcome.modelId);
      assert.equal(run.attempts.length, 1);
      const [attempt] = run.attempts;
      assert.equal(attempt.status, 'ok');
      assert.equal(attempt.modelId, 'fim-cheap');
      assert.equal(attempt.providerId, 'mock');
      assert.equal(attempt.task, 'complete');
      assert.equal(attempt.requestId, at.request.requestId);
      assert.ok(attempt.inputTokens > 0 && attempt.outputTokens > 0, `tokens counted: ${attempt.inputTokens}/${attempt.outputTokens}`);
      assert.deepEqual(h.attempts, [run.attempts], 'the attempts are reported as they settle');

      completion(await h.complete(spot(LINE_SOURCE)));
      assert.equal(h.settled.length, 1, 'a cache hit costs nothing');
      assert.equal(h.reserves.length, 1);
      assert.equal(h.attempts.length, 1);
    });
  });

  describe('block completions', () => {
    it('with tree-sitter, a block that runs on into broken code is cut before the line that breaks it', async () => {
      const parse: ParseText = async (languageId, text) => (await loader.parse(languageId, text, { timeCapMs: 5000 }))?.tree;
      const withTree = harness(classifier, settingsFor(server), { parse });
      server.enqueue({ kind: 'reply', text: 'let sum = 0;\n  for (const item of items) sum += item;\n  return sum +;' });
      const cut = completion(await withTree.complete(spot(BLOCK_SOURCE)));
      assert.equal(cut.text, 'let sum = 0;\n  for (const item of items) sum += item;');
      // Without it, indentation and brackets see nothing wrong with the last line.
      const without = harness(classifier, settingsFor(server));
      server.enqueue({ kind: 'reply', text: 'let sum = 0;\n  for (const item of items) sum += item;\n  return sum +;' });
      assert.equal(completion(await without.complete(spot(BLOCK_SOURCE))).text, 'let sum = 0;\n  for (const item of items) sum += item;\n  return sum +;');
    });

    it('a cursor in an empty function body goes to the code model by default, and the answer stops at the end of the block', async () => {
      const h = harness(classifier, settingsFor(server));
      const at = spot(BLOCK_SOURCE);
      server.enqueue({ kind: 'reply', text: 'let sum = 0;\n  for (const item of items) sum += item;\n  return sum;\n}\n\nexport function other(): number {\n  return 2;\n}\n' });
      const outcome = completion(await h.complete(at));
      assert.equal(outcome.kind, 'complete-block');
      assert.equal(outcome.modelId, 'coder');
      assert.match(outcome.decision.reason, /default "complete-block" \(code models for blocks\)/);
      assert.equal(bodyOf(0).model, 'mock-coder-large');
      assert.equal(bodyOf(0).max_tokens, 256, 'a block may use the whole allowance');
      assert.equal(outcome.text, 'let sum = 0;\n  for (const item of items) sum += item;\n  return sum;');
    });

    // The shipped defaults price the cheap model (gpt-4.1-mini) below the code model (gpt-4.1): the
    // block default must not leave the choice to the score, which would hand the block to the cheap one.
    it('a block completion goes to the code model by default even when the cheap model is cheaper (as with the shipped models)', async () => {
      const priced = settingsFor(server, {
        models: [
          { ...FIM_CHEAP, price: { inputPerMTok: 0.4, outputPerMTok: 1.6 } },
          { ...CODER, price: { inputPerMTok: 2, outputPerMTok: 8 } },
        ],
      });
      const h = harness(classifier, priced);
      server.enqueue({ kind: 'reply', text: 'return 0;' });
      const outcome = completion(await h.complete(spot(BLOCK_SOURCE)));
      assert.equal(outcome.kind, 'complete-block');
      assert.equal(outcome.modelId, 'coder', outcome.decision.reason);
    });
  });

  describe('escalation after rejections', () => {
    it('after two rejections of the cheap model here, the code model answers; after an acceptance, the cheap one is back', async () => {
      const h = harness(classifier, settingsFor(server));
      server.enqueue({ kind: 'reply', text: ' item;' }, { kind: 'reply', text: ' item * 2;' });
      const first = completion(await h.complete(spot(LINE_SOURCE)));
      assert.equal(first.modelId, 'fim-cheap');
      assert.equal(first.contextKey, CompletionEscalation.contextKey('src/total.ts', { task: 'complete-line', features: { unit: { kind: 'function_declaration', name: 'total' } } } as never, 2));
      assert.match(first.contextKey, /function_declaration:total/);

      h.escalation.reject(first.contextKey, 'fim-cheap', Date.now());
      const once = completion(await h.complete(spot(LINE_SOURCE)));
      assert.equal(once.modelId, 'fim-cheap', 'one rejection is not enough');
      assert.equal(once.decision.rejected, undefined);

      h.escalation.reject(first.contextKey, 'fim-cheap', Date.now());
      const escalated = completion(await h.complete(spot(LINE_SOURCE)));
      assert.equal(escalated.modelId, 'coder');
      assert.equal(escalated.decision.chosen.model.id, 'coder');
      assert.deepEqual(escalated.decision.rejected, ['fim-cheap']);
      assert.match(escalated.decision.reason, /widened to code, strong after rejections here/);
      assert.equal(escalated.cached, undefined, 'the cheap model\u2019s cached answer is not served');
      assert.equal(server.requests.length, 2);
      assert.equal(bodyOf(1).model, 'mock-coder-large');
      assert.equal(escalated.text, ' item * 2;');

      h.escalation.accept(first.contextKey, 'fim-cheap', Date.now());
      const back = completion(await h.complete(spot(LINE_SOURCE)));
      assert.equal(back.modelId, 'fim-cheap');
      assert.equal(back.decision.rejected, undefined);
    });

    it('the context survives lines added above the function, and is per kind of completion', async () => {
      const h = harness(classifier, settingsFor(server));
      server.enqueue({ kind: 'reply', text: ' item;' }, { kind: 'reply', text: ' item;' }, { kind: 'reply', text: 'return 0;' });
      const first = completion(await h.complete(spot(LINE_SOURCE)));
      h.escalation.reject(first.contextKey, 'fim-cheap', Date.now());
      h.escalation.reject(first.contextKey, 'fim-cheap', Date.now());
      const shifted = completion(await h.complete(spot(`import { x } from './x';\n\nconst LIMIT = 3;\n${LINE_SOURCE}`)));
      assert.equal(shifted.contextKey, first.contextKey);
      assert.equal(shifted.modelId, 'coder', 'still escalated three lines further down');

      // A block completion in the same function is another context, where the default applies.
      const block = completion(await h.complete(spot(BLOCK_SOURCE)));
      assert.notEqual(block.contextKey, first.contextKey);
      assert.equal(block.decision.rejected, undefined);
    });

    it('when every model that may answer was rejected here, one of them still answers', async () => {
      const h = harness(classifier, settingsFor(server, { models: [FIM_CHEAP] }));
      server.enqueue({ kind: 'reply', text: ' item;' }, { kind: 'reply', text: ' item + 1;' });
      const first = completion(await h.complete(spot(LINE_SOURCE)));
      h.escalation.reject(first.contextKey, 'fim-cheap', Date.now());
      h.escalation.reject(first.contextKey, 'fim-cheap', Date.now());
      const outcome = completion(await h.complete(spot(LINE_SOURCE)));
      assert.equal(outcome.modelId, 'fim-cheap');
    });
  });

  describe('learning', () => {
    it('tells the learner which model answered, so that the signal for the request reaches it', async () => {
      const A = { ...FIM_CHEAP, id: 'fim-a', name: 'mock-fim-a' };
      const B = { ...FIM_CHEAP, id: 'fim-b', name: 'mock-fim-b' };
      const learner = new Learner();
      const settings = settingsFor(server, { models: [A, B], 'tasks.complete': ['fim-a', 'fim-b'], 'learning.enabled': true, 'learning.explore': false });
      const h = harness(classifier, settings, { learner });
      server.enqueue({ kind: 'fail', status: 500 }, { kind: 'reply', text: ' item;' });
      const at = spot(LINE_SOURCE);
      const outcome = completion(await h.complete(at));
      assert.equal(outcome.modelId, 'fim-b');
      assert.equal(learner.rememberedRequests, 1);
      assert.equal(learner.observe(at.request.requestId, 'accepted'), 'applied');
      const context = outcome.decision.estimateContext;
      assert.ok(context);
      const model = (id: string) => settings.models.find((m) => m.id === id) as ModelConfig;
      assert.equal(learner.estimate(model('fim-b'), context).source, 'learned', 'the fallback that answered gets the credit');
      assert.equal(learner.estimate(model('fim-a'), context).source, 'prior', 'the model that failed does not');
    });

    it('a learner that is off is not asked', async () => {
      const learner = new Learner();
      const h = harness(classifier, settingsFor(server), { learner });
      server.enqueue({ kind: 'reply', text: ' item;' });
      completion(await h.complete(spot(LINE_SOURCE)));
      assert.equal(learner.rememberedRequests, 0);
    });
  });
});

describe('completionApi: how a model is asked for a completion', () => {
  const openai: ProviderConfig = { id: 'o', kind: 'openai', baseUrl: 'http://127.0.0.1:1/v1', auth: 'none' };
  const anthropic: ProviderConfig = { id: 'a', kind: 'anthropic', baseUrl: 'http://127.0.0.1:1', auth: 'apiKey' };
  const model = (capabilities: ModelConfig['capabilities'], fimTemplate?: ModelConfig['fimTemplate']): ModelConfig => ({
    id: 'm',
    provider: 'o',
    name: 'qwen2.5-coder:7b',
    tags: ['cheap'],
    balance: 'round-robin',
    capabilities,
    fimTemplate,
  });
  const routed = (m: ModelConfig, provider: ProviderConfig): RoutedModel => ({ model: m, provider });

  it('a FIM model of an OpenAI-compatible provider: /completions', () => {
    assert.equal(completionApi(routed(model(['fim']), openai)), 'completions');
    assert.equal(completionApi(routed(model(['chat', 'fim'], 'qwen'), openai)), 'completions');
    assert.equal(completionApi(routed(model(['fim'], 'suffix'), openai)), 'completions');
  });

  it('a FIM model whose template is `chat`: chat', () => {
    assert.equal(completionApi(routed(model(['fim', 'chat'], 'chat'), openai)), 'chat');
  });

  it('a model of an anthropic provider, or one without FIM: chat', () => {
    assert.equal(completionApi(routed(model(['fim', 'chat']), anthropic)), 'chat');
    assert.equal(completionApi(routed(model(['chat']), openai)), 'chat');
  });
});
