import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as vscode from 'vscode';
import type { Classification } from '../../../src/core/classify/classification';
import type { ExplainCommandResult } from '../../../src/vscode/commands/explainSelection';
import { MockLlmServer } from '../../mock/mockLlmServer';
import { eventually, openDocument, openFixture, placeCursorAfter, select, sleep, workspaceRoot } from '../vscodeHelpers';

const KEY = 'sk-integration-test-key';

function config() {
  return vscode.workspace.getConfiguration('coderoute');
}

async function useProvider(baseUrl: string): Promise<void> {
  await config().update('providers', [{ id: 'mock', kind: 'openai', baseUrl, auth: 'apiKey' }], vscode.ConfigurationTarget.Global);
}

function explain(): Thenable<ExplainCommandResult> {
  return vscode.commands.executeCommand<ExplainCommandResult>('coderoute.explainSelection');
}

function userMessage(server: MockLlmServer, index = 0): string {
  const body = server.requests[index].body as { messages: { role: string; content: string }[] };
  return body.messages.find((m) => m.role === 'user')?.content ?? '';
}

describe('CodeRoute in a real VS Code (trusted workspace)', () => {
  let server: MockLlmServer;

  before(async () => {
    server = await MockLlmServer.start();
    await useProvider(server.baseUrl);
    await config().update(
      'models',
      [{ id: 'mock-small', provider: 'mock', name: 'mock-small-v1', tags: ['cheap'] }],
      vscode.ConfigurationTarget.Global,
    );
    await config().update('tasks.explain', 'mock-small', vscode.ConfigurationTarget.Global);
    const stored = await vscode.commands.executeCommand<boolean>('coderoute.setApiKey', 'mock', KEY);
    assert.equal(stored, true);
  });

  beforeEach(async () => {
    server.reset();
    await useProvider(server.baseUrl);
  });

  after(async () => {
    await server.close();
  });

  it('is contributed and active once VS Code has started', async () => {
    const commands = await vscode.commands.getCommands(true);
    for (const id of ['coderoute.explainSelection', 'coderoute.classifyAtCursor', 'coderoute.setApiKey', 'coderoute.clearApiKey', 'coderoute.showLog', 'coderoute.showRequests']) {
      assert.ok(commands.includes(id), id);
    }
    const extension = vscode.extensions.all.find((e) => e.packageJSON.name === 'coderoute');
    assert.ok(extension?.isActive, 'active (onStartupFinished)');
  });

  it('explains the selection with the model set for explain, streaming into a read-only Markdown view', async () => {
    const editor = await openFixture('src/greeter.ts');
    select(editor, 'const out: string[] = [];');
    server.enqueue({ kind: 'reply', text: 'It creates an **empty list** of greetings.', chunks: 6, chunkDelayMs: 20 });

    const result = await explain();

    assert.equal(result.status, 'ok', JSON.stringify(result));
    assert.equal(result.modelId, 'mock-small');
    assert.ok(typeof result.difficulty === 'number' && result.difficulty >= 0 && result.difficulty <= 1);
    const shown = openDocument(result.documentUri);
    assert.equal(shown.uri.scheme, 'coderoute-explain');
    assert.equal(shown.languageId, 'markdown');
    // The command returns once the stream ends; VS Code applies the last content change asynchronously,
    // so wait for the footer, which is written only after the whole answer.
    // The first explanation of the session also opens the first Markdown editor: allow a cold start.
    const text = await eventually(() => shown.getText().includes('_mock-small via mock') && shown.getText(), 'the whole streamed answer and its footer', 30_000);
    assert.match(text, /^# Explain selection in `src\/greeter\.ts` L5/);
    assert.ok(text.includes('It creates an **empty list** of greetings.'));
    assert.match(text, /_mock-small via mock · \d+ in \/ \d+ out tokens · (\$[\d.]+|price unknown) · [\d.]+ s_/);
    const rated = await vscode.commands.executeCommand<{ kind: string; requestId: string; modelId: string }>('coderoute.thumbsUp', shown.uri);
    assert.deepEqual([rated?.kind, rated?.requestId, rated?.modelId], ['thumbs-up', result.requestId, 'mock-small'], '👍 is recorded for the request and the model');
    assert.ok(vscode.window.visibleTextEditors.some((e) => e.document === shown), 'the explanation is visible beside the code');

    assert.equal(server.requests.length, 1);
    const [request] = server.requests;
    assert.equal(request.path, '/v1/chat/completions');
    assert.equal(request.headers.authorization, `Bearer ${KEY}`);
    const body = request.body as { model: string; stream: boolean };
    assert.equal(body.model, 'mock-small-v1');
    assert.equal(body.stream, true);
    const user = userMessage(server);
    assert.ok(user.includes('const out: string[] = [];'), user);
    assert.ok(user.includes('`src/greeter.ts`'), user);
    assert.ok(!user.includes('return out.map'), 'only the selection is sent');
  });

  it('explains the whole method around the cursor when nothing is selected (tree-sitter loaded from the extension)', async () => {
    const editor = await openFixture('src/greeter.ts');
    placeCursorAfter(editor, 'out.push(');
    const result = await explain();
    assert.equal(result.status, 'ok', JSON.stringify(result));
    const user = userMessage(server);
    assert.match(user, /^Explain the method definition `greet`/);
    assert.ok(user.includes('greet(times: number): string[] {'), user);
    assert.ok(user.includes('return out.map((line) => line.trim());'), user);
    assert.ok(!user.includes('constructor('), 'the rest of the class is not sent');
  });

  it('works for Python through its own grammar', async () => {
    const editor = await openFixture('src/stats.py');
    placeCursorAfter(editor, 'spread = ');
    const result = await explain();
    assert.equal(result.status, 'ok', JSON.stringify(result));
    const user = userMessage(server);
    assert.match(user, /^Explain the function definition `summarize`/);
    assert.ok(!user.includes('from statistics import mean'));
  });

  it('never lets a workspace redirect requests or keys to another endpoint', async () => {
    const intruder = await MockLlmServer.start();
    const settingsFile = vscode.Uri.joinPath(workspaceRoot(), '.vscode', 'settings.json');
    const original = (await vscode.workspace.fs.readFile(settingsFile)).toString();
    try {
      writeFileSync(
        settingsFile.fsPath,
        JSON.stringify({
          'coderoute.providers': [{ id: 'mock', kind: 'openai', baseUrl: intruder.baseUrl, auth: 'apiKey' }],
          'coderoute.models': [{ id: 'mock-small', provider: 'mock', name: 'stolen-model', tags: [] }],
          // A setting a workspace may set, to know when VS Code has read the file.
          'coderoute.request.maxOutputTokens': 777,
        }),
      );
      await eventually(() => config().get('request.maxOutputTokens') === 777, 'VS Code to read the workspace settings');
      const editor = await openFixture('src/greeter.ts');
      select(editor, 'return out.map((line) => line.trim());');
      const result = await explain();
      assert.equal(result.status, 'ok', JSON.stringify(result));
      assert.equal(intruder.requests.length, 0, 'nothing, and no key, reached the workspace endpoint');
      assert.equal(server.requests.length, 1);
      const body = server.requests[0].body as { model: string; max_tokens: number };
      assert.equal(body.model, 'mock-small-v1');
      assert.equal(body.max_tokens, 777, 'the workspace file was in effect for what it may set');
    } finally {
      writeFileSync(settingsFile.fsPath, original);
      await eventually(() => config().get('request.maxOutputTokens') === 2048, 'the workspace settings to be restored');
      await intruder.close();
    }
  });

  it('sends nothing from a file marked coderoute: no-ai', async () => {
    const editor = await openFixture('src/billing.ts');
    select(editor, 'return Math.min(amount * 0.02 * daysLate, amount * 0.25);');
    const result = await explain();
    assert.equal(result.status, 'blocked');
    await sleep(200);
    assert.equal(server.requests.length, 0);
  });

  it('sends a local-only file only to a model tagged local', async () => {
    const editor = await openFixture('src/tokens.py');
    placeCursorAfter(editor, 'return token');
    assert.equal((await explain()).status, 'blocked', 'mock-small is not tagged local');
    assert.equal(server.requests.length, 0);
    try {
      await config().update(
        'models',
        [{ id: 'mock-small', provider: 'mock', name: 'mock-small-v1', tags: ['cheap', 'local'] }],
        vscode.ConfigurationTarget.Global,
      );
      const result = await explain();
      assert.equal(result.status, 'ok', JSON.stringify(result));
      assert.equal(server.requests.length, 1);
    } finally {
      await config().update(
        'models',
        [{ id: 'mock-small', provider: 'mock', name: 'mock-small-v1', tags: ['cheap'] }],
        vscode.ConfigurationTarget.Global,
      );
    }
  });

  it('asks for a key instead of sending a request when none is set', async () => {
    await vscode.commands.executeCommand('coderoute.clearApiKey', 'mock');
    try {
      const editor = await openFixture('src/greeter.ts');
      select(editor, 'const out: string[] = [];');
      const result = await explain();
      assert.equal(result.status, 'error');
      assert.equal(result.errorKind, 'missing-key');
      await sleep(200);
      assert.equal(server.requests.length, 0);
    } finally {
      await vscode.commands.executeCommand('coderoute.setApiKey', 'mock', KEY);
    }
  });

  it('reports a rejected key as an auth error without throwing', async () => {
    server.enqueue({ kind: 'fail', status: 401, message: 'Incorrect API key provided' });
    const editor = await openFixture('src/greeter.ts');
    select(editor, 'const out: string[] = [];');
    const result = await explain();
    assert.equal(result.status, 'error');
    assert.equal(result.errorKind, 'auth');
    assert.equal(server.requests.length, 1, 'a 401 is not retried');
    const shown = openDocument(result.documentUri);
    await eventually(() => /failed \(auth\)/.test(shown.getText()), 'the failure noted under the explanation');
  });

  it('reports an endpoint that refuses the connection', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as net.AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await useProvider(`http://127.0.0.1:${port}/v1`);
    const editor = await openFixture('src/greeter.ts');
    select(editor, 'const out: string[] = [];');
    const result = await explain();
    assert.equal(result.status, 'error');
    assert.equal(result.errorKind, 'connection');
  });

  it('reports malformed provider settings as a settings problem', async () => {
    await config().update('providers', [{ id: 'mock', kind: 'openai', baseUrl: 'not a url' }], vscode.ConfigurationTarget.Global);
    const editor = await openFixture('src/greeter.ts');
    select(editor, 'const out: string[] = [];');
    const result = await explain();
    assert.equal(result.status, 'error');
    assert.equal(result.errorKind, 'config');
    assert.equal(server.requests.length, 0);
  });

  it('classifies the code at the cursor from the real document and its real diagnostics', async () => {
    const editor = await openFixture('src/invoice.ts');
    // The built-in TypeScript service reports the type error; tree-sitter alone sees valid syntax.
    const diagnostics = await eventually(
      () => vscode.languages.getDiagnostics(editor.document.uri).filter((d) => d.severity === vscode.DiagnosticSeverity.Error).length > 0 &&
        vscode.languages.getDiagnostics(editor.document.uri),
      'TypeScript diagnostics for invoice.ts',
      60_000,
    );
    assert.ok(diagnostics.some((d) => /not assignable/.test(d.message)), diagnostics.map((d) => d.message).join('; '));
    placeCursorAfter(editor, 'sum += line.');
    const result = await vscode.commands.executeCommand<Classification>('coderoute.classifyAtCursor');
    assert.ok(result, 'the command returns the classification');
    assert.equal(result.task, 'debug', result.reason);
    assert.equal(result.features.syntaxErrors, 0);
    assert.ok(result.features.diagnosticErrors >= 1);
    assert.equal(result.features.unit?.name, 'total');
    assert.equal(result.textOnly, false);
  });

  it('lists the requests of the session in the requests panel', async () => {
    await vscode.commands.executeCommand('coderoute.showRequests');
    const tab = await eventually(
      () =>
        vscode.window.tabGroups.all
          .flatMap((group) => group.tabs)
          .find((t) => t.input instanceof vscode.TabInputWebview && t.label === 'CodeRoute Requests'),
      'the requests panel',
    );
    assert.ok(tab);
  });
});
