import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { Outcome } from '../../../src/core/learn/outcomes';
import type { ProposalResult, ProposeEditArgs } from '../../../src/vscode/actions/proposals';
import { eventually, workspaceRoot } from '../vscodeHelpers';

const ORIGINAL = ['function add(a: number, b: number) {', 'return a+b', '}', '', 'export const answer = add(40, 2);', ''].join('\n');
const TIDY = '  return a + b;';

describe('Proposed edits: diff, Accept, Discard and undo', () => {
  const file = () => vscode.Uri.joinPath(workspaceRoot(), 'src', 'proposal-target.ts');
  let sequence = 0;

  before(async () => {
    await vscode.workspace.fs.writeFile(file(), Buffer.from(ORIGINAL, 'utf8'));
  });

  beforeEach(async () => {
    const editor = await vscode.window.showTextDocument(file(), { viewColumn: vscode.ViewColumn.One, preview: false });
    const { document } = editor;
    const reset = new vscode.WorkspaceEdit();
    reset.replace(document.uri, new vscode.Range(new vscode.Position(0, 0), document.lineAt(document.lineCount - 1).range.end), ORIGINAL);
    assert.ok(await vscode.workspace.applyEdit(reset));
    assert.ok(await document.save());
    assert.equal(document.getText(), ORIGINAL);
  });

  afterEach(async () => {
    if (vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => t.input instanceof vscode.TabInputTextDiff))) {
      await vscode.commands.executeCommand('coderoute.discardProposal');
    }
    // A dirty document would make closing its editor ask to save.
    await vscode.workspace.textDocuments.find((d) => d.uri.toString() === file().toString())?.save();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  const propose = (overrides: Partial<ProposeEditArgs> = {}) => {
    const requestId = `proposal-test-${++sequence}`;
    const args: ProposeEditArgs = { uri: file().toString(), startLine: 1, endLine: 1, replacement: TIDY, requestId, task: 'format', modelId: 'mock-small', title: 'Tidy add', ...overrides };
    const result = vscode.commands.executeCommand<ProposalResult>('coderoute.proposeEdit', args);
    return { requestId: args.requestId, result };
  };
  const proposalEditor = () =>
    eventually(() => vscode.window.visibleTextEditors.find((e) => e.document.uri.scheme === 'coderoute-proposal'), 'the proposal side of the diff');
  const outcomesOf = async (requestId: string) => (await vscode.commands.executeCommand<Outcome[]>('coderoute.outcomes')).filter((o) => o.requestId === requestId);
  const documentText = () => vscode.workspace.textDocuments.find((d) => d.uri.toString() === file().toString())?.getText();

  it('shows the proposal as a diff against the document, and Accept applies exactly the proposed edit', async () => {
    const { requestId, result } = propose();
    const shown = await proposalEditor();
    assert.equal(shown.document.getText(), ORIGINAL.replace('return a+b', TIDY), 'the proposal side is the whole document with the lines replaced');
    const diffTab = vscode.window.tabGroups.activeTabGroup.activeTab;
    assert.ok(diffTab?.input instanceof vscode.TabInputTextDiff, 'a diff editor is active');
    assert.equal(diffTab.input.original.toString(), file().toString());
    assert.equal(diffTab.label, 'Tidy add');
    assert.equal(documentText(), ORIGINAL, 'nothing is applied before Accept');

    const accepted = await vscode.commands.executeCommand<ProposalResult>('coderoute.acceptProposal');
    assert.deepEqual(accepted, { outcome: 'accepted', applied: TIDY });
    assert.deepEqual(await result, accepted, 'propose resolves with the same outcome');
    assert.equal(documentText(), ORIGINAL.replace('return a+b', TIDY));
    assert.deepEqual((await outcomesOf(requestId)).map((o) => [o.kind, o.task, o.modelId]), [['accepted', 'format', 'mock-small']]);
    await eventually(() => !vscode.window.visibleTextEditors.some((e) => e.document.uri.scheme === 'coderoute-proposal'), 'the diff to close');
  });

  it('replaces several whole lines, and a trailing line break in the replacement adds no line', async () => {
    const { result } = propose({ startLine: 0, endLine: 2, replacement: 'const add = (a: number, b: number) => a + b;\n' });
    await proposalEditor();
    await vscode.commands.executeCommand('coderoute.acceptProposal');
    assert.equal((await result).outcome, 'accepted');
    assert.equal(documentText(), ['const add = (a: number, b: number) => a + b;', '', 'export const answer = add(40, 2);', ''].join('\n'));
  });

  it('Discard changes nothing and records the discard', async () => {
    const { requestId, result } = propose();
    await proposalEditor();
    const discarded = await vscode.commands.executeCommand<ProposalResult>('coderoute.discardProposal');
    assert.deepEqual(discarded, { outcome: 'discarded' });
    assert.deepEqual(await result, discarded);
    assert.equal(documentText(), ORIGINAL);
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === file().toString());
    assert.equal(doc?.isDirty, false, 'the document was not touched');
    assert.deepEqual((await outcomesOf(requestId)).map((o) => o.kind), ['discarded']);
  });

  it('records an undo of the accepted edit within 60 s', async () => {
    const { requestId } = propose();
    await proposalEditor();
    await vscode.commands.executeCommand('coderoute.acceptProposal');
    assert.equal(documentText(), ORIGINAL.replace('return a+b', TIDY));
    await vscode.window.showTextDocument(file(), { viewColumn: vscode.ViewColumn.One, preview: false });
    await vscode.commands.executeCommand('undo');
    await eventually(() => documentText() === ORIGINAL, 'the undo to restore the lines');
    // The change event that records the undo comes with the document's new text.
    const outcomes = await outcomesOf(requestId);
    assert.deepEqual(outcomes.map((o) => o.kind), ['undone', 'accepted']);
    assert.match(outcomes[0].detail ?? '', /^\d+ s after accepting$/);
  });

  it('a second proposal discards the first', async () => {
    const first = propose();
    await proposalEditor();
    const second = propose({ replacement: '  return b + a;' });
    assert.deepEqual(await first.result, { outcome: 'discarded' });
    assert.deepEqual((await outcomesOf(first.requestId)).map((o) => [o.kind, o.detail]), [['discarded', 'replaced by a newer proposal']]);
    await eventually(() => vscode.window.visibleTextEditors.find((e) => e.document.getText().includes('return b + a;') && e.document.uri.scheme === 'coderoute-proposal'), 'the second diff');
    assert.deepEqual(await vscode.commands.executeCommand<ProposalResult>('coderoute.acceptProposal'), { outcome: 'accepted', applied: '  return b + a;' });
    assert.equal((await second.result).outcome, 'accepted');
    assert.equal(documentText(), ORIGINAL.replace('return a+b', '  return b + a;'));
  });

  it('refuses to accept over lines that changed since the proposal, and Accept without a proposal does nothing', async () => {
    const { result } = propose();
    await proposalEditor();
    const edit = new vscode.WorkspaceEdit();
    edit.replace(file(), new vscode.Range(1, 0, 1, 10), 'return b+a');
    assert.ok(await vscode.workspace.applyEdit(edit));
    assert.equal(await vscode.commands.executeCommand('coderoute.acceptProposal'), undefined);
    assert.equal(documentText(), ORIGINAL.replace('return a+b', 'return b+a'), 'the user\'s edit stays');
    assert.deepEqual(await vscode.commands.executeCommand('coderoute.discardProposal'), { outcome: 'discarded' });
    assert.equal((await result).outcome, 'discarded');
    assert.equal(await vscode.commands.executeCommand('coderoute.acceptProposal'), undefined);
    assert.equal(await vscode.commands.executeCommand('coderoute.discardProposal'), undefined);
  });

  const dirtyProposals = () => vscode.workspace.textDocuments.filter((d) => d.uri.scheme === 'coderoute-proposal' && d.isDirty);

  it('Accept applies the proposal as the user edited it, unsaved, and records a partial accept', async () => {
    const { requestId, result } = propose();
    const shown = await proposalEditor();
    const edit = new vscode.WorkspaceEdit();
    edit.replace(shown.document.uri, shown.document.lineAt(1).range, '  return a + b; // checked');
    edit.insert(shown.document.uri, shown.document.lineAt(1).range.end, '\n  // two lines now');
    assert.ok(await vscode.workspace.applyEdit(edit), 'the proposal side is editable');
    assert.ok(shown.document.isDirty, 'the edit is not saved');
    assert.equal(documentText(), ORIGINAL, 'nothing is applied before Accept');

    const applied = '  return a + b; // checked\n  // two lines now';
    const accepted = await vscode.commands.executeCommand<ProposalResult>('coderoute.acceptProposal');
    assert.deepEqual(accepted, { outcome: 'partially-accepted', applied });
    assert.deepEqual(await result, accepted);
    assert.equal(documentText(), ORIGINAL.replace('return a+b', applied));
    assert.deepEqual((await outcomesOf(requestId)).map((o) => o.kind), ['partially-accepted']);
    assert.deepEqual(dirtyProposals(), [], 'no proposal is left dirty, so closing asks nothing');
    await eventually(() => !vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => t.input instanceof vscode.TabInputTextDiff)), 'the diff to close');
  });

  it('an unedited proposal leaves no dirty proposal document after Accept', async () => {
    const { result } = propose();
    await proposalEditor();
    assert.deepEqual(await vscode.commands.executeCommand<ProposalResult>('coderoute.acceptProposal'), { outcome: 'accepted', applied: TIDY });
    assert.equal((await result).outcome, 'accepted');
    assert.deepEqual(dirtyProposals(), []);
  });

  it('refuses to accept a proposal edited outside the proposed lines and keeps it pending', async () => {
    const { requestId, result } = propose();
    const shown = await proposalEditor();
    const edit = new vscode.WorkspaceEdit();
    edit.replace(shown.document.uri, shown.document.lineAt(0).range, 'function add(a: number, b: number): number {');
    assert.ok(await vscode.workspace.applyEdit(edit));
    assert.equal(await vscode.commands.executeCommand('coderoute.acceptProposal'), undefined, 'Accept is refused');
    assert.equal(documentText(), ORIGINAL, 'the document is untouched');
    assert.deepEqual(await outcomesOf(requestId), [], 'nothing is recorded');

    // Still pending: undoing the stray edit makes it acceptable again.
    const back = new vscode.WorkspaceEdit();
    back.replace(shown.document.uri, shown.document.lineAt(0).range, 'function add(a: number, b: number) {');
    assert.ok(await vscode.workspace.applyEdit(back));
    assert.deepEqual(await vscode.commands.executeCommand<ProposalResult>('coderoute.acceptProposal'), { outcome: 'accepted', applied: TIDY });
    assert.equal((await result).outcome, 'accepted');
    assert.equal(documentText(), ORIGINAL.replace('return a+b', TIDY));
    assert.deepEqual(dirtyProposals(), []);
  });

  it('Discard of an edited proposal leaves no dirty proposal document', async () => {
    const { result } = propose();
    const shown = await proposalEditor();
    const edit = new vscode.WorkspaceEdit();
    edit.insert(shown.document.uri, new vscode.Position(0, 0), '// stray\n');
    assert.ok(await vscode.workspace.applyEdit(edit));
    assert.deepEqual(await vscode.commands.executeCommand<ProposalResult>('coderoute.discardProposal'), { outcome: 'discarded' });
    assert.equal((await result).outcome, 'discarded');
    assert.equal(documentText(), ORIGINAL);
    assert.deepEqual(dirtyProposals(), []);
  });

  it('contributes Accept and Discard to the palette only while a proposal waits', async () => {
    const pkg = vscode.extensions.all.find((e) => e.packageJSON.name === 'coderoute')?.packageJSON;
    const palette: { command: string; when: string }[] = pkg.contributes.menus.commandPalette;
    for (const id of ['coderoute.acceptProposal', 'coderoute.discardProposal']) {
      assert.equal(palette.find((m) => m.command === id)?.when, 'coderoute.proposalPending');
    }
  });
});
