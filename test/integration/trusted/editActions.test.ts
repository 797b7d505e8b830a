import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { Outcome } from '../../../src/core/learn/outcomes';
import type { ActionResult } from '../../../src/vscode/actions/actionPipeline';
import { MockLlmServer, type RecordedRequest } from '../../mock/mockLlmServer';
import { eventually, openFixture, select, workspaceRoot } from '../vscodeHelpers';

const KEYS = ['providers', 'models', 'tasks.format', 'tasks.generate', 'tasks.debug', 'tasks.explain', 'routing.mode', 'budget.dailyUsd'] as const;
const SCRATCH = 'src/scratch-edit.ts';
const SOURCE = ['export function add(a:number,b:number){return a+b}', '', 'export function double(x: number): number {', '  // TODO: return twice x', '}', ''].join('\n');

function userMessage(request: RecordedRequest): string {
  const body = request.body as { messages: { role: string; content: string }[] };
  return body.messages.filter((m) => m.role !== 'system').map((m) => m.content).join('\n');
}

function outcomes(): Thenable<Outcome[]> {
  return vscode.commands.executeCommand<Outcome[]>('coderoute.outcomes');
}

/** Starts an action without waiting for it: edit actions finish only when the proposal is settled. */
function start(command: string, ...args: unknown[]): Thenable<ActionResult> {
  return vscode.commands.executeCommand<ActionResult>(command, ...args);
}

async function proposalShown(): Promise<vscode.TextEditor> {
  return eventually(() => vscode.window.visibleTextEditors.find((e) => e.document.uri.scheme === 'coderoute-proposal'), 'the proposed edit as a diff', 30_000);
}

describe('Editor actions: Format, Generate, Debug, Do What I Mean, Retry stronger', () => {
  const config = () => vscode.workspace.getConfiguration('coderoute');
  const saved = new Map<string, unknown>();
  const scratch = () => vscode.Uri.joinPath(workspaceRoot(), SCRATCH);
  let server: MockLlmServer;

  before(async () => {
    server = await MockLlmServer.start();
    for (const key of KEYS) saved.set(key, config().inspect(key)?.globalValue);
    const set = (key: string, value: unknown) => config().update(key, value, vscode.ConfigurationTarget.Global);
    await set('providers', [{ id: 'edit', kind: 'openai', baseUrl: server.baseUrl, auth: 'none' }]);
    await set('models', [
      { id: 'edit-cheap', provider: 'edit', name: 'cheap-v1', tags: ['cheap'], price: { inputPerMTok: 0.1, outputPerMTok: 0.4 } },
      { id: 'edit-code', provider: 'edit', name: 'code-v1', tags: ['code'], price: { inputPerMTok: 2, outputPerMTok: 8 } },
      { id: 'edit-strong', provider: 'edit', name: 'strong-v1', tags: ['strong'], price: { inputPerMTok: 10, outputPerMTok: 40 } },
    ]);
    await set('tasks.format', ['edit-cheap', 'edit-code', 'edit-strong']);
    await set('tasks.generate', ['edit-code']);
    await set('tasks.debug', ['edit-code', 'edit-strong']);
    await set('tasks.explain', ['edit-cheap']);
    await set('routing.mode', 'task');
    await set('budget.dailyUsd', undefined);
  });

  beforeEach(async () => {
    server.reset();
    await vscode.workspace.fs.writeFile(scratch(), new TextEncoder().encode(SOURCE));
    // An accepted edit leaves the open document changed and unsaved: put it back and save.
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === scratch().toString());
    if (open && open.getText() !== SOURCE) {
      const edit = new vscode.WorkspaceEdit();
      edit.replace(open.uri, new vscode.Range(0, 0, open.lineCount, 0), SOURCE);
      await vscode.workspace.applyEdit(edit);
      await open.save();
    }
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.workspace.fs.delete(scratch()).then(undefined, () => undefined);
    for (const key of KEYS) await config().update(key, saved.get(key), vscode.ConfigurationTarget.Global);
    await server.close();
  });

  const openScratch = async () => {
    const editor = await openFixture(SCRATCH);
    await eventually(() => editor.document.getText() === SOURCE && editor, 'the scratch file to be fresh');
    return editor;
  };

  it('Format shows the tidied selection as a diff, and Accept applies exactly that edit', async () => {
    const editor = await openScratch();
    select(editor, 'export function add(a:number,b:number){return a+b}');
    server.enqueue({ kind: 'reply', text: 'Here it is:\n\n```ts\nexport function add(a: number, b: number): number {\n  return a + b;\n}\n```\n' });
    const running = start('coderoute.formatSelection');
    const diff = await proposalShown();
    assert.match(diff.document.getText(), /export function add\(a: number, b: number\): number \{\n {2}return a \+ b;\n\}/);
    assert.equal(editor.document.getText(), SOURCE, 'nothing changes before Accept');
    assert.equal(server.requests.length, 1);
    const [request] = server.requests;
    assert.equal((request.body as { model: string }).model, 'cheap-v1');
    assert.ok(userMessage(request).includes('export function add(a:number,b:number){return a+b}'), 'the selection is in the prompt');
    assert.ok(userMessage(request).includes('typescript'), 'so is the language');

    const accepted = await vscode.commands.executeCommand<{ outcome: string }>('coderoute.acceptProposal');
    assert.equal(accepted?.outcome, 'accepted');
    const result = await running;
    assert.equal(result.status, 'accepted');
    assert.equal(result.modelId, 'edit-cheap');
    assert.equal(editor.document.getText(), SOURCE.replace('export function add(a:number,b:number){return a+b}', 'export function add(a: number, b: number): number {\n  return a + b;\n}'));
    assert.ok((await outcomes()).some((o) => o.requestId === result.requestId && o.kind === 'accepted'));
  });

  it('Discard changes nothing and is recorded', async () => {
    const editor = await openScratch();
    select(editor, 'export function add(a:number,b:number){return a+b}');
    server.enqueue({ kind: 'reply', text: '```ts\nexport const add = (a: number, b: number) => a + b;\n```' });
    const running = start('coderoute.formatSelection');
    await proposalShown();
    await vscode.commands.executeCommand('coderoute.discardProposal');
    const result = await running;
    assert.equal(result.status, 'discarded');
    assert.equal(editor.document.getText(), SOURCE);
    assert.ok((await outcomes()).some((o) => o.requestId === result.requestId && o.kind === 'discarded'));
  });

  it('Debug sends the diagnostics and the enclosing function, and proposes the fix', async () => {
    const editor = await openFixture('src/invoice.ts');
    const original = editor.document.getText();
    await eventually(() => vscode.languages.getDiagnostics(editor.document.uri).some((d) => d.severity === vscode.DiagnosticSeverity.Error), 'the TypeScript error');
    editor.selection = new vscode.Selection(10, 4, 10, 4);
    const fixed = original.slice(original.indexOf('export function total'), original.lastIndexOf('}') + 1).replace("  const label: number = 'total';\n", '');
    server.enqueue({ kind: 'reply', text: `\`\`\`typescript\n${fixed}\n\`\`\`` });
    const running = start('coderoute.debugFix');
    await proposalShown();
    const prompt = userMessage(server.requests[0]);
    assert.equal((server.requests[0].body as { model: string }).model, 'code-v1');
    assert.match(prompt, /not assignable to type 'number'/, 'the diagnostic is in the prompt');
    assert.ok(prompt.includes('export function total'), 'so is the enclosing function');
    await vscode.commands.executeCommand('coderoute.discardProposal');
    assert.equal((await running).status, 'discarded');
    assert.equal(editor.document.getText(), original);
  });

  it('Generate writes from an instruction and inserts it on Accept', async () => {
    const editor = await openScratch();
    editor.selection = new vscode.Selection(3, 0, 3, 0);
    server.enqueue({ kind: 'reply', text: '```ts\nexport function double(x: number): number {\n  return x * 2;\n}\n```' });
    const running = start('coderoute.generate', 'return twice x');
    await proposalShown();
    assert.ok(userMessage(server.requests[0]).includes('return twice x'), 'the instruction is in the prompt');
    await vscode.commands.executeCommand('coderoute.acceptProposal');
    assert.equal((await running).status, 'accepted');
    assert.ok(editor.document.getText().includes('  return x * 2;'), editor.document.getText());
    assert.ok(!editor.document.getText().includes('TODO'), 'the placeholder body was replaced');
  });

  it('Do What I Mean picks Debug for code with an error, and says so', async () => {
    const editor = await openFixture('src/invoice.ts');
    editor.selection = new vscode.Selection(10, 4, 10, 4);
    server.enqueue({ kind: 'reply', text: '```ts\nexport function total(lines: Line[]): number {\n  return 0;\n}\n```' });
    const running = vscode.commands.executeCommand<ActionResult & { chosenTask?: string }>('coderoute.doWhatIMean');
    await proposalShown();
    await vscode.commands.executeCommand('coderoute.discardProposal');
    const result = await running;
    assert.equal(result.chosenTask, 'debug');
    assert.equal(result.task, 'debug');
  });

  it('Retry with a Stronger Model runs the last action one tier up and records the first answer as rejected', async () => {
    const editor = await openScratch();
    select(editor, 'export function add(a:number,b:number){return a+b}');
    server.enqueue({ kind: 'reply', text: '```ts\nexport function add(a: number, b: number) { return a + b; }\n```' });
    const first = start('coderoute.formatSelection');
    await proposalShown();
    await vscode.commands.executeCommand('coderoute.discardProposal');
    const firstResult = await first;
    assert.equal(firstResult.modelId, 'edit-cheap');

    server.enqueue({ kind: 'reply', text: '```ts\nexport function add(a: number, b: number): number {\n  return a + b;\n}\n```' });
    const retry = start('coderoute.retryStronger');
    await eventually(() => server.requests.length === 2, 'the retry request');
    assert.equal((server.requests[1].body as { model: string }).model, 'code-v1', 'one tier up from cheap');
    await proposalShown();
    await vscode.commands.executeCommand('coderoute.discardProposal');
    assert.equal((await retry).modelId, 'edit-code');
    assert.ok((await outcomes()).some((o) => o.requestId === firstResult.requestId && o.kind === 'retried-stronger'));
  });

  it('cancelling stops the stream: the server sees the connection close and nothing is proposed', async () => {
    const editor = await openScratch();
    select(editor, 'export function add(a:number,b:number){return a+b}');
    server.enqueue({ kind: 'reply', text: '```ts\n' + 'x'.repeat(400) + '\n```', chunks: 40, chunkDelayMs: 250 });
    const running = start('coderoute.formatSelection');
    await eventually(() => server.requests.length === 1, 'the request');
    await vscode.commands.executeCommand('coderoute.cancelRequests');
    const result = await running;
    assert.equal(result.status, 'cancelled');
    await eventually(() => server.requests[0].clientAborted, 'the server to see the connection close');
    assert.equal(editor.document.getText(), SOURCE);
  });

  it('a budget refusal and a privacy refusal show their messages and send nothing', async () => {
    await config().update('budget.dailyUsd', 0.0000001, vscode.ConfigurationTarget.Global);
    try {
      const editor = await openScratch();
      select(editor, 'export function add(a:number,b:number){return a+b}');
      const refused = await start('coderoute.formatSelection');
      assert.equal(refused.status, 'blocked');
    } finally {
      await config().update('budget.dailyUsd', undefined, vscode.ConfigurationTarget.Global);
    }
    const billing = await openFixture('src/billing.ts');
    select(billing, 'if (daysLate <= 0) return 0;');
    assert.equal((await start('coderoute.formatSelection')).status, 'blocked');
    assert.equal(server.requests.length, 0, 'nothing was sent');
  });
});
