import * as assert from 'node:assert/strict';
import type { HttpProviderConfig } from '../../src/core/config/settingsSchema';
import { type ProviderError, type ChatRequest } from '../../src/core/providers/chatProvider';
import { OpenAIChatProvider } from '../../src/core/providers/openaiChatProvider';
import { MockLlmServer } from '../mock/mockLlmServer';
import { cancelAtSecondPiece, closedPort, failure, until } from '../support/providerCalls';

const request: ChatRequest = {
  model: 'mock-small',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Explain `x + 1`.' },
  ],
  maxOutputTokens: 256,
};

describe('OpenAIChatProvider against the loopback mock server', () => {
  let server: MockLlmServer;
  let provider: HttpProviderConfig;
  const make = (overrides: Partial<HttpProviderConfig> = {}, apiKey: string | undefined = 'sk-test-123', timeoutMs = 5000) =>
    new OpenAIChatProvider({ provider: { ...provider, ...overrides }, apiKey, timeoutMs });

  before(async () => {
    server = await MockLlmServer.start();
    provider = { id: 'mock', kind: 'openai', baseUrl: server.baseUrl, auth: 'apiKey' };
  });
  beforeEach(() => server.reset());
  after(() => server.close());

  it('streams the answer in order and reports the usage the server sent', async () => {
    server.enqueue({ kind: 'reply', text: 'It adds one to x.', chunks: 5 });
    const deltas: string[] = [];
    const result = await make().streamChat(request, (d) => deltas.push(d), new AbortController().signal);
    assert.equal(result.text, 'It adds one to x.');
    assert.ok(deltas.length >= 4, `expected several deltas, got ${deltas.length}`);
    assert.equal(deltas.join(''), result.text);
    assert.equal(result.finishReason, 'stop');
    assert.equal(result.usage.estimated, false);
    assert.equal(result.usage.outputTokens, Math.ceil('It adds one to x.'.length / 4));
  });

  it('sends the model, the messages, a streaming request with usage, and the key', async () => {
    await make().streamChat(request, () => undefined, new AbortController().signal);
    const [received] = server.requests;
    assert.equal(received.path, '/v1/chat/completions');
    assert.equal(received.headers.authorization, 'Bearer sk-test-123');
    const body = received.body as Record<string, unknown>;
    assert.equal(body.model, 'mock-small');
    assert.equal(body.stream, true);
    assert.deepEqual(body.stream_options, { include_usage: true });
    assert.equal(body.max_tokens, 256);
    assert.deepEqual(body.messages, request.messages);
  });

  it('never repeats the key in an error, even when the service echoes it', async () => {
    server.enqueue({ kind: 'fail', status: 401, message: 'Incorrect API key provided: sk-test-123. You can find your key at …' });
    const error = await failure(make().streamChat(request, () => undefined, new AbortController().signal));
    assert.equal(error.kind, 'auth');
    assert.ok(!error.message.includes('sk-test-123'), error.message);
    assert.match(error.message, /Incorrect API key provided: \[API key\]/);
  });

  it('sends no Authorization header to a provider that needs no key', async () => {
    await make({ auth: 'none' }, undefined).streamChat(request, () => undefined, new AbortController().signal);
    assert.equal(server.requests[0].headers.authorization, undefined);
  });

  it('estimates usage when the server reports none, and says so', async () => {
    server.enqueue({ kind: 'reply', text: 'abcdefgh', omitUsage: true });
    const result = await make().streamChat(request, () => undefined, new AbortController().signal);
    assert.deepEqual(result.usage, { inputTokens: 4 + 3 + 4 + 4, outputTokens: 2, estimated: true });
  });

  const statusCases: [number, ProviderError['kind']][] = [
    [400, 'bad-request'],
    [401, 'auth'],
    [403, 'forbidden'],
    [404, 'not-found'],
    [413, 'too-large'],
    [429, 'rate-limit'],
    [500, 'server'],
    [503, 'server'],
  ];
  for (const [status, kind] of statusCases) {
    it(`classifies HTTP ${status} as ${kind} and makes exactly one request (the router owns retries)`, async () => {
      server.enqueue({ kind: 'fail', status, message: `nope ${status}`, headers: { 'retry-after': '0' } });
      const error = await failure(make().streamChat(request, () => undefined, new AbortController().signal));
      assert.equal(error.kind, kind);
      assert.equal(error.status, status);
      assert.match(error.message, new RegExp(`nope ${status}`));
      assert.equal(server.requests.length, 1);
    });
  }

  it('reports a refused connection as a connection error naming the URL', async () => {
    const port = await closedPort();
    const error = await failure(
      make({ baseUrl: `http://127.0.0.1:${port}/v1` }).streamChat(request, () => undefined, new AbortController().signal),
    );
    assert.equal(error.kind, 'connection');
    assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
  });

  it('refuses a redirect: the other server sees no request and no key', async () => {
    const elsewhere = await MockLlmServer.start();
    try {
      for (const status of [301, 302, 307, 308]) {
        server.reset();
        server.enqueue({ kind: 'redirect', status, location: `${elsewhere.baseUrl}/chat/completions` });
        const error = await failure(make().streamChat(request, () => undefined, new AbortController().signal));
        assert.equal(error.kind, 'redirect', `HTTP ${status}`);
        assert.match(error.message, /does not follow redirects/);
        assert.ok(!error.message.includes('sk-test-123'), 'the key is never in a message');
      }
      assert.equal(elsewhere.requests.length, 0);
    } finally {
      await elsewhere.close();
    }
  });

  it('reports a dropped connection as a connection error', async () => {
    server.enqueue({ kind: 'hangup' });
    const error = await failure(make().streamChat(request, () => undefined, new AbortController().signal));
    assert.equal(error.kind, 'connection');
  });

  it('reports an unreadable event stream as a bad response', async () => {
    server.enqueue({ kind: 'malformed' });
    const error = await failure(make().streamChat(request, () => undefined, new AbortController().signal));
    assert.equal(error.kind, 'bad-response');
  });

  it('gives up at the total deadline', async () => {
    server.enqueue({ kind: 'delay', ms: 2000, then: { kind: 'reply' } });
    const error = await failure(make({}, 'k', 200).streamChat(request, () => undefined, new AbortController().signal));
    assert.equal(error.kind, 'timeout');
  });

  it('stops at once when cancelled mid-stream, closes the connection and keeps what was produced', async () => {
    server.enqueue({ kind: 'reply', text: 'one two three four five six seven eight', chunks: 8, chunkDelayMs: 150 });
    const { error, seen } = await cancelAtSecondPiece((onText, signal) => make().streamChat(request, onText, signal));
    assert.equal(error.kind, 'cancelled');
    assert.equal(error.partial?.text, seen.join(''));
    assert.ok((error.partial?.usage.outputTokens ?? 0) > 0, 'tokens already produced are still counted');
    assert.ok((error.partial?.usage.inputTokens ?? 0) > 0);
    assert.ok(await until(() => server.requests[0].clientAborted), 'the server sees the connection close');
  });
});
