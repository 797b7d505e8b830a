import * as assert from 'node:assert/strict';
import { runChatAttempt } from '../../src/core/actions/runChatAttempt';
import { defaultSettings } from '../../src/core/config/settingsSchema';
import type { Logger } from '../../src/core/log/logger';
import { ProviderError, type ChatProvider } from '../../src/core/providers/chatProvider';
import { routeByTask } from '../../src/core/route/routeDecision';

function recordingLogger() {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (message: string) => lines.push({ level, message });
  const logger: Logger = { trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

/** A clock that moves 100 ms each time it is read. */
function steppingClock() {
  let t = 0;
  return () => (t += 100);
}

const decision = routeByTask('req-1', 'explain', {
  ...defaultSettings(),
  providers: [{ id: 'openai', kind: 'openai', baseUrl: 'https://api.openai.com/v1', auth: 'apiKey' }],
  models: [{ id: 'gpt-4.1-mini', provider: 'openai', name: 'gpt-4.1-mini', tags: ['cheap'], balance: 'round-robin', capabilities: ['chat', 'tools'] }],
});
const messages = [{ role: 'user' as const, content: 'SECRET_CODE_MARKER' }];

describe('runChatAttempt', () => {
  it('streams, returns the attempt, and logs one line with task, model, tokens and latency', async () => {
    const provider: ChatProvider = {
      async streamChat(_request, onText) {
        onText('Hello ');
        onText('world');
        return { text: 'Hello world', usage: { inputTokens: 12, outputTokens: 3, estimated: false } };
      },
    };
    const { logger, lines } = recordingLogger();
    const seen: string[] = [];
    const out = await runChatAttempt({
      decision, messages, maxOutputTokens: 100, provider, onText: (d) => seen.push(d), signal: new AbortController().signal, logger, now: steppingClock(),
    });
    assert.deepEqual(seen, ['Hello ', 'world']);
    assert.equal(out.result?.text, 'Hello world');
    assert.equal(out.attempt.status, 'ok');
    assert.equal(out.attempt.modelId, 'gpt-4.1-mini');
    assert.equal(out.attempt.latencyMs, 200);
    assert.equal(out.attempt.firstTextMs, 100);
    assert.equal(lines.length, 1);
    assert.equal(lines[0].level, 'info');
    assert.equal(
      lines[0].message,
      'explain model=gpt-4.1-mini provider=openai status=ok in=12 out=3 latency=200ms first=100ms id=req-1',
    );
  });

  it('records a failure with the tokens produced before it, and never logs the prompt', async () => {
    const provider: ChatProvider = {
      async streamChat(_request, onText) {
        onText('partial');
        // An error event in the middle of a 200 stream: no HTTP status, text already produced.
        throw new ProviderError('server', 'The provider reported an error mid-stream: boom', undefined, {
          text: 'partial',
          usage: { inputTokens: 7, outputTokens: 2, estimated: true },
        });
      },
    };
    const { logger, lines } = recordingLogger();
    const out = await runChatAttempt({
      decision, messages, maxOutputTokens: 100, provider, onText: () => undefined, signal: new AbortController().signal, logger, now: steppingClock(),
    });
    assert.equal(out.attempt.status, 'error');
    assert.equal(out.attempt.errorKind, 'server');
    assert.equal(out.attempt.inputTokens, 7);
    assert.equal(out.attempt.outputTokens, 2);
    assert.equal(out.error?.kind, 'server');
    assert.equal(lines.length, 1);
    assert.equal(lines[0].level, 'warn');
    assert.match(lines[0].message, /status=error error=server in=7 out=2 \(estimated\)/);
    assert.ok(!lines.some((l) => l.message.includes('SECRET_CODE_MARKER')));
  });

  it('charges nothing for a call the service refused with an HTTP error', async () => {
    const provider: ChatProvider = {
      streamChat: () =>
        Promise.reject(new ProviderError('rate-limit', 'HTTP 429: slow down', 429, { text: '', usage: { inputTokens: 40, outputTokens: 0, estimated: true } })),
    };
    const out = await runChatAttempt({
      decision, messages, maxOutputTokens: 100, provider, onText: () => undefined, signal: new AbortController().signal, logger: recordingLogger().logger,
    });
    assert.deepEqual([out.attempt.inputTokens, out.attempt.outputTokens, out.attempt.usageEstimated], [0, 0, false]);
  });

  it('replaces a rough estimate with the tokenizer count of the prompt and of the text produced', async () => {
    const provider: ChatProvider = {
      async streamChat(_request, onText) {
        onText('four words of answer');
        return { text: 'four words of answer', usage: { inputTokens: 999, outputTokens: 999, estimated: true } };
      },
    };
    const seen: string[][] = [];
    const tokens = { name: 'test tokenizer', count: async (texts: readonly string[]) => (seen.push([...texts]), texts.map((t) => t.split(' ').length)) };
    const out = await runChatAttempt({
      decision, messages, maxOutputTokens: 100, provider, onText: () => undefined, signal: new AbortController().signal, logger: recordingLogger().logger, tokens,
    });
    assert.deepEqual(seen, [[...messages.map((m) => m.content), 'four words of answer']]);
    assert.equal(out.attempt.outputTokens, 4);
    assert.equal(out.attempt.inputTokens, messages.reduce((sum, m) => sum + m.content.split(' ').length + 4, 0));
    assert.equal(out.attempt.usageEstimated, true);
    assert.equal(out.attempt.usageEstimatedBy, 'test tokenizer');
  });

  it('keeps the usage a provider reported, and a count made by the model itself', async () => {
    const counted: string[] = [];
    const tokens = { name: 't', count: async (texts: readonly string[]) => (counted.push(...texts), texts.map(() => 1)) };
    for (const usage of [
      { inputTokens: 11, outputTokens: 3, estimated: false },
      { inputTokens: 12, outputTokens: 4, estimated: true, estimatedBy: 'model' as const },
    ]) {
      const provider: ChatProvider = { streamChat: async () => ({ text: 'x', usage }) };
      const out = await runChatAttempt({
        decision, messages, maxOutputTokens: 100, provider, onText: () => undefined, signal: new AbortController().signal, logger: recordingLogger().logger, tokens,
      });
      assert.deepEqual([out.attempt.inputTokens, out.attempt.outputTokens], [usage.inputTokens, usage.outputTokens]);
    }
    assert.deepEqual(counted, []);
  });

  it('turns an unexpected exception into a bad-response attempt instead of throwing', async () => {
    const provider: ChatProvider = {
      async streamChat() {
        throw new TypeError('undefined is not a function');
      },
    };
    const { logger } = recordingLogger();
    const out = await runChatAttempt({
      decision, messages, maxOutputTokens: 100, provider, onText: () => undefined, signal: new AbortController().signal, logger,
    });
    assert.equal(out.attempt.errorKind, 'bad-response');
  });
});
