import * as assert from 'node:assert/strict';
import { ProviderError } from '../../src/core/providers/chatProvider';
import { OpenAIChatProvider } from '../../src/core/providers/openaiChatProvider';
import { MockLlmServer } from '../mock/mockLlmServer';

const chunk = (content: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }], ...extra });
const usage = JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } });

describe('OpenAI server-sent events on the wire', () => {
  let server: MockLlmServer;
  before(async () => {
    server = await MockLlmServer.start();
  });
  beforeEach(() => server.reset());
  after(() => server.close());

  const stream = (pieces: string[], contentType?: string, status?: number) => {
    server.enqueue({ kind: 'raw', pieces, contentType, status, pieceDelayMs: 5 });
    const provider = new OpenAIChatProvider({ provider: { id: 'mock', kind: 'openai', baseUrl: server.baseUrl, auth: 'none' }, apiKey: undefined, timeoutMs: 5000 });
    const seen: string[] = [];
    return provider
      .streamChat({ model: 'm', messages: [{ role: 'user', content: 'hi' }], maxOutputTokens: 16 }, (d) => seen.push(d), new AbortController().signal)
      .then((result) => ({ result, seen }));
  };
  const failure = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (error) {
      assert.ok(error instanceof ProviderError, String(error));
      return error;
    }
    assert.fail('expected a failure');
  };

  it('joins an event split in the middle of a line across network reads', async () => {
    const line = `data: ${chunk('Hello')}\n\n`;
    const { result } = await stream([line.slice(0, 17), line.slice(17, 40), line.slice(40), `data: ${usage}\n\n`, 'data: [DONE]\n\n']);
    assert.equal(result.text, 'Hello');
    assert.deepEqual(result.usage, { inputTokens: 7, outputTokens: 3, estimated: false });
  });

  it('accepts CRLF line ends and ignores comment lines', async () => {
    const { result } = await stream([`: keep-alive\r\n\r\n`, `data: ${chunk('a')}\r\n\r\n`, `:ping\r\n\r\ndata: ${chunk('b')}\r\n\r\n`, 'data: [DONE]\r\n\r\n']);
    assert.equal(result.text, 'ab');
  });

  it('joins multi-line data fields into one event', async () => {
    const json = chunk('multi');
    const cut = json.indexOf('"choices"');
    const { result } = await stream([`data: ${json.slice(0, cut)}\ndata: ${json.slice(cut)}\n\n`, 'data: [DONE]\n\n']);
    assert.equal(result.text, 'multi');
  });

  it('finishes cleanly without [DONE], estimating usage the server did not send', async () => {
    const { result } = await stream([`data: ${chunk('no done')}\n\n`]);
    assert.equal(result.text, 'no done');
    assert.equal(result.usage.estimated, true);
  });

  it('reports an error event in the stream as a failure, keeping the text before it', async () => {
    const error = await failure(stream([`data: ${chunk('par')}\n\n`, `data: ${JSON.stringify({ error: { message: 'overloaded', type: 'overloaded_error' } })}\n\n`]));
    assert.equal(error.kind, 'server');
    assert.match(error.message, /overloaded/);
    assert.equal(error.partial?.text, 'par');
  });

  it('rejects an HTML page sent with status 200 instead of an event stream', async () => {
    const error = await failure(stream(['<!DOCTYPE html><html><body>Gateway login</body></html>'], 'text/html'));
    assert.equal(error.kind, 'bad-response');
  });
});
