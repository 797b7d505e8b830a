import * as assert from 'node:assert/strict';
import type { HttpProviderConfig } from '../../src/core/config/settingsSchema';
import type { CompletionRequest } from '../../src/core/providers/chatProvider';
import { OpenAICompletionProvider } from '../../src/core/providers/openaiCompletionProvider';
import { MockLlmServer } from '../mock/mockLlmServer';
import { cancelAtSecondPiece, failure } from '../support/providerCalls';

const request: CompletionRequest = {
  model: 'mock-coder',
  prompt: 'function add(a, b) {\n  ',
  suffix: '\n}\n',
  maxOutputTokens: 64,
};

/** The ProviderError the call rejects with. */
async function eventually(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('OpenAICompletionProvider (fill-in-the-middle) against the loopback mock server', () => {
  let server: MockLlmServer;
  let provider: HttpProviderConfig;
  const make = () => new OpenAICompletionProvider({ provider, apiKey: 'sk-test-123', timeoutMs: 5000 });
  const complete = (overrides: Partial<CompletionRequest> = {}, onText: (delta: string) => void = () => undefined, signal = new AbortController().signal) =>
    make().streamCompletion({ ...request, ...overrides }, onText, signal);

  before(async () => {
    server = await MockLlmServer.start();
    provider = { id: 'mock', kind: 'openai', baseUrl: server.baseUrl, auth: 'apiKey' };
  });
  beforeEach(() => server.reset());
  after(() => server.close());

  it('sends the prompt, the suffix and max_tokens to /v1/completions with the key, streaming with usage', async () => {
    const result = await complete();
    const [received] = server.requests;
    assert.equal(received.path, '/v1/completions');
    assert.equal(received.headers.authorization, 'Bearer sk-test-123');
    const body = received.body as Record<string, unknown>;
    assert.equal(body.model, 'mock-coder');
    assert.equal(body.prompt, request.prompt);
    assert.equal(body.suffix, request.suffix);
    assert.equal(body.max_tokens, 64);
    assert.equal(body.stream, true);
    assert.deepEqual(body.stream_options, { include_usage: true });
    assert.equal(body.messages, undefined);
    assert.match(result.text, /mock fill from mock-coder before "}"/, 'the default answer shows the server saw the suffix');
  });

  it('streams the middle text in order and reports the usage the server sent', async () => {
    server.enqueue({ kind: 'reply', text: 'return a + b;', chunks: 4 });
    const deltas: string[] = [];
    const result = await complete({}, (d) => deltas.push(d));
    assert.equal(result.text, 'return a + b;');
    assert.ok(deltas.length >= 3, `expected several deltas, got ${deltas.length}`);
    assert.equal(deltas.join(''), result.text);
    assert.equal(result.finishReason, 'stop');
    assert.deepEqual(result.usage, {
      inputTokens: Math.ceil((request.prompt + request.suffix).length / 4),
      outputTokens: Math.ceil('return a + b;'.length / 4),
      estimated: false,
    });
  });

  it('estimates usage from the prompt and the suffix when the server reports none, and says so', async () => {
    server.enqueue({ kind: 'reply', text: 'return a + b;', omitUsage: true });
    const result = await complete({ prompt: 'abcdefgh', suffix: 'abcd' });
    assert.deepEqual(result.usage, { inputTokens: 2 + 1, outputTokens: 4, estimated: true });
  });

  it('passes the stop sequences and the temperature', async () => {
    await complete({ stop: ['\n\n', '```'], temperature: 0.2 });
    const body = server.requests[0].body as Record<string, unknown>;
    assert.deepEqual(body.stop, ['\n\n', '```']);
    assert.equal(body.temperature, 0.2);
  });

  it('classifies 401 as auth, 429 as rate-limit with the wait asked for, and 500 as server', async () => {
    server.enqueue(
      { kind: 'fail', status: 401, message: 'bad key' },
      { kind: 'fail', status: 429, message: 'slow down', headers: { 'retry-after': '7' } },
      { kind: 'fail', status: 500 },
    );
    const auth = await failure(complete());
    assert.equal(auth.kind, 'auth');
    assert.equal(auth.status, 401);
    const limited = await failure(complete());
    assert.equal(limited.kind, 'rate-limit');
    assert.equal(limited.retryAfterMs, 7000);
    const server500 = await failure(complete());
    assert.equal(server500.kind, 'server');
    assert.equal(server.requests.length, 3, 'one request each: the router owns retries');
  });

  it('the mock answers a non-streaming completions request with one text_completion object', async () => {
    server.enqueue({ kind: 'reply', text: 'return a + b;' });
    const response = await fetch(`${server.baseUrl}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-coder', prompt: 'x', suffix: 'y' }),
    });
    const body = (await response.json()) as { object: string; choices: { text: string }[]; usage: { completion_tokens: number } };
    assert.equal(body.object, 'text_completion');
    assert.equal(body.choices[0].text, 'return a + b;');
    assert.equal(body.usage.completion_tokens, 4);
  });

  it('reports a malformed event as a bad response', async () => {
    server.enqueue({ kind: 'malformed' });
    const error = await failure(complete());
    assert.equal(error.kind, 'bad-response');
  });

  it('stops when cancelled mid-stream, keeps the partial text, and the server sees the connection close', async () => {
    server.enqueue({ kind: 'reply', text: 'const sum = a + b; return sum;', chunks: 6, chunkDelayMs: 100 });
    // Cancel as the second piece arrives, with more still to come.
    const { error, seen } = await cancelAtSecondPiece((onText, signal) => complete({}, onText, signal));
    assert.equal(error.kind, 'cancelled');
    assert.equal(error.partial?.text, seen.join(''));
    assert.ok(seen.join('').length > 0);
    assert.ok((error.partial?.usage.outputTokens ?? 0) > 0, 'tokens already produced are still counted');
    await eventually(() => server.requests[0].clientAborted, 'the server sees the client close the connection');
  });
});
