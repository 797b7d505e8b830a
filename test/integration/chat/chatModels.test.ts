import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { Outcome } from '../../../src/core/learn/outcomes';
import type { DecisionRecord } from '../../../src/core/route/decisionRecord';
import type { ChatRequestReport } from '../../../src/vscode/chat/chatModelProvider';
import { MockLlmServer, type RecordedRequest } from '../../mock/mockLlmServer';
import { eventually, openFixture, select, userSettings } from '../vscodeHelpers';

const KEYS = ['providers', 'models', 'tasks.explain', 'tasks.chat', 'tasks.agent', 'tasks.debug', 'routing.mode', 'budget.dailyUsd', 'budget.onLimit', 'privacy.noAi', 'chat.showRoutingNote'] as const;

interface ChatState {
  available: boolean;
  last?: ChatRequestReport;
}

interface Answer {
  text: string;
  calls: vscode.LanguageModelToolCallPart[];
}

const READ_FILE: vscode.LanguageModelChatTool = {
  name: 'readFile',
  description: 'Reads a file of the workspace.',
  inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
};

const chatState = () => vscode.commands.executeCommand<ChatState>('coderoute.chatState');
const User = (text: string) => vscode.LanguageModelChatMessage.User(text);

/** Reads a whole answer: its text and the tool calls it made. */
async function read(response: vscode.LanguageModelChatResponse): Promise<Answer> {
  const answer: Answer = { text: '', calls: [] };
  for await (const part of response.stream) {
    if (part instanceof vscode.LanguageModelTextPart) answer.text += part.value;
    else if (part instanceof vscode.LanguageModelToolCallPart) answer.calls.push(part);
  }
  return answer;
}

async function modelNamed(name: string): Promise<vscode.LanguageModelChat> {
  const models = await vscode.lm.selectChatModels({ vendor: 'coderoute' });
  const model = models.find((m) => m.name === name);
  assert.ok(model, `${name} is among ${models.map((m) => m.name).join(', ')}`);
  return model;
}

async function ask(name: string, messages: vscode.LanguageModelChatMessage[], options: vscode.LanguageModelChatRequestOptions = {}, token?: vscode.CancellationToken): Promise<Answer> {
  const model = await modelNamed(name);
  return read(await model.sendRequest(messages, { justification: 'CodeRoute integration test', ...options }, token));
}

/** The error a request ends with (when sending it, or while reading its answer). */
async function failureOf(name: string, messages: vscode.LanguageModelChatMessage[], options: vscode.LanguageModelChatRequestOptions = {}): Promise<Error> {
  try {
    await ask(name, messages, options);
  } catch (error) {
    assert.ok(error instanceof Error, String(error));
    return error;
  }
  return assert.fail('the request should have failed');
}

/** The model name the mock was asked for, per request. */
const modelsAsked = (requests: readonly RecordedRequest[]) => requests.map((r) => (r.body as { model?: string }).model);

interface LedgerLine {
  type: string;
  requestId: string;
  model?: string;
  task?: string;
}

async function ledgerLines(requestId: string): Promise<LedgerLine[]> {
  const status = await vscode.commands.executeCommand<{ file?: string }>('coderoute.spendStatus');
  assert.ok(status.file, 'the ledger is open');
  return readFileSync(status.file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as LedgerLine)
    .filter((line) => line.requestId === requestId);
}

/**
 * CodeRoute's models in VS Code's chat, asked through `vscode.lm` as the Chat view and other
 * extensions ask them, against the loopback mock: an OpenAI-compatible provider for the cheap and
 * strong tiers and an Anthropic one for the code tier.
 */
describe('Chat models: CodeRoute Auto and the tiers in VS Code’s chat', () => {
  let server: MockLlmServer;
  let settings: ReturnType<typeof userSettings>;

  before(async () => {
    server = await MockLlmServer.start();
    settings = userSettings(KEYS);
    await settings.set('providers', [
      { id: 'chat-openai', kind: 'openai', baseUrl: server.baseUrl, auth: 'none' },
      { id: 'chat-anthropic', kind: 'anthropic', baseUrl: server.rootUrl, auth: 'none' },
    ]);
    await settings.set('models', [
      { id: 'chat-cheap', provider: 'chat-openai', name: 'cheap-chat-v1', tags: ['cheap'], price: { inputPerMTok: 0.1, outputPerMTok: 0.4 }, contextWindow: 64_000 },
      { id: 'chat-code', provider: 'chat-anthropic', name: 'code-chat-v1', tags: ['code'], price: { inputPerMTok: 3, outputPerMTok: 15 } },
      { id: 'chat-strong', provider: 'chat-openai', name: 'strong-chat-v1', tags: ['strong'], capabilities: ['chat'], price: { inputPerMTok: 10, outputPerMTok: 40 } },
    ]);
    await settings.set('tasks.explain', ['cheap']);
    await settings.set('tasks.chat', ['cheap']);
    await settings.set('tasks.debug', ['code']);
    await settings.set('tasks.agent', ['code']);
    await settings.set('routing.mode', 'task');
    await eventually(async () => (await vscode.lm.selectChatModels({ vendor: 'coderoute' })).some((m) => m.name === 'CodeRoute Strong'), 'the picker follows the settings');
  });

  after(async () => {
    await settings.restore();
    await server.close();
  });

  beforeEach(() => server.reset());

  it('lists CodeRoute Auto and one model per configured tier, with the limits and tool calling of every model behind each', async () => {
    assert.equal((await chatState()).available, true, 'this VS Code has the chat provider API');
    const models = await vscode.lm.selectChatModels({ vendor: 'coderoute' });
    assert.deepEqual(models.map((m) => m.name).sort(), ['CodeRoute Auto', 'CodeRoute Cheap', 'CodeRoute Code', 'CodeRoute Strong']);
    const cheap = models.find((m) => m.name === 'CodeRoute Cheap');
    const auto = models.find((m) => m.name === 'CodeRoute Auto');
    // The cheap tier's one model has a 64k window; Auto may reach it too, so its input is no larger.
    assert.ok(cheap && cheap.maxInputTokens < 64_000 && cheap.maxInputTokens > 32_000, String(cheap?.maxInputTokens));
    assert.ok(auto && auto.maxInputTokens <= cheap.maxInputTokens, String(auto?.maxInputTokens));
  });

  it('the list follows the settings: a model of a new tier adds its entry, and removing it takes the entry away', async () => {
    const models = vscode.workspace.getConfiguration('coderoute').get<object[]>('models') ?? [];
    await settings.set('models', [...models, { id: 'chat-local', provider: 'chat-openai', name: 'local-chat-v1', tags: ['local'] }]);
    await eventually(async () => (await vscode.lm.selectChatModels({ vendor: 'coderoute' })).some((m) => m.name === 'CodeRoute Local'), 'CodeRoute Local to appear');
    await settings.set('models', models);
    await eventually(async () => !(await vscode.lm.selectChatModels({ vendor: 'coderoute' })).some((m) => m.name === 'CodeRoute Local'), 'CodeRoute Local to go');
  });

  it('Auto sends an explain-like question to the cheap tier, with or without tools offered, and an agent turn to the code tier', async () => {
    const explained = await ask('CodeRoute Auto', [User('Explain what this regular expression matches: /^[a-z]+\\d*$/')]);
    assert.match(explained.text, /cheap-chat-v1/, 'the mock echoes the model it was asked for');
    assert.equal((await chatState()).last?.task, 'explain');
    // As the Chat view asks it: with tools offered (in Ask mode too), a question is still a question.
    const asked = await ask('CodeRoute Auto', [User('Explain what a closure is in one sentence.')], { tools: [READ_FILE] });
    assert.match(asked.text, /cheap-chat-v1/);
    assert.equal((await chatState()).last?.task, 'explain');

    server.toolCallsWhenOffered = [{ name: 'readFile', input: { path: 'src/greeter.ts' } }];
    const agent = await ask('CodeRoute Auto', [User('Fix the failing test in src/greeter.ts')], { tools: [READ_FILE] });
    assert.equal(agent.calls.length, 1);
    assert.equal((await chatState()).last?.task, 'agent');
    assert.deepEqual(modelsAsked(server.requests), ['cheap-chat-v1', 'cheap-chat-v1', 'code-chat-v1']);
    assert.ok(server.requests[2].path.endsWith('/v1/messages'), 'the code tier speaks the Anthropic Messages API');
  });

  for (const [picker, wire] of [
    ['CodeRoute Cheap', 'OpenAI tool_calls'],
    ['CodeRoute Code', 'Anthropic tool_use'],
  ] as const) {
    it(`a tool-call round trip through ${picker} (${wire}): the call reaches VS Code as a tool-call part, its result reaches the model`, async () => {
      server.toolCallsWhenOffered = [{ name: 'readFile', input: { path: 'src/greeter.ts' } }];
      const question = User('What does src/greeter.ts export?');
      const first = await ask(picker, [question], { tools: [READ_FILE] });
      assert.equal(first.calls.length, 1, JSON.stringify(first));
      const [call] = first.calls;
      assert.equal(call.name, 'readFile');
      assert.deepEqual(call.input, { path: 'src/greeter.ts' });

      const result = new vscode.LanguageModelToolResultPart(call.callId, [new vscode.LanguageModelTextPart('export function greet(name: string)')]);
      const second = await ask(picker, [question, vscode.LanguageModelChatMessage.Assistant([call]), vscode.LanguageModelChatMessage.User([result])], { tools: [READ_FILE] });
      assert.match(second.text, /after the tools: "export function greet\(name: string\)"/);
      assert.equal(second.calls.length, 0);
      // Both rounds of the turn went to the same model.
      const asked = modelsAsked(server.requests);
      assert.equal(asked.length, 2);
      assert.equal(asked[0], asked[1]);
      const body = JSON.stringify(server.requests[1].body);
      if (wire === 'OpenAI tool_calls') assert.match(body, new RegExp(`"role":"tool","tool_call_id":"${call.callId}"`));
      else assert.match(body, new RegExp(`"type":"tool_result","tool_use_id":"${call.callId}"`));
    });
  }

  it('an agent turn stays on the model that began it; when that model fails mid-turn, the fallback answers and keeps the rest of the turn', async () => {
    try {
      await settings.set('tasks.agent', ['code', 'cheap']);
      server.toolCallsWhenOffered = [{ name: 'readFile', input: { path: 'src/greeter.ts' } }];
      const question = User('Add a test for greet() in src/greeter.ts');
      const first = await ask('CodeRoute Auto', [question], { tools: [READ_FILE] });
      const [call] = first.calls;
      assert.ok(call, JSON.stringify(first));
      const round = (n: number) => [
        question,
        ...Array.from({ length: n }, () => [vscode.LanguageModelChatMessage.Assistant([call]), vscode.LanguageModelChatMessage.User([new vscode.LanguageModelToolResultPart(call.callId, [new vscode.LanguageModelTextPart(`result ${n}`)])])]).flat(),
      ];
      // The policy now prefers the cheap tier for agent turns; this turn began on the code model and stays there.
      await settings.set('tasks.agent', ['cheap', 'code']);
      await ask('CodeRoute Auto', round(1), { tools: [READ_FILE] });
      // The code model fails before its first token: the chain's fallback answers, and the turn goes on with it.
      server.enqueue({ kind: 'fail', status: 400, message: 'invalid request' });
      await ask('CodeRoute Auto', round(2), { tools: [READ_FILE] });
      await ask('CodeRoute Auto', round(3), { tools: [READ_FILE] });
      assert.deepEqual(modelsAsked(server.requests), ['code-chat-v1', 'code-chat-v1', 'code-chat-v1', 'cheap-chat-v1', 'cheap-chat-v1']);
    } finally {
      await settings.set('tasks.agent', ['code']);
    }
  });

  it('a tool call in the wrong shape fails the request and is learned as the model’s failure', async () => {
    server.toolCallsWhenOffered = [{ name: 'readFile', rawArguments: '{"path": "src/gre' }];
    const error = await failureOf('CodeRoute Code', [User('Read src/greeter.ts')], { tools: [READ_FILE] });
    assert.match(error.message, /tool call to readFile whose arguments are not a JSON object/);
    const outcomes = await vscode.commands.executeCommand<Outcome[]>('coderoute.outcomes');
    assert.ok(outcomes.some((o) => o.kind === 'failed-tool-call' && o.modelId === 'chat-code'), JSON.stringify(outcomes.slice(0, 3)));
  });

  it('cancelling from the chat stops the call: the mock sees the connection closed', async () => {
    server.enqueue({ kind: 'reply', text: 'word '.repeat(200), chunks: 100, chunkDelayMs: 50 });
    const source = new vscode.CancellationTokenSource();
    const model = await modelNamed('CodeRoute Cheap');
    const response = await model.sendRequest([User('Tell me a long story.')], {}, source.token);
    let text = '';
    try {
      for await (const part of response.stream) {
        if (part instanceof vscode.LanguageModelTextPart) text += part.value;
        if (text.length > 20) source.cancel();
      }
    } catch {
      // Cancelled: the stream may end or throw.
    }
    assert.ok(text.length > 0 && text.length < 'word '.repeat(200).length, `stopped part-way (${text.length} characters)`);
    await eventually(() => server.requests[0]?.clientAborted, 'the mock to see the connection closed');
    await eventually(async () => (await chatState()).last?.status === 'cancelled', 'the request to be reported cancelled');
  });

  it('settles one ledger line per request, under task chat, and Why This Model? shows the chat’s decision', async () => {
    await ask('CodeRoute Auto', [User('Which is faster in general, a hash map or a sorted array?')]);
    const { last } = await chatState();
    assert.ok(last, 'the request is reported');
    assert.equal(last.task, 'chat');
    const lines = await ledgerLines(last.requestId);
    assert.deepEqual(lines.map((l) => l.type), ['reserve', 'settle']);
    assert.equal(lines[1].model, 'chat-cheap');
    assert.equal(lines[1].task, 'chat');
    const record = await vscode.commands.executeCommand<DecisionRecord | undefined>('coderoute.whyThisModel', 'chat');
    assert.equal(record?.requestId, last.requestId);
    assert.match(record?.reason ?? '', /chat-cheap/);
  });

  it('writes no routing note into the answer unless the user turns it on', async () => {
    const plain = await ask('CodeRoute Auto', [User('What is a monad, briefly?')]);
    assert.doesNotMatch(plain.text, /CodeRoute:/);
    try {
      await settings.set('chat.showRoutingNote', true);
      const noted = await ask('CodeRoute Auto', [User('What is a functor, briefly?')]);
      assert.match(noted.text, /_CodeRoute: chat-cheap answered\. .*chat-cheap/);
    } finally {
      await settings.set('chat.showRoutingNote', undefined);
    }
  });

  it('the same request sent again (a regenerate) records a rejection of the first answer', async () => {
    const messages = [User('Name three sorting algorithms that are stable.')];
    await ask('CodeRoute Auto', messages);
    const first = (await chatState()).last;
    await ask('CodeRoute Auto', messages);
    const outcomes = await vscode.commands.executeCommand<Outcome[]>('coderoute.outcomes');
    assert.ok(outcomes.some((o) => o.requestId === first?.requestId && o.kind === 'regenerated' && o.modelId === 'chat-cheap'), JSON.stringify(outcomes.slice(0, 3)));
  });

  it('a budget at its limit steps down when it says so, and otherwise refuses with a LanguageModelError, sending nothing', async () => {
    try {
      // The code tier's reservation (its full output allowance) passes a 1-cent budget; the cheap one does not.
      await settings.set('budget.dailyUsd', 0.01);
      await settings.set('budget.onLimit', { daily: 'step-down', monthly: 'stop' });
      await ask('CodeRoute Code', [User('Why does this recursion never end?')]);
      assert.deepEqual(modelsAsked(server.requests), ['cheap-chat-v1'], 'stepped down to the cheap model');

      server.reset();
      await settings.set('budget.dailyUsd', 0.000001);
      await settings.set('budget.onLimit', { daily: 'stop', monthly: 'stop' });
      const error = await failureOf('CodeRoute Auto', [User('Explain tail calls.')]);
      assert.ok(error instanceof vscode.LanguageModelError, `${error.name}: ${error.message}`);
      assert.match(error.message, /budget/i);
      assert.equal(server.requests.length, 0, 'nothing was sent');
    } finally {
      await settings.set('budget.dailyUsd', 0);
      await settings.set('budget.onLimit', undefined);
    }
  });

  it('refuses while a no-ai file is the active editor, and when the messages carry a file under a no-ai path', async () => {
    await openFixture('src/billing.ts');
    const error = await failureOf('CodeRoute Auto', [User('What does this file do?')]);
    assert.ok(error instanceof vscode.LanguageModelError, `${error.name}: ${error.message}`);
    assert.match(error.message, /billing\.ts.*coderoute: no-ai/);

    await openFixture('src/greeter.ts');
    try {
      await settings.set('privacy.noAi', ['src/invoice.ts']);
      const referenced = await failureOf('CodeRoute Auto', [User('Summarise #file:src/invoice.ts for me')]);
      assert.match(referenced.message, /src\/invoice\.ts.*no-AI path/);
    } finally {
      await settings.set('privacy.noAi', undefined);
    }
    assert.equal(server.requests.length, 0, 'nothing was sent');
  });

  it('a request about the active editor is classified from its syntax tree at the selection', async () => {
    const editor = await openFixture('src/greeter.ts');
    select(editor, 'const out: string[] = [];');
    await ask('CodeRoute Auto', [User('this?')]);
    const { last } = await chatState();
    assert.match(last?.reason ?? '', /at the cursor/, last?.reason);
  });

  it('never routes a chat request to one of its own models through vscode-lm: the request fails, naming why, instead of looping', async () => {
    const providers = vscode.workspace.getConfiguration('coderoute').get<object[]>('providers') ?? [];
    const models = vscode.workspace.getConfiguration('coderoute').get<object[]>('models') ?? [];
    try {
      await settings.set('providers', [...providers, { id: 'lm', kind: 'vscode-lm' }]);
      // CodeRoute Auto's picker id, as a vscode-lm model of the local tier.
      await settings.set('models', [...models, { id: 'loop', provider: 'lm', name: 'auto', tags: ['local'] }]);
      await eventually(async () => (await vscode.lm.selectChatModels({ vendor: 'coderoute' })).some((m) => m.name === 'CodeRoute Local'), 'CodeRoute Local to appear');
      const error = await failureOf('CodeRoute Local', [User('Hello?')]);
      assert.match(error.message, /one of CodeRoute's own chat models/);
      assert.equal(server.requests.length, 0);
    } finally {
      await settings.set('models', models);
      await settings.set('providers', providers);
    }
  });

  it('counts tokens with the real tokenizer, a message as all its parts', async () => {
    const model = await modelNamed('CodeRoute Auto');
    const short = await model.countTokens('hello world');
    const long = await model.countTokens('hello world '.repeat(500));
    assert.ok(short >= 2 && short <= 3, String(short));
    assert.ok(long > 900 && long < 1100, String(long));
    const message = await model.countTokens(vscode.LanguageModelChatMessage.User('hello world '.repeat(500)));
    assert.equal(message, long);
  });
});
