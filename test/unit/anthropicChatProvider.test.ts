import * as assert from 'node:assert/strict';
import { runChat } from '../../src/core/actions/runChatAttempt';
import { parseSettings, type HttpProviderConfig, type SettingKey } from '../../src/core/config/settingsSchema';
import { silentLogger } from '../../src/core/log/logger';
import { AnthropicChatProvider } from '../../src/core/providers/anthropicChatProvider';
import { type ProviderError, estimateMessagesTokens, estimateTokens, type ChatRequest } from '../../src/core/providers/chatProvider';
import { httpChatProvider } from '../../src/core/providers/providerFactory';
import { routeByTask } from '../../src/core/route/routeDecision';
import { MockLlmServer, countTokens } from '../mock/mockLlmServer';
import { httpProvider } from '../support/httpProvider';
import { cancelAtSecondPiece, failure, until } from '../support/providerCalls';

const request: ChatRequest = {
  model: 'claude-mock',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Explain `x + 1`.' },
  ],
  maxOutputTokens: 256,
};
/** The input tokens the mock counts for `request` (system and messages, as the real service does). */
const serverInputTokens = countTokens('Be brief.\nExplain `x + 1`.');

const never = () => new AbortController().signal;

describe('AnthropicChatProvider against the loopback mock server', () => {
  let server: MockLlmServer;
  let provider: HttpProviderConfig;
  /** `apiKey: null` makes a provider with no key. */
  const make = (overrides: Partial<HttpProviderConfig> = {}, apiKey: string | null = 'sk-ant-test-123', timeoutMs = 5000) =>
    new AnthropicChatProvider({ provider: { ...provider, ...overrides }, apiKey: apiKey ?? undefined, timeoutMs });

  before(async () => {
    server = await MockLlmServer.start();
    provider = { id: 'claude', kind: 'anthropic', baseUrl: server.rootUrl, auth: 'apiKey' };
  });
  beforeEach(() => server.reset());
  after(() => server.close());

  it('streams the answer in order and reports the usage from message_start and message_delta', async () => {
    server.enqueue({ kind: 'reply', text: 'It adds one to x.', chunks: 5 });
    const deltas: string[] = [];
    const result = await make().streamChat(request, (d) => deltas.push(d), never());
    assert.equal(result.text, 'It adds one to x.');
    assert.ok(deltas.length >= 4, `expected several deltas, got ${deltas.length}`);
    assert.equal(deltas.join(''), result.text);
    assert.equal(result.finishReason, 'end_turn');
    assert.deepEqual(result.usage, { inputTokens: serverInputTokens, outputTokens: countTokens('It adds one to x.'), estimated: false });
  });

  it('sends the key as x-api-key, the system prompt as `system`, the model, max_tokens and a streaming request', async () => {
    await make().streamChat(request, () => undefined, never());
    const [received] = server.requests;
    assert.equal(received.method, 'POST');
    assert.equal(received.path, '/v1/messages');
    assert.equal(received.headers['x-api-key'], 'sk-ant-test-123');
    assert.equal(received.headers.authorization, undefined, 'the key goes only in x-api-key');
    assert.ok(received.headers['anthropic-version'], 'the API version is sent');
    const body = received.body as Record<string, unknown>;
    assert.equal(body.model, 'claude-mock');
    assert.equal(body.max_tokens, 256);
    assert.equal(body.stream, true);
    assert.equal(body.system, 'Be brief.');
    assert.deepEqual(body.messages, [{ role: 'user', content: 'Explain `x + 1`.' }]);
  });

  it('accepts a base URL written with /v1, as for OpenAI-compatible providers', async () => {
    await make({ baseUrl: server.baseUrl }).streamChat(request, () => undefined, never());
    assert.equal(server.requests[0].path, '/v1/messages');
  });

  it('gathers every system message into `system` and joins consecutive messages of one role', async () => {
    const messages: ChatRequest['messages'] = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Here is the code.' },
      { role: 'user', content: 'Explain it.' },
      { role: 'system', content: 'Answer in English.' },
      { role: 'assistant', content: 'Sure.' },
    ];
    await make().streamChat({ ...request, messages }, () => undefined, never());
    const body = server.requests[0].body as Record<string, unknown>;
    assert.equal(body.system, 'Be brief.\n\nAnswer in English.');
    assert.deepEqual(body.messages, [
      { role: 'user', content: 'Here is the code.\n\nExplain it.' },
      { role: 'assistant', content: 'Sure.' },
    ]);
  });

  it('sends no key to a provider that needs none, and nothing from ANTHROPIC_* environment variables', async () => {
    const names = ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'ANTHROPIC_BASE_URL', 'ANTHROPIC_CUSTOM_HEADERS'] as const;
    const saved = names.map((name) => process.env[name]);
    process.env.ANTHROPIC_API_KEY = 'sk-from-env';
    process.env.ANTHROPIC_AUTH_TOKEN = 'token-from-env';
    process.env.ANTHROPIC_BASE_URL = 'http://127.0.0.1:9';
    process.env.ANTHROPIC_CUSTOM_HEADERS = 'X-From-Env: yes';
    try {
      const keyless = make({ auth: 'none' }, null);
      await keyless.streamChat(request, () => undefined, never());
      await make().streamChat(request, () => undefined, never());
    } finally {
      names.forEach((name, i) => (saved[i] === undefined ? delete process.env[name] : (process.env[name] = saved[i])));
    }
    assert.equal(server.requests.length, 2, 'both went to the configured server');
    const [keyless, keyed] = server.requests.map((r) => r.headers);
    assert.equal(keyless['x-api-key'], undefined);
    assert.equal(keyless.authorization, undefined);
    assert.equal(keyed['x-api-key'], 'sk-ant-test-123');
    assert.equal(keyed.authorization, undefined);
    for (const headers of [keyless, keyed]) assert.equal(headers['x-from-env'], undefined);
  });

  it('never repeats the key in an error, even when the service echoes it', async () => {
    server.enqueue({ kind: 'fail', status: 401, message: 'invalid x-api-key: sk-ant-test-123' });
    const error = await failure(make().streamChat(request, () => undefined, never()));
    assert.equal(error.kind, 'auth');
    assert.ok(!error.message.includes('sk-ant-test-123'), error.message);
  });

  it('asks for the key, without calling the service, when the provider needs one and none is set', async () => {
    const error = await failure(make({}, null).streamChat(request, () => undefined, never()));
    assert.equal(error.kind, 'auth');
    assert.match(error.message, /No API key is set for claude/);
    assert.equal(error.partial, undefined, 'a call never made costs nothing');
    assert.equal(server.requests.length, 0);
  });

  it('estimates usage when the server reports none, and says so', async () => {
    server.enqueue({ kind: 'reply', text: 'abcdefgh', omitUsage: true });
    const result = await make().streamChat(request, () => undefined, never());
    assert.deepEqual(result.usage, { inputTokens: estimateMessagesTokens(request.messages), outputTokens: estimateTokens('abcdefgh'), estimated: true });
  });

  const statusCases: [number, ProviderError['kind']][] = [
    [400, 'bad-request'],
    [401, 'auth'],
    [403, 'forbidden'],
    [404, 'not-found'],
    [413, 'too-large'],
    [429, 'rate-limit'],
    [500, 'server'],
    [529, 'server'],
  ];
  for (const [status, kind] of statusCases) {
    it(`classifies HTTP ${status} as ${kind}, shows the service's message and makes exactly one request`, async () => {
      server.enqueue({ kind: 'fail', status, message: `nope ${status}` });
      const error = await failure(make().streamChat(request, () => undefined, never()));
      assert.equal(error.kind, kind);
      assert.equal(error.status, status);
      assert.match(error.message, new RegExp(`HTTP ${status}: nope ${status}`));
      assert.equal(server.requests.length, 1);
    });
  }

  it('passes on the wait a 429 asks for, in retry-after or retry-after-ms', async () => {
    server.enqueue({ kind: 'fail', status: 429, headers: { 'retry-after': '3' } }, { kind: 'fail', status: 429, headers: { 'retry-after-ms': '250' } });
    assert.equal((await failure(make().streamChat(request, () => undefined, never()))).retryAfterMs, 3000);
    assert.equal((await failure(make().streamChat(request, () => undefined, never()))).retryAfterMs, 250);
  });

  it('refuses a redirect: the other server sees no request and no key', async () => {
    const elsewhere = await MockLlmServer.start();
    try {
      for (const status of [301, 302, 307, 308]) {
        server.reset();
        server.enqueue({ kind: 'redirect', status, location: `${elsewhere.rootUrl}/v1/messages` });
        const error = await failure(make().streamChat(request, () => undefined, never()));
        assert.equal(error.kind, 'redirect', `HTTP ${status}`);
        assert.match(error.message, /does not follow redirects/);
        assert.ok(!error.message.includes('sk-ant-test-123'), 'the key is never in a message');
      }
      assert.equal(elsewhere.requests.length, 0);
    } finally {
      await elsewhere.close();
    }
  });

  const eventCases: [string, ProviderError['kind']][] = [
    ['overloaded_error', 'server'],
    ['api_error', 'server'],
    ['rate_limit_error', 'rate-limit'],
    ['invalid_request_error', 'bad-request'],
    ['authentication_error', 'auth'],
    ['permission_error', 'forbidden'],
    ['not_found_error', 'not-found'],
    ['request_too_large', 'too-large'],
  ];
  for (const [type, kind] of eventCases) {
    it(`classifies a ${type} event in a 200 stream as ${kind}, keeping the text before it`, async () => {
      server.enqueue({ kind: 'reply', text: 'first second third', chunks: 3, errorAfterChunks: 1, errorType: type });
      const seen: string[] = [];
      const error = await failure(make().streamChat(request, (d) => seen.push(d), never()));
      assert.equal(error.kind, kind);
      assert.match(error.message, new RegExp(type));
      assert.equal(error.status, undefined);
      assert.ok(seen.length > 0);
      assert.equal(error.partial?.text, seen.join(''));
    });
  }

  it('keeps the input tokens the server reported when the stream fails before its final usage, and estimates the output', async () => {
    server.enqueue({ kind: 'reply', text: 'first second third', chunks: 3, errorAfterChunks: 2 });
    const error = await failure(make().streamChat(request, () => undefined, never()));
    const partial = error.partial;
    assert.ok(partial);
    assert.equal(partial.usage.inputTokens, serverInputTokens);
    assert.equal(partial.usage.outputTokens, estimateTokens(partial.text));
    assert.ok(partial.usage.outputTokens > 0);
    assert.equal(partial.usage.estimated, true);
  });

  it('reports a stream that ends before message_stop as a dropped connection, keeping the text', async () => {
    const event = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
    server.enqueue({
      kind: 'raw',
      pieces: [
        event('message_start', { message: { id: 'm', type: 'message', role: 'assistant', model: 'm', content: [], usage: { input_tokens: 9, output_tokens: 1 } } }),
        event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
        event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'half an ans' } }),
      ],
    });
    const error = await failure(make().streamChat(request, () => undefined, never()));
    assert.equal(error.kind, 'connection');
    assert.equal(error.partial?.text, 'half an ans');
    assert.equal(error.partial?.usage.inputTokens, 9);
  });

  it('reports a dropped connection as a connection error', async () => {
    server.enqueue({ kind: 'hangup' });
    const error = await failure(make().streamChat(request, () => undefined, never()));
    assert.equal(error.kind, 'connection');
  });

  it('reports an unreadable event as a bad response', async () => {
    server.enqueue({ kind: 'malformed' });
    const error = await failure(make().streamChat(request, () => undefined, never()));
    assert.equal(error.kind, 'bad-response');
  });

  it('rejects an HTML page sent with status 200 instead of an event stream', async () => {
    server.enqueue({ kind: 'raw', contentType: 'text/html', pieces: ['<!DOCTYPE html><html><body>Gateway login</body></html>'] });
    const error = await failure(make().streamChat(request, () => undefined, never()));
    assert.equal(error.kind, 'bad-response');
    assert.match(error.message, /check the base URL/);
  });

  it('gives up at the total deadline', async () => {
    server.enqueue({ kind: 'delay', ms: 2000, then: { kind: 'reply' } });
    const error = await failure(make({}, 'k', 200).streamChat(request, () => undefined, never()));
    assert.equal(error.kind, 'timeout');
  });

  it('stops at once when cancelled mid-stream, closes the connection and keeps what was produced', async () => {
    server.enqueue({ kind: 'reply', text: 'one two three four five six seven eight', chunks: 8, chunkDelayMs: 150 });
    const { error, seen } = await cancelAtSecondPiece((onText, signal) => make().streamChat(request, onText, signal));
    assert.equal(error.kind, 'cancelled');
    assert.equal(error.partial?.text, seen.join(''));
    assert.equal(error.partial?.usage.inputTokens, serverInputTokens, 'the prompt the server counted is still accounted');
    assert.ok((error.partial?.usage.outputTokens ?? 0) > 0, 'tokens already produced are still counted');
    assert.ok(await until(() => server.requests[0].clientAborted), 'the server sees the connection close');
  });
});

describe('runChat when a 200 stream reports overloaded_error', () => {
  let primary: MockLlmServer;
  let backup: MockLlmServer;
  const waits: number[] = [];

  before(async () => {
    primary = await MockLlmServer.start();
    backup = await MockLlmServer.start();
  });
  beforeEach(() => {
    primary.reset();
    backup.reset();
    waits.length = 0;
  });
  after(async () => {
    await primary.close();
    await backup.close();
  });

  /** A chain of a primary model and a backup one, both of `kind`, reached through the provider factory. */
  const run = (kind: 'openai' | 'anthropic', shown: string[]) => {
    const url = (server: MockLlmServer) => (kind === 'anthropic' ? server.rootUrl : server.baseUrl);
    const raw: Partial<Record<SettingKey, unknown>> = {
      providers: [
        { id: 'primary', kind, baseUrl: url(primary), auth: 'none' },
        { id: 'backup', kind, baseUrl: url(backup), auth: 'none' },
      ],
      models: [
        { id: 'fast', provider: 'primary', name: 'fast-1' },
        { id: 'safe', provider: 'backup', name: 'safe-1' },
      ],
      'tasks.explain': ['fast', 'safe'],
    };
    const { settings } = parseSettings((key) => raw[key]);
    return runChat({
      decision: routeByTask('req', 'explain', settings),
      messages: [{ role: 'user', content: 'Explain x.' }],
      maxOutputTokens: 64,
      providerFor: (routed) => httpChatProvider(httpProvider(routed.provider), undefined, settings.request),
      onText: (d) => shown.push(d),
      signal: new AbortController().signal,
      logger: silentLogger,
      random: () => 1,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
  };

  for (const kind of ['anthropic', 'openai'] as const) {
    it(`${kind}: retries the same model when the error comes before any text, then shows its answer`, async () => {
      primary.enqueue({ kind: 'reply', text: 'never shown', errorAfterChunks: 0 }, { kind: 'reply', text: 'The answer.', chunks: 2 });
      const shown: string[] = [];
      const out = await run(kind, shown);
      assert.equal(out.answeredBy?.model.id, 'fast');
      assert.equal(out.result?.text, 'The answer.');
      assert.equal(shown.join(''), 'The answer.');
      assert.deepEqual(waits, [250]);
      assert.deepEqual(out.attempts.map((a) => [a.modelId, a.status, a.errorKind, a.attemptNumber]), [
        ['fast', 'error', 'server', 1],
        ['fast', 'ok', undefined, 2],
      ]);
      assert.equal(primary.requests.length, 2);
      assert.equal(backup.requests.length, 0);
    });

    it(`${kind}: neither retries nor falls back once text was shown, reports the error and keeps the partial usage`, async () => {
      primary.enqueue({ kind: 'reply', text: 'The first half of an answer and the rest', chunks: 8, errorAfterChunks: 3 });
      const shown: string[] = [];
      const out = await run(kind, shown);
      assert.ok(shown.length > 0, 'part of the answer was shown');
      assert.equal(out.result, undefined);
      assert.equal(out.error?.kind, 'server');
      assert.match(out.error?.message ?? '', /overloaded/i);
      assert.equal(out.error?.partial?.text, shown.join(''));
      assert.equal(primary.requests.length, 1);
      assert.equal(backup.requests.length, 0);
      assert.deepEqual(waits, []);
      assert.equal(out.attempts.length, 1);
      assert.ok(out.attempts[0].inputTokens > 0, 'the prompt is accounted');
      assert.ok(out.attempts[0].outputTokens > 0, 'the text produced is accounted');
    });
  }
});
