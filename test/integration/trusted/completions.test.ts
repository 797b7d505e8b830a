import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { Outcome } from '../../../src/core/learn/outcomes';
import type { CompletionsState } from '../../../src/vscode/complete/inlineCompletions';
import type { CompletionBody } from '../../mock/completionsWire';
import { MockLlmServer } from '../../mock/mockLlmServer';
import { eventually, sleep, userSettings, workspaceRoot } from '../vscodeHelpers';

const KEYS = ['providers', 'models', 'tasks.complete', 'routing.mode', 'completions.enabled', 'completions.languages', 'completions.debounceMs', 'learning.enabled', 'learning.explore'] as const;

/** A cheap fill-in-the-middle model for lines and a code model; both served by the mock's `/v1/completions`. */
const MODELS = [
  { id: 'fim-small', provider: 'fim', name: 'small-fim', tags: ['cheap'], capabilities: ['fim'], price: { inputPerMTok: 0.1, outputPerMTok: 0.1 } },
  { id: 'fim-code', provider: 'fim', name: 'code-fim', tags: ['code'], capabilities: ['fim', 'chat'], price: { inputPerMTok: 1, outputPerMTok: 4 } },
];

const SOURCE = [
  'export function total(items: number[]): number {',
  '  let sum = 0;',
  '  for (const item of items) {',
  '    ',
  '  }',
  '  return sum;',
  '}',
  '',
  'export function largest(items: number[]): number {',
  '  let best = -Infinity;',
  '  for (const item of items) {',
  '    ',
  '  }',
  '  return best;',
  '}',
  '',
].join('\n');

/** The debounce floor for these tests (see `before`). */
const DEBOUNCE_MS = 400;

const state = () => vscode.commands.executeCommand<CompletionsState>('coderoute.completionsState');
const outcomesOf = async (requestId: string) => (await vscode.commands.executeCommand<Outcome[]>('coderoute.outcomes')).filter((o) => o.requestId === requestId);

/**
 * Types `text` one keystroke at a time, like a person: each character goes through the editor's
 * `type` command. Returns the longest interval between two keystrokes: on a busy machine one
 * command can take longer than a pause.
 */
async function typeSlowly(text: string, gapMs = 25): Promise<number> {
  let longest = 0;
  let last: number | undefined;
  for (const ch of text) {
    await vscode.commands.executeCommand('type', { text: ch });
    const now = Date.now();
    if (last !== undefined) longest = Math.max(longest, now - last);
    last = now;
    await sleep(gapMs);
  }
  return longest;
}

describe('Inline completions', () => {
  let server: MockLlmServer;
  let settings: ReturnType<typeof userSettings>;
  let editor: vscode.TextEditor;
  let fileCount = 0;

  before(async () => {
    server = await MockLlmServer.start();
    settings = userSettings(KEYS);
    await settings.set('providers', [{ id: 'fim', kind: 'openai', baseUrl: server.baseUrl, auth: 'none' }]);
    await settings.set('models', MODELS);
    await settings.set('tasks.complete', 'cheap');
    await settings.set('routing.mode', 'hybrid');
    await settings.set('learning.enabled', true);
    await settings.set('learning.explore', false);
    await settings.set('completions.languages', { '*': true });
    // Keystrokes sent through commands come at uneven intervals on a busy machine (the first one
    // in a window can take half a second): a 400 ms floor keeps "a pause" meaning a real pause.
    await settings.set('completions.debounceMs', DEBOUNCE_MS);
    await settings.set('completions.enabled', true);
    // The first completion of a window loads the grammar and the HTTP client: do it once here, so
    // the tests below time keystrokes, not start-up.
    editor = await openFresh();
    await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    await server.waitForRequests(1, 30_000);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await settings.restore();
    await server.close();
  });

  /** A fresh copy of the source in its own file (so the cache never answers), with the cursor in `total`'s loop body. */
  async function openFresh(header = '', line = 3): Promise<vscode.TextEditor> {
    const uri = vscode.Uri.joinPath(workspaceRoot(), 'src', `completion${++fileCount}.ts`);
    writeFileSync(uri.fsPath, header + SOURCE);
    const document = await vscode.workspace.openTextDocument(uri);
    const shown = await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One, preview: false });
    const at = new vscode.Position(line + (header ? header.split('\n').length - 1 : 0), 4);
    shown.selection = new vscode.Selection(at, at);
    // Let the editor's own work on a newly opened file (language features) pass before typing.
    await sleep(500);
    return shown;
  }

  const lineText = (line: number) => editor.document.lineAt(line).text;
  const shownRequest = async (after?: string) =>
    eventually(async () => {
      const s = await state();
      return s.pending && s.pending.requestId !== after ? s.pending : undefined;
    }, 'the ghost text to be shown');

  /** The model's answer to every request of a test (a slow keystroke may make an extra request; it gets the same). */
  const replyAlways = (text: string) => server.enqueue(...Array.from({ length: 6 }, () => ({ kind: 'reply' as const, text })));

  beforeEach(() => {
    server.reset();
  });

  it('typing asks once, after the pause, with a fill-in-the-middle prompt; Tab inserts the ghost text and records accepted; Undo records undone', async () => {
    editor = await openFresh();
    replyAlways('= item;');
    const before = await state();
    const settledBefore = (await vscode.commands.executeCommand<{ settled: number }>('coderoute.spendStatus')).settled;
    const longestInterval = await typeSlowly('sum +');
    await server.waitForRequests(1);
    // Longer than any debounce: a second request would have arrived by now.
    await sleep(1000);
    if (longestInterval < DEBOUNCE_MS) assert.equal(server.requests.length, 1, 'one request for five keystrokes');
    // A keystroke slower than the debounce is a pause: it may ask once more, never once per keystroke.
    else assert.ok(server.requests.length <= 2, `at most two requests for five keystrokes with one pause of ${longestInterval} ms`);
    // The request made when typing ended: after a pause, an earlier one (from part of the text) went first.
    const last = server.requests[server.requests.length - 1];
    const body = last.body as CompletionBody;
    assert.equal(last.path, '/v1/completions');
    assert.equal(body.model, 'small-fim');
    assert.ok(String(body.prompt).endsWith('for (const item of items) {\n    sum +'), `the prompt ends at the cursor (${server.requests.length} request(s), the longest keystroke ${longestInterval} ms)`);
    assert.ok(String(body.suffix).startsWith('\n  }\n  return sum;'), 'the suffix starts after the cursor');
    const after = await state();
    assert.equal(after.counters.sent - before.counters.sent, server.requests.length);
    assert.ok(after.counters.asked - before.counters.asked >= 1);

    const pending = await shownRequest();
    assert.equal(pending.modelId, 'fim-small');
    await vscode.commands.executeCommand('editor.action.inlineSuggest.commit');
    await eventually(() => lineText(3) === '    sum += item;', `the completion inserted (line is ${JSON.stringify(lineText(3))})`);
    const accepted = await eventually(async () => (await outcomesOf(pending.requestId)).find((o) => o.kind === 'accepted'), 'an accepted outcome');
    assert.equal(accepted.task, 'complete');
    assert.equal(accepted.modelId, 'fim-small');
    // The call is settled in the spend ledger.
    await eventually(async () => (await vscode.commands.executeCommand<{ settled: number }>('coderoute.spendStatus')).settled === settledBefore + 1, 'the completion settled in the ledger');

    await vscode.commands.executeCommand('undo');
    await eventually(async () => (await outcomesOf(pending.requestId)).find((o) => o.kind === 'undone'), 'an undone outcome');
  });

  it('typing past the ghost text records ignored', async () => {
    editor = await openFresh();
    replyAlways('= item;');
    await typeSlowly('sum +');
    const pending = await shownRequest();
    await typeSlowly('-');
    const ignored = await eventually(async () => (await outcomesOf(pending.requestId)).find((o) => o.kind === 'ignored'), 'an ignored outcome');
    assert.equal(ignored.modelId, 'fim-small');
    assert.ok(!(await outcomesOf(pending.requestId)).some((o) => o.kind === 'accepted'));
  });

  it('taking the next word of the ghost text records partially accepted', async () => {
    editor = await openFresh();
    replyAlways('counter.add(item);');
    await typeSlowly('sum; ');
    const pending = await shownRequest();
    // The item is returned; give the editor a moment to draw it.
    await sleep(300);
    await vscode.commands.executeCommand('editor.action.inlineSuggest.acceptNextWord');
    await eventually(() => lineText(3).startsWith('    sum; counter'), `the first word inserted (line is ${JSON.stringify(lineText(3))})`);
    await eventually(async () => (await outcomesOf(pending.requestId)).find((o) => o.kind === 'partially-accepted'), 'a partially accepted outcome');
  });

  it('sends nothing from a file marked coderoute: no-ai', async () => {
    editor = await openFresh('// coderoute: no-ai\n');
    const before = await state();
    await typeSlowly('sum +');
    await eventually(async () => ((await state()).counters.none['no-ai'] ?? 0) > (before.counters.none['no-ai'] ?? 0), 'the provider to be asked and refuse');
    await sleep(800);
    assert.equal(server.requests.length, 0, 'no request left the editor');
  });

  it('escalates to the code model where the cheap model was rejected twice', async () => {
    editor = await openFresh('', 11);
    const started = Date.now();
    replyAlways(' Math.max(best, item);');
    // Each '-' passes over the completion shown, until the code model answers. (The first step
    // ends with a space, so no suggest widget is open.)
    let pending = await (async () => {
      await typeSlowly('best = ');
      return shownRequest();
    })();
    for (let step = 0; step < 5 && pending.modelId !== 'fim-code'; step++) {
      await typeSlowly('-');
      pending = await shownRequest(pending.requestId);
    }
    assert.equal(pending.modelId, 'fim-code', 'the code model answers in the end');
    // However the keystrokes fell (a slow one may show a completion of its own), it took exactly
    // two rejections of the cheap model in largest().
    const outcomes = (await vscode.commands.executeCommand<Outcome[]>('coderoute.outcomes')).filter((o) => o.at >= started && o.task === 'complete');
    const rejectedCheap = outcomes.filter((o) => o.modelId === 'fim-small' && o.kind === 'ignored');
    assert.equal(rejectedCheap.length, 2, JSON.stringify(outcomes.map((o) => `${o.modelId}:${o.kind}`)));
    assert.ok(!outcomes.some((o) => o.modelId === 'fim-code'), 'no code-model completion before the escalation');
    assert.equal(server.requests.at(-1) && (server.requests.at(-1)?.body as CompletionBody).model, 'code-fim');
    const s = await state();
    assert.equal(s.last?.escalated, true);
    assert.match(s.last?.reason ?? '', /rejected/);
  });
});
