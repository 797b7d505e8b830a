import * as assert from 'node:assert/strict';
import { runChat } from '../../src/core/actions/runChatAttempt';
import type { HttpProviderConfig, ModelConfig } from '../../src/core/config/settingsSchema';
import { silentLogger } from '../../src/core/log/logger';
import type { ChatRequest } from '../../src/core/providers/chatProvider';
import { OpenAIChatProvider, type OpenAIChatOptions } from '../../src/core/providers/openaiChatProvider';
import type { RouteDecision, RoutedModel } from '../../src/core/route/routeDecision';
import { callFetch } from '../../src/core/providers/transport';
import { MockLlmServer } from '../mock/mockLlmServer';
import { failure, until } from '../support/providerCalls';

const request: ChatRequest = { model: 'mock-small', messages: [{ role: 'user', content: 'Explain `x + 1`.' }], maxOutputTokens: 64 };
const chunk = (content: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;

describe('call timeouts and cancellation on the wire', () => {
  let server: MockLlmServer;
  let backup: MockLlmServer;
  let provider: HttpProviderConfig;
  const make = (timeouts: Partial<OpenAIChatOptions> = {}) =>
    new OpenAIChatProvider({ provider, apiKey: undefined, timeoutMs: 5000, connectTimeoutMs: 5000, idleTimeoutMs: 5000, ...timeouts });

  before(async () => {
    server = await MockLlmServer.start();
    backup = await MockLlmServer.start();
    provider = { id: 'mock', kind: 'openai', baseUrl: server.baseUrl, auth: 'none' };
  });
  beforeEach(() => {
    server.reset();
    backup.reset();
  });
  after(async () => {
    await server.close();
    await backup.close();
  });

  it('gives up on a server that accepts the request and then says nothing, naming the setting', async () => {
    server.enqueue({ kind: 'delay', ms: 3000, then: { kind: 'reply' } });
    const error = await failure(make({ connectTimeoutMs: 200 }).streamChat(request, () => undefined, new AbortController().signal));
    assert.equal(error.kind, 'timeout');
    assert.match(error.message, /did not start answering within 0\.2 s \(coderoute\.request\.connectTimeoutSeconds\)/);
    assert.ok(await until(() => server.requests[0].clientAborted, 1000), 'the connection is closed, not left hanging');
  });

  it('gives up when the headers arrive and then the stream stalls', async () => {
    // An empty first piece sends the status line and headers; the events come 3 s later.
    server.enqueue({ kind: 'raw', pieces: ['', chunk('late'), 'data: [DONE]\n\n'], pieceDelayMs: 3000 });
    const error = await failure(make({ idleTimeoutMs: 250 }).streamChat(request, () => undefined, new AbortController().signal));
    assert.equal(error.kind, 'timeout');
    assert.match(error.message, /went silent for 0\.3 s in the middle of an answer \(coderoute\.request\.idleTimeoutSeconds\)/);
  });

  it('counts keep-alive comments as signs of life, so a slow but alive stream is not cut', async () => {
    server.enqueue({ kind: 'raw', pieces: [': waiting\n\n', ': waiting\n\n', ': waiting\n\n', chunk('done'), 'data: [DONE]\n\n'], pieceDelayMs: 150 });
    const result = await make({ idleTimeoutMs: 400 }).streamChat(request, () => undefined, new AbortController().signal);
    assert.equal(result.text, 'done');
  });

  it('stops a slow drip at the total deadline, keeping what was produced', async () => {
    server.enqueue({ kind: 'reply', text: 'a slow answer that drips out one small piece at a time', chunks: 20, chunkDelayMs: 100 });
    const seen: string[] = [];
    const error = await failure(
      make({ timeoutMs: 600, idleTimeoutMs: 1000 }).streamChat(request, (d) => seen.push(d), new AbortController().signal),
    );
    assert.equal(error.kind, 'timeout');
    assert.match(error.message, /did not finish within 0\.6 s \(coderoute\.request\.timeoutSeconds\)/);
    assert.ok(seen.length > 0 && seen.length < 20, `some but not all pieces arrived (${seen.length})`);
    assert.equal(error.partial?.text, seen.join(''));
    assert.ok((error.partial?.usage.outputTokens ?? 0) > 0, 'the produced tokens are accounted');
  });

  it('closes the socket as soon as the user cancels, long before the next piece was due', async () => {
    // The first piece is sent at once; the server would send the next one 3 s later.
    server.enqueue({ kind: 'raw', pieces: [chunk('first'), chunk(' second'), 'data: [DONE]\n\n'], pieceDelayMs: 3000 });
    const controller = new AbortController();
    const pending = make().streamChat(request, () => controller.abort(), controller.signal);
    const error = await failure(pending);
    assert.equal(error.kind, 'cancelled');
    assert.ok(await until(() => server.requests[0].clientAborted, 1500), 'the server saw the connection close before its next piece');
  });

  it('refuses a request that does not name its call, so nothing escapes the timers and the redirect rule', async () => {
    await assert.rejects(callFetch(server.baseUrl + '/chat/completions', { method: 'POST' }), /outside a guarded call/);
    assert.equal(server.requests.length, 0);
  });

  it('falls back to the next model when the first one times out before any text', async () => {
    server.enqueue({ kind: 'delay', ms: 3000, then: { kind: 'reply' } });
    const model = (id: string, p: string): ModelConfig => ({ id, provider: p, name: id, tags: [], balance: 'round-robin', capabilities: ['chat'] });
    const routed = (id: string, base: string): RoutedModel => ({
      model: model(id, id),
      provider: { id, kind: 'openai', baseUrl: base, auth: 'none' },
    });
    const decision: RouteDecision = {
      requestId: 'r1',
      task: 'explain',
      privacy: 'any',
      chosen: routed('slow', server.baseUrl),
      fallbacks: [routed('steady', backup.baseUrl)],
      candidates: [],
      decidedBy: 'task-setting',
      reason: 'test',
    };
    const out = await runChat({
      decision,
      messages: request.messages,
      maxOutputTokens: 64,
      providerFor: (r) =>
        new OpenAIChatProvider({ provider: r.provider as HttpProviderConfig, apiKey: undefined, timeoutMs: 5000, connectTimeoutMs: 200 }),
      onText: () => undefined,
      signal: new AbortController().signal,
      logger: silentLogger,
      sleep: async () => undefined,
    });
    assert.equal(out.answeredBy?.model.id, 'steady');
    assert.deepEqual(
      out.attempts.map((a) => [a.modelId, a.errorKind]),
      [
        ['slow', 'timeout'],
        ['steady', undefined],
      ],
    );
  });
});
