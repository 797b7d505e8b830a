import * as assert from 'node:assert/strict';
import type { HttpProviderConfig } from '../../src/core/config/settingsSchema';
import { AnthropicChatProvider } from '../../src/core/providers/anthropicChatProvider';
import type { ChatMessage, ChatProvider, ChatRequest, ToolSpec } from '../../src/core/providers/chatProvider';
import { OpenAIChatProvider } from '../../src/core/providers/openaiChatProvider';
import { MockLlmServer } from '../mock/mockLlmServer';
import { failure } from '../support/providerCalls';

const TOOLS: ToolSpec[] = [
  {
    name: 'readFile',
    description: 'Reads a file of the workspace.',
    inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
  },
  { name: 'listFiles', description: 'Lists the files of the workspace.' },
];

const ASK: ChatMessage[] = [
  { role: 'system', content: 'You are a coding agent.' },
  { role: 'user', content: 'What does src/a.ts export?' },
];

/** The conversation after the model called readFile and the tool answered. */
const AFTER_CALL: ChatMessage[] = [
  ...ASK,
  { role: 'assistant', content: 'Let me look.', toolCalls: [{ id: 'call_1', name: 'readFile', input: { path: 'src/a.ts' } }] },
  { role: 'user', content: '', toolResults: [{ callId: 'call_1', content: 'export const a = 1;' }] },
];

const chat = (messages: ChatMessage[], extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model: 'mock-agent',
  messages,
  maxOutputTokens: 256,
  tools: TOOLS,
  ...extra,
});

const never = () => new AbortController().signal;

/** Runs one call, collecting the text it streamed. */
async function run(provider: ChatProvider, request: ChatRequest) {
  const seen: string[] = [];
  const result = await provider.streamChat(request, (delta) => seen.push(delta), never());
  return { result, seen: seen.join('') };
}

/** The raw event stream the mock sends for `body`, to see how it cuts the arguments. */
async function rawStream(url: string, body: object): Promise<string> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, stream: true }) });
  return response.text();
}

/** The JSON strings a stream carries under `field`, in order. */
function stringsOf(stream: string, field: string): string[] {
  return [...stream.matchAll(new RegExp(`"${field}":("(?:[^"\\\\]|\\\\.)*")`, 'g'))].map((m) => JSON.parse(m[1]) as string);
}

describe('Tool calls on the loopback mock', () => {
  let server: MockLlmServer;

  before(async () => {
    server = await MockLlmServer.start();
  });
  beforeEach(() => server.reset());
  after(() => server.close());

  const lastBody = () => server.requests[server.requests.length - 1].body as Record<string, unknown>;

  describe('OpenAI chat completions', () => {
    let provider: HttpProviderConfig;
    const make = () => new OpenAIChatProvider({ provider, apiKey: undefined, timeoutMs: 5000 });

    before(() => {
      provider = { id: 'mock', kind: 'openai', baseUrl: server.baseUrl, auth: 'none' };
    });

    it('offers the tools as functions, a schema-less one with an empty object schema, and requires a call when asked', async () => {
      await run(make(), chat(ASK, { toolMode: 'required' }));
      const body = lastBody();
      assert.deepEqual(body.tools, [
        { type: 'function', function: { name: 'readFile', description: 'Reads a file of the workspace.', parameters: TOOLS[0].inputSchema } },
        { type: 'function', function: { name: 'listFiles', description: 'Lists the files of the workspace.', parameters: { type: 'object', properties: {} } } },
      ]);
      assert.equal(body.tool_choice, 'required');
    });

    it('leaves the choice to the model in auto mode, and sends neither key without tools', async () => {
      await run(make(), chat(ASK, { toolMode: 'auto' }));
      assert.ok('tools' in lastBody());
      assert.ok(!('tool_choice' in lastBody()));
      await run(make(), chat(ASK, { tools: [], toolMode: 'required' }));
      assert.ok(!('tools' in lastBody()));
      assert.ok(!('tool_choice' in lastBody()));
      await run(make(), chat(ASK, { tools: undefined }));
      assert.ok(!('tools' in lastBody()));
    });

    it('round trip: the call comes back parsed, and the next request carries it and its result in order', async () => {
      server.toolCallsWhenOffered = [{ id: 'call_1', name: 'readFile', input: { path: 'src/a.ts' } }];
      const first = await run(make(), chat(ASK));
      assert.deepEqual(first.result.toolCalls, [{ id: 'call_1', name: 'readFile', input: { path: 'src/a.ts' } }]);
      assert.equal(first.result.finishReason, 'tool_calls');
      assert.equal(first.result.text, '');

      const second = await run(make(), chat(AFTER_CALL));
      assert.deepEqual(lastBody().messages, [
        { role: 'system', content: 'You are a coding agent.' },
        { role: 'user', content: 'What does src/a.ts export?' },
        {
          role: 'assistant',
          content: 'Let me look.',
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'readFile', arguments: '{"path":"src/a.ts"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'export const a = 1;' },
      ]);
      assert.equal(second.result.toolCalls, undefined, 'results came back: the mock answers in text');
      assert.match(second.result.text, /"export const a = 1;"/);
      assert.equal(second.seen, second.result.text);
      assert.equal(second.result.finishReason, 'stop');
    });

    it('sends a turn of only calls with null content, error results marked, and the user text after the results', async () => {
      await run(
        make(),
        chat([
          ...ASK,
          { role: 'assistant', content: '', toolCalls: [{ id: 'a', name: 'listFiles', input: {} }, { id: 'b', name: 'readFile', input: { path: 'x' } }] },
          {
            role: 'user',
            content: 'Go on.',
            toolResults: [
              { callId: 'a', content: 'src/a.ts' },
              { callId: 'b', content: 'ENOENT: x', isError: true },
            ],
          },
        ]),
      );
      const messages = lastBody().messages as unknown[];
      assert.deepEqual(messages.slice(2), [
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'a', type: 'function', function: { name: 'listFiles', arguments: '{}' } },
            { id: 'b', type: 'function', function: { name: 'readFile', arguments: '{"path":"x"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'a', content: 'src/a.ts' },
        { role: 'tool', tool_call_id: 'b', content: 'Error: ENOENT: x' },
        { role: 'user', content: 'Go on.' },
      ]);
    });

    it('streams the text before the calls, and assembles several calls from pieces by index', async () => {
      const input = { path: 'src/deep/file.ts', lines: [1, 20], options: { follow: true, note: 'a "quoted" word' } };
      server.enqueue({ kind: 'reply', text: 'Reading two files.', chunks: 3, toolCalls: [{ name: 'readFile', input }, { name: 'listFiles' }] });
      const { result, seen } = await run(make(), chat(ASK));
      assert.equal(result.text, 'Reading two files.');
      assert.equal(seen, 'Reading two files.', 'only the text reaches onText');
      assert.deepEqual(result.toolCalls, [
        { id: 'call_mock_1', name: 'readFile', input },
        { id: 'call_mock_2', name: 'listFiles', input: {} },
      ]);
      assert.equal(result.usage.estimated, false);
    });

    it('reads fragments that interleave two calls and split the JSON anywhere', async () => {
      const chunk = (delta: object, finish: string | null = null) => `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      const call = (index: number, fields: object) => chunk({ tool_calls: [{ index, ...fields }] });
      server.enqueue({
        kind: 'raw',
        pieces: [
          chunk({ role: 'assistant', content: null }),
          call(0, { id: 'c0', type: 'function', function: { name: 'readFile', arguments: '' } }),
          call(1, { id: 'c1', type: 'function', function: { name: 'listFiles', arguments: '' } }),
          call(0, { function: { arguments: '{"pa' } }),
          call(1, { function: { arguments: '' } }),
          call(0, { function: { arguments: 'th": "a\\u00e9' } }),
          call(0, { function: { arguments: '.ts"}' } }),
          chunk({}, 'tool_calls'),
          'data: [DONE]\n\n',
        ],
      });
      const { result } = await run(make(), chat(ASK));
      assert.deepEqual(result.toolCalls, [
        { id: 'c0', name: 'readFile', input: { path: 'aé.ts' } },
        { id: 'c1', name: 'listFiles', input: {} },
      ]);
      assert.equal(result.finishReason, 'tool_calls');
    });

    for (const [what, rawArguments] of [
      ['not JSON', '{"path": "src/a.ts"'],
      ['an array', '["src/a.ts"]'],
      ['a string', '"src/a.ts"'],
    ] as const) {
      it(`fails as bad-tool-call when a call's arguments are ${what}, keeping the text as partial`, async () => {
        server.enqueue({ kind: 'reply', text: 'Reading.', toolCalls: [{ name: 'readFile', rawArguments }] });
        const error = await failure(make().streamChat(chat(ASK), () => undefined, never()));
        assert.equal(error.kind, 'bad-tool-call');
        assert.equal(error.message, 'mock-agent made a tool call to readFile whose arguments are not a JSON object');
        assert.equal(error.partial?.text, 'Reading.');
        assert.equal(error.partial?.toolCalls, undefined);
      });
    }

    it('the mock streams the id and name first, then the arguments over several fragments', async () => {
      server.enqueue({ kind: 'reply', toolCalls: [{ id: 'x', name: 'readFile', input: { path: 'src/a.ts' } }] });
      const stream = await rawStream(`${server.baseUrl}/chat/completions`, { model: 'm', messages: [{ role: 'user', content: 'hi' }] });
      const pieces = stringsOf(stream, 'arguments');
      assert.ok(pieces.length >= 3, `expected the name's empty arguments and then pieces, got ${pieces.length}`);
      assert.equal(pieces[0], '', 'the first fragment names the call');
      assert.equal(pieces.join(''), '{"path":"src/a.ts"}');
      assert.ok(stream.indexOf('"name":"readFile"') < stream.indexOf('"arguments":"{'));
      assert.match(stream, /"finish_reason":"tool_calls"/);
    });

    it('the mock answers a request that is not streamed with message.tool_calls', async () => {
      server.enqueue({ kind: 'reply', toolCalls: [{ id: 'x', name: 'readFile', input: { path: 'a' } }] });
      const response = await fetch(`${server.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
      });
      const answer = (await response.json()) as { choices: { message: unknown; finish_reason: string }[] };
      assert.deepEqual(answer.choices[0].message, {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'x', type: 'function', function: { name: 'readFile', arguments: '{"path":"a"}' } }],
      });
      assert.equal(answer.choices[0].finish_reason, 'tool_calls');
    });
  });

  describe('Anthropic Messages', () => {
    let provider: HttpProviderConfig;
    const make = () => new AnthropicChatProvider({ provider, apiKey: 'sk-ant-test', timeoutMs: 5000 });

    before(() => {
      provider = { id: 'claude', kind: 'anthropic', baseUrl: server.rootUrl, auth: 'apiKey' };
    });

    it('offers the tools with input_schema, a schema-less one with an empty object schema, and `any` when a call is required', async () => {
      await run(make(), chat(ASK, { toolMode: 'required' }));
      const body = lastBody();
      assert.deepEqual(body.tools, [
        { name: 'readFile', description: 'Reads a file of the workspace.', input_schema: TOOLS[0].inputSchema },
        { name: 'listFiles', description: 'Lists the files of the workspace.', input_schema: { type: 'object', properties: {} } },
      ]);
      assert.deepEqual(body.tool_choice, { type: 'any' });
    });

    it('leaves the choice to the model in auto mode, and sends neither key without tools', async () => {
      await run(make(), chat(ASK));
      assert.ok('tools' in lastBody());
      assert.ok(!('tool_choice' in lastBody()));
      await run(make(), chat(ASK, { tools: [], toolMode: 'required' }));
      assert.ok(!('tools' in lastBody()));
      assert.ok(!('tool_choice' in lastBody()));
    });

    it('round trip: the tool_use comes back parsed, and the next request carries tool_use and tool_result blocks in order', async () => {
      server.toolCallsWhenOffered = (offered) => [{ id: 'call_1', name: offered[0], input: { path: 'src/a.ts' } }];
      const first = await run(make(), chat(ASK));
      assert.deepEqual(first.result.toolCalls, [{ id: 'call_1', name: 'readFile', input: { path: 'src/a.ts' } }]);
      assert.equal(first.result.finishReason, 'tool_use');

      const second = await run(make(), chat(AFTER_CALL));
      const body = lastBody();
      assert.equal(body.system, 'You are a coding agent.');
      assert.deepEqual(body.messages, [
        { role: 'user', content: 'What does src/a.ts export?' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Let me look.' },
            { type: 'tool_use', id: 'call_1', name: 'readFile', input: { path: 'src/a.ts' } },
          ],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: 'export const a = 1;' }] },
      ]);
      assert.equal(second.result.toolCalls, undefined);
      assert.match(second.result.text, /"export const a = 1;"/);
      assert.equal(second.result.finishReason, 'end_turn');
    });

    it('flags error results, puts the user text after the results, and keeps results first when user turns are joined', async () => {
      await run(
        make(),
        chat([
          ...ASK,
          { role: 'assistant', content: '', toolCalls: [{ id: 'a', name: 'listFiles', input: {} }] },
          { role: 'user', content: 'Also this.' },
          { role: 'user', content: 'Go on.', toolResults: [{ callId: 'a', content: 'EACCES', isError: true }] },
        ]),
      );
      const messages = lastBody().messages as unknown[];
      assert.deepEqual(messages.slice(1), [
        { role: 'assistant', content: [{ type: 'tool_use', id: 'a', name: 'listFiles', input: {} }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'a', content: 'EACCES', is_error: true },
            { type: 'text', text: 'Also this.' },
            { type: 'text', text: 'Go on.' },
          ],
        },
      ]);
    });

    it('streams the text before the calls, and assembles each tool_use from input_json_delta pieces', async () => {
      const input = { path: 'src/deep/file.ts', lines: [1, 20], options: { follow: true } };
      server.enqueue({ kind: 'reply', text: 'Reading two files.', chunks: 3, toolCalls: [{ name: 'readFile', input }, { name: 'listFiles' }] });
      const { result, seen } = await run(make(), chat(ASK));
      assert.equal(seen, 'Reading two files.');
      assert.deepEqual(result.toolCalls, [
        { id: 'toolu_mock_1', name: 'readFile', input },
        { id: 'toolu_mock_2', name: 'listFiles', input: {} },
      ]);
      assert.equal(result.usage.estimated, false);
    });

    it('the mock streams the input over several input_json_delta events', async () => {
      server.enqueue({ kind: 'reply', toolCalls: [{ name: 'readFile', input: { path: 'src/a.ts' } }] });
      const text = await rawStream(`${server.rootUrl}/v1/messages`, { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
      const pieces = stringsOf(text, 'partial_json');
      assert.ok(pieces.length >= 2, `expected the input in pieces, got ${pieces.length}`);
      assert.equal(pieces.join(''), '{"path":"src/a.ts"}');
      assert.match(text, /"stop_reason":"tool_use"/);
    });

    it('fails as bad-tool-call when a tool_use input is not a JSON object, keeping the text as partial', async () => {
      server.enqueue({ kind: 'reply', text: 'Reading.', toolCalls: [{ name: 'readFile', rawArguments: '{"path": ' }] });
      const error = await failure(make().streamChat(chat(ASK), () => undefined, never()));
      assert.equal(error.kind, 'bad-tool-call');
      assert.equal(error.message, 'mock-agent made a tool call to readFile whose arguments are not a JSON object');
      assert.equal(error.partial?.text, 'Reading.');
    });
  });

  describe('the mock’s agent round trip', () => {
    it('calls tools only when they are offered and no results came back, and a queued behaviour still wins', async () => {
      const provider = new OpenAIChatProvider({ provider: { id: 'mock', kind: 'openai', baseUrl: server.baseUrl, auth: 'none' }, apiKey: undefined, timeoutMs: 5000 });
      server.toolCallsWhenOffered = [{ name: 'listFiles' }];
      const withoutTools = await run(provider, chat(ASK, { tools: undefined }));
      assert.equal(withoutTools.result.toolCalls, undefined);
      assert.match(withoutTools.result.text, /^Mock answer from mock-agent/);
      server.enqueue({ kind: 'reply', text: 'Scripted.' });
      const scripted = await run(provider, chat(ASK));
      assert.equal(scripted.result.text, 'Scripted.');
      const called = await run(provider, chat(ASK));
      assert.deepEqual(called.result.toolCalls, [{ id: 'call_mock_1', name: 'listFiles', input: {} }]);
      server.reset();
      const afterReset = await run(provider, chat(ASK));
      assert.equal(afterReset.result.toolCalls, undefined, 'reset() turns the round trip off');
    });
  });
});
