import { httpProvider } from '../support/httpProvider';
import * as assert from 'node:assert/strict';
import { runChat } from '../../src/core/actions/runChatAttempt';
import { parseSettings, type SettingKey } from '../../src/core/config/settingsSchema';
import { silentLogger } from '../../src/core/log/logger';
import { OpenAIChatProvider } from '../../src/core/providers/openaiChatProvider';
import { decideRetry, parseRetryAfter } from '../../src/core/providers/retryPolicy';
import { routeByTask, type RouteDecision } from '../../src/core/route/routeDecision';
import { MockLlmServer } from '../mock/mockLlmServer';
import { closedPort } from '../support/providerCalls';

describe('retry policy', () => {
  const now = Date.UTC(2026, 10, 28, 12, 0, 0);

  it('reads Retry-After as seconds, as an HTTP date, and retry-after-ms', () => {
    assert.equal(parseRetryAfter({ 'retry-after': '2' }, now), 2000);
    assert.equal(parseRetryAfter({ 'retry-after': new Date(now + 3000).toUTCString() }, now), 3000);
    assert.equal(parseRetryAfter({ 'retry-after-ms': '120', 'retry-after': '9' }, now), 120);
    assert.equal(parseRetryAfter({ 'retry-after': new Date(now - 5000).toUTCString() }, now), 0);
    assert.equal(parseRetryAfter({ 'retry-after': 'soon' }, now), undefined);
    assert.equal(parseRetryAfter(new Headers({ 'Retry-After': '1.5' }), now), 1500);
  });

  it('retries busy or unreachable services with growing, jittered waits, and honours Retry-After', () => {
    const ask = (attempt: number, random: number, retryAfterMs?: number) =>
      decideRetry({ kind: 'server', attempt, waitedMs: 0, outputDelivered: false, retryAfterMs, random: () => random });
    assert.deepEqual(ask(1, 1), { retry: true, delayMs: 250 });
    assert.deepEqual(ask(2, 1), { retry: true, delayMs: 500 });
    assert.deepEqual(ask(2, 0.5), { retry: true, delayMs: 250 });
    assert.deepEqual(ask(1, 0.1, 2000), { retry: true, delayMs: 2000 });
    assert.deepEqual(ask(3, 1), { retry: false, why: 'attempts-exhausted' });
  });

  it('never retries once text reached the user, on client errors, or when the wait is too long', () => {
    const base = { attempt: 1, waitedMs: 0, outputDelivered: false, random: () => 0.5 };
    assert.deepEqual(decideRetry({ ...base, kind: 'server', outputDelivered: true }), { retry: false, why: 'output-reached-user' });
    for (const kind of ['bad-request', 'auth', 'forbidden', 'too-large', 'redirect', 'cancelled'] as const) {
      assert.deepEqual(decideRetry({ ...base, kind }), { retry: false, why: 'not-retryable' }, kind);
    }
    assert.deepEqual(decideRetry({ ...base, kind: 'rate-limit', retryAfterMs: 600_000 }), { retry: false, why: 'wait-too-long' });
  });
});

describe('runChat against the loopback mock server', () => {
  let primary: MockLlmServer;
  let backup: MockLlmServer;
  let decision: RouteDecision;
  const waits: number[] = [];

  before(async () => {
    primary = await MockLlmServer.start();
    backup = await MockLlmServer.start();
    const raw: Partial<Record<SettingKey, unknown>> = {
      providers: [
        { id: 'primary', kind: 'openai', baseUrl: primary.baseUrl, auth: 'none' },
        { id: 'backup', kind: 'openai', baseUrl: backup.baseUrl, auth: 'none' },
      ],
      models: [
        { id: 'fast', provider: 'primary', name: 'fast-1' },
        { id: 'safe', provider: 'backup', name: 'safe-1' },
      ],
      'tasks.explain': 'fast',
    };
    const { settings } = parseSettings((key) => raw[key]);
    const base = routeByTask('req', 'explain', settings);
    const safe = routeByTask('req', 'explain', { ...settings, tasks: { ...settings.tasks, explain: ['safe'] } }).chosen;
    decision = { ...base, fallbacks: [safe] };
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

  const run = (text: string[] = []) =>
    runChat({
      decision,
      messages: [{ role: 'user', content: 'Explain x.' }],
      maxOutputTokens: 64,
      providerFor: (routed) => new OpenAIChatProvider({ provider: httpProvider(routed.provider), apiKey: undefined, timeoutMs: 5000 }),
      onText: (d) => text.push(d),
      signal: new AbortController().signal,
      logger: silentLogger,
      random: () => 1,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });

  it('retries a 429 after the Retry-After the server gave, then answers', async () => {
    primary.enqueue({ kind: 'fail', status: 429, headers: { 'retry-after': '2' } }, { kind: 'fail', status: 429, headers: { 'retry-after-ms': '120' } });
    const out = await run();
    assert.equal(out.answeredBy?.model.id, 'fast');
    assert.deepEqual(waits, [2000, 500]);
    assert.equal(primary.requests.length, 3);
    assert.deepEqual(out.attempts.map((a) => [a.modelId, a.status, a.errorKind, a.attemptNumber]), [
      ['fast', 'error', 'rate-limit', 1],
      ['fast', 'error', 'rate-limit', 2],
      ['fast', 'ok', undefined, 3],
    ]);
  });

  it('honours a Retry-After given as an HTTP date', async () => {
    primary.enqueue({ kind: 'fail', status: 429, headers: { 'retry-after': new Date(Date.now() + 3000).toUTCString() } });
    const out = await run();
    assert.equal(out.answeredBy?.model.id, 'fast');
    assert.equal(waits.length, 1);
    // HTTP dates have whole seconds: the wait is the asked-for three seconds, give or take one.
    assert.ok(waits[0] >= 1500 && waits[0] <= 3500, String(waits[0]));
  });

  it('falls back at once when the server asks for a very long wait', async () => {
    primary.enqueue({ kind: 'fail', status: 429, headers: { 'retry-after': '3600' } });
    const out = await run();
    assert.equal(out.answeredBy?.model.id, 'safe');
    assert.deepEqual(waits, []);
    assert.equal(primary.requests.length, 1);
    assert.equal(backup.requests.length, 1);
  });

  it('makes exactly the configured number of attempts on repeated 500s, then falls back', async () => {
    primary.enqueue({ kind: 'fail', status: 500 }, { kind: 'fail', status: 502 }, { kind: 'fail', status: 503 }, { kind: 'fail', status: 500 });
    const out = await run();
    assert.equal(primary.requests.length, 3, 'no stacked SDK retries');
    assert.equal(out.answeredBy?.model.id, 'safe');
    assert.equal(out.attempts.length, 4);
  });

  for (const status of [400, 401, 413]) {
    it(`tries a model once on HTTP ${status}`, async () => {
      primary.enqueue({ kind: 'fail', status });
      const out = await run();
      assert.equal(primary.requests.length, 1);
      assert.equal(out.attempts[0].attemptNumber, 1);
      assert.equal(out.answeredBy?.model.id, 'safe');
    });
  }

  it('never retries or falls back once text reached the user, and keeps the partial usage', async () => {
    primary.enqueue({ kind: 'reply', text: 'The first half of an answer and the rest', chunks: 8, dropAfterChunks: 3 });
    const shown: string[] = [];
    const out = await run(shown);
    assert.ok(shown.length > 0);
    assert.equal(out.result, undefined);
    assert.equal(out.error?.kind, 'connection');
    assert.equal(primary.requests.length, 1);
    assert.equal(backup.requests.length, 0);
    assert.ok(out.attempts[0].outputTokens > 0);
  });

  it('moves on from a closed port: the connection is refused at once (no timeout is waited for) and the fallback answers', async () => {
    const closed = { ...decision.chosen, provider: { ...httpProvider(decision.chosen.provider), baseUrl: `http://127.0.0.1:${await closedPort()}/v1` }, deployments: undefined };
    const warnings: string[] = [];
    const out = await runChat({
      decision: { ...decision, chosen: closed },
      messages: [{ role: 'user', content: 'x' }],
      maxOutputTokens: 16,
      // A long deadline: were the failure a timeout, the attempts would not have ended by themselves.
      providerFor: (routed) => new OpenAIChatProvider({ provider: httpProvider(routed.provider), apiKey: undefined, timeoutMs: 60_000 }),
      onText: () => undefined,
      signal: new AbortController().signal,
      logger: { ...silentLogger, warn: (message) => warnings.push(message) },
      random: () => 0,
      sleep: async () => undefined,
    });
    assert.equal(out.answeredBy?.model.id, 'safe');
    assert.equal(out.attempts.filter((a) => a.errorKind === 'connection').length, 3);
    assert.ok(warnings.some((w) => /Could not connect to .*\(ECONNREFUSED\)/.test(w)), warnings.join('\n'));
  });
});
