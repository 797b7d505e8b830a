import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { runChatAttempt } from '../../../src/core/actions/runChatAttempt';
import { parseSettings, type SettingKey } from '../../../src/core/config/settingsSchema';
import { ProviderError, type ChatMessage, type ChatResult } from '../../../src/core/providers/chatProvider';
import { routeByTask } from '../../../src/core/route/routeDecision';
import type { ExplainCommandResult } from '../../../src/vscode/commands/explainSelection';
import { LanguageModelChatProvider, type ChatModelSelector } from '../../../src/vscode/providers/languageModelChatProvider';
import { eventually, openDocument, openFixture, select } from '../vscodeHelpers';

interface FakeBehaviour {
  /** Text pieces the model streams. */
  chunks?: string[];
  /** After the pieces, wait for cancellation instead of ending. */
  stallAfterChunks?: boolean;
  /** sendRequest rejects with this. */
  reject?: Error;
  /** countTokens throws. */
  noTokenizer?: boolean;
}

interface ReceivedRequest {
  messages: vscode.LanguageModelChatMessage[];
  options: vscode.LanguageModelChatRequestOptions | undefined;
  token: vscode.CancellationToken | undefined;
}

function textOf(message: vscode.LanguageModelChatMessage): string {
  return message.content.map((part) => (part instanceof vscode.LanguageModelTextPart ? part.value : '')).join('');
}

/** A chat model as another extension would offer it; counts one token a word. */
class FakeChatModel implements vscode.LanguageModelChat {
  readonly vendor = 'fake-vendor';
  readonly version = '1';
  readonly maxInputTokens = 8192;
  readonly received: ReceivedRequest[] = [];

  constructor(
    readonly id: string,
    readonly family: string,
    readonly name: string,
    private readonly behaviour: FakeBehaviour = {},
  ) {}

  sendRequest(
    messages: vscode.LanguageModelChatMessage[],
    options?: vscode.LanguageModelChatRequestOptions,
    token?: vscode.CancellationToken,
  ): Thenable<vscode.LanguageModelChatResponse> {
    this.received.push({ messages, options, token });
    const { chunks = [], stallAfterChunks, reject } = this.behaviour;
    if (reject) return Promise.reject(reject);
    async function* text(): AsyncGenerator<string> {
      for (const chunk of chunks) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        yield chunk;
      }
      if (stallAfterChunks && token) {
        await new Promise<void>((resolve) => {
          if (token.isCancellationRequested) resolve();
          token.onCancellationRequested(() => resolve());
        });
        throw new vscode.CancellationError();
      }
    }
    const pieces = text();
    async function* stream(): AsyncGenerator<vscode.LanguageModelTextPart> {
      for await (const piece of pieces) yield new vscode.LanguageModelTextPart(piece);
    }
    return Promise.resolve({ text: pieces, stream: stream() });
  }

  countTokens(text: string | vscode.LanguageModelChatMessage): Thenable<number> {
    if (this.behaviour.noTokenizer) return Promise.reject(new Error('no tokenizer'));
    const content = typeof text === 'string' ? text : textOf(text);
    return Promise.resolve(content.split(/\s+/).filter(Boolean).length);
  }
}

function selectorOf(...models: vscode.LanguageModelChat[]): ChatModelSelector {
  return (selector) =>
    Promise.resolve(
      models.filter((m) => (!selector?.id || m.id === selector.id) && (!selector?.family || m.family === selector.family)),
    );
}

const MESSAGES: ChatMessage[] = [
  { role: 'system', content: 'You explain code.' },
  { role: 'user', content: 'Explain this loop.' },
  { role: 'assistant', content: 'Which loop?' },
  { role: 'user', content: 'The for loop.' },
];

function request(model: string) {
  return { model, messages: MESSAGES, maxOutputTokens: 256 };
}

/** The ProviderError the call rejects with. */
function failureOf(run: Promise<unknown>): Promise<ProviderError> {
  return run.then(
    () => assert.fail('the call should have failed'),
    (error: unknown) => (error instanceof ProviderError ? error : assert.fail(`not a ProviderError: ${String(error)}`)),
  );
}

function config() {
  return vscode.workspace.getConfiguration('coderoute');
}

describe('VS Code language models (vscode.lm)', () => {
  it('streams the answer of the model whose id is the configured name, with the system text leading the first user message', async () => {
    const model = new FakeChatModel('fake-gpt-4o', 'gpt-4o', 'Fake GPT-4o', { chunks: ['It counts ', 'to ten.'] });
    const other = new FakeChatModel('fake-other', 'other', 'Other');
    const provider = new LanguageModelChatProvider({ model: { id: 'lm-4o', premiumRequests: 0.33 }, selectModels: selectorOf(other, model) });
    const seen: string[] = [];

    const result = await provider.streamChat(request('fake-gpt-4o'), (delta) => seen.push(delta), new AbortController().signal);

    assert.deepEqual(seen, ['It counts ', 'to ten.']);
    assert.equal(result.text, 'It counts to ten.');
    assert.equal(other.received.length, 0);
    const [sent] = model.received;
    assert.deepEqual(
      sent.messages.map((m) => [m.role, textOf(m)]),
      [
        [vscode.LanguageModelChatMessageRole.User, 'You explain code.\n\nExplain this loop.'],
        [vscode.LanguageModelChatMessageRole.Assistant, 'Which loop?'],
        [vscode.LanguageModelChatMessageRole.User, 'The for loop.'],
      ],
    );
    assert.ok(sent.options?.justification, 'the consent prompt says why CodeRoute asks');
    assert.ok(sent.token, 'the request carries a cancellation token');
    // The model's own tokenizer (one token a word here); the API reports no usage.
    assert.deepEqual(result.usage, { inputTokens: 11, outputTokens: 4, estimated: true, estimatedBy: 'model' });
    assert.equal(result.premiumRequests, 0.33, 'the multiplier from coderoute.models');
  });

  it('finds the model by family when no id matches, and estimates tokens when the model cannot count them', async () => {
    const model = new FakeChatModel('copilot-claude-sonnet-4', 'claude-sonnet-4', 'Claude Sonnet 4', { chunks: ['Done.'], noTokenizer: true });
    const provider = new LanguageModelChatProvider({ model: { id: 'sonnet' }, selectModels: selectorOf(model) });

    const result = await provider.streamChat(request('claude-sonnet-4'), () => {}, new AbortController().signal);

    assert.equal(result.text, 'Done.');
    assert.equal(model.received.length, 1);
    assert.equal(result.usage.estimated, true);
    assert.equal(result.usage.estimatedBy, undefined, 'a rough estimate, for the router to recount');
    assert.ok(result.usage.inputTokens > 0 && result.usage.outputTokens > 0, JSON.stringify(result.usage));
    assert.equal(result.premiumRequests, undefined, 'no multiplier configured');
  });

  it('cancels through the AbortSignal: the model sees its token cancelled and the partial answer is kept', async () => {
    const model = new FakeChatModel('fake', 'fake', 'Fake', { chunks: ['Partial ', 'answer'], stallAfterChunks: true });
    const provider = new LanguageModelChatProvider({ model: { id: 'lm', premiumRequests: 1 }, selectModels: selectorOf(model) });
    const abort = new AbortController();
    let text = '';

    const error = await failureOf(
      provider.streamChat(
        request('fake'),
        (delta) => {
          text += delta;
          if (text === 'Partial answer') abort.abort();
        },
        abort.signal,
      ),
    );

    assert.equal(error.kind, 'cancelled');
    assert.equal(model.received[0].token?.isCancellationRequested, true);
    const partial = error.partial as ChatResult;
    assert.equal(partial.text, 'Partial answer');
    assert.equal(partial.usage.outputTokens, 2);
    assert.equal(partial.premiumRequests, 1, 'a request the model accepted counts even when cancelled');
  });

  it('maps the Language Model API errors to provider errors that say what to do', async () => {
    const cases: [vscode.LanguageModelError, ProviderError['kind'], RegExp][] = [
      [vscode.LanguageModelError.NoPermissions('denied'), 'forbidden', /not allowed to use .*Manage Trusted Extensions/],
      [vscode.LanguageModelError.Blocked('quota exceeded'), 'rate-limit', /quota/],
      [vscode.LanguageModelError.NotFound('gone'), 'not-found', /no longer available/],
    ];
    for (const [reject, kind, message] of cases) {
      const model = new FakeChatModel('fake', 'fake', 'Fake', { reject });
      const provider = new LanguageModelChatProvider({ model: { id: 'lm', premiumRequests: 1 }, selectModels: selectorOf(model) });
      const error = await failureOf(provider.streamChat(request('fake'), () => {}, new AbortController().signal));
      assert.equal(error.kind, kind, reject.code);
      assert.match(error.message, message);
      assert.equal(error.partial, undefined, 'a refused request uses no tokens and no premium requests');
    }
    const broken = new FakeChatModel('fake', 'fake', 'Fake', { reject: new Error('socket hang up') });
    const provider = new LanguageModelChatProvider({ model: { id: 'lm' }, selectModels: selectorOf(broken) });
    const error = await failureOf(provider.streamChat(request('fake'), () => {}, new AbortController().signal));
    assert.equal(error.kind, 'server');
    assert.match(error.message, /socket hang up/);
  });

  it('names the available models when none matches', async () => {
    const provider = new LanguageModelChatProvider({
      model: { id: 'lm' },
      selectModels: selectorOf(new FakeChatModel('copilot-gpt-4o', 'gpt-4o', 'GPT-4o'), new FakeChatModel('copilot-o3', 'o3', 'o3')),
    });
    const error = await failureOf(provider.streamChat(request('gpt-5'), () => {}, new AbortController().signal));
    assert.equal(error.kind, 'not-found');
    assert.match(error.message, /"gpt-5"/);
    assert.match(error.message, /copilot-gpt-4o \(GPT-4o\), copilot-o3 \(o3\)/);
  });

  it('carries the premium requests into the attempt record and its log line', async () => {
    const raw: Record<string, unknown> = {
      providers: [{ id: 'copilot', kind: 'vscode-lm' }],
      models: [{ id: 'lm-4o', provider: 'copilot', name: 'fake-gpt-4o', premiumRequests: 0.33 }],
      'tasks.explain': 'lm-4o',
    };
    const { settings } = parseSettings((key: SettingKey) => raw[key]);
    const decision = routeByTask('req-1', 'explain', settings);
    const model = new FakeChatModel('fake-gpt-4o', 'gpt-4o', 'Fake GPT-4o', { chunks: ['Fine.'] });
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);

    const { attempt } = await runChatAttempt({
      decision,
      messages: MESSAGES,
      maxOutputTokens: 256,
      provider: new LanguageModelChatProvider({ model: decision.chosen.model, selectModels: selectorOf(model) }),
      onText: () => {},
      signal: new AbortController().signal,
      logger: { trace: log, debug: log, info: log, warn: log, error: log },
    });

    assert.equal(attempt.status, 'ok');
    assert.equal(attempt.premiumRequests, 0.33);
    assert.equal(attempt.usageEstimated, true);
    assert.match(lines.join('\n'), /premium=0\.33/);
  });

  it('reports that no language models are available from the real vscode.lm (no Copilot here)', async () => {
    const provider = new LanguageModelChatProvider({ model: { id: 'lm-4o', premiumRequests: 1 } });
    const error = await failureOf(provider.streamChat(request('gpt-4o'), () => {}, new AbortController().signal));
    assert.equal(error.kind, 'not-found');
    assert.match(error.message, /No VS Code language models are available/);
    assert.match(error.message, /GitHub Copilot/);
  });

  it('explains with a vscode-lm model without asking for a key, and says no model is available', async () => {
    const keys = ['providers', 'models', 'tasks.explain'] as const;
    const saved = keys.map((key) => config().inspect(key)?.globalValue);
    try {
      await config().update('providers', [{ id: 'copilot', kind: 'vscode-lm' }], vscode.ConfigurationTarget.Global);
      await config().update('models', [{ id: 'lm-4o', provider: 'copilot', name: 'gpt-4o', premiumRequests: 1 }], vscode.ConfigurationTarget.Global);
      await config().update('tasks.explain', 'lm-4o', vscode.ConfigurationTarget.Global);
      const editor = await openFixture('src/greeter.ts');
      select(editor, 'const out: string[] = [];');

      const result = await vscode.commands.executeCommand<ExplainCommandResult>('coderoute.explainSelection');

      assert.equal(result.status, 'error', JSON.stringify(result));
      assert.equal(result.errorKind, 'not-found', 'no key was asked for: the request reached vscode.lm');
      assert.equal(result.modelId, 'lm-4o');
      const shown = openDocument(result.documentUri);
      await eventually(() => /_lm-4o via copilot · 0 in \/ 0 out tokens .*failed \(not-found\)/.test(shown.getText()), 'the failure noted under the explanation');
    } finally {
      for (const [index, key] of keys.entries()) await config().update(key, saved[index], vscode.ConfigurationTarget.Global);
    }
  });
});
