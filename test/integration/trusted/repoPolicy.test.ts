import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RepoPolicyStatus } from '../../../src/vscode/policy/repoPolicy';
import { policyState, policyUri, removePolicy, stateWhere, writePolicy } from '../repoPolicyFile';
import { eventually } from '../vscodeHelpers';

const POLICY = `// This repository keeps to cheap models.
{
  "deny": { "models": ["rp-big"] },
  "budget": { "dailyUsd": 2 },
}
`;

function review(action?: 'approve'): Thenable<RepoPolicyStatus> {
  return vscode.commands.executeCommand<RepoPolicyStatus>('coderoute.reviewRepoPolicy', action);
}

function diagnosticsOf(uri: vscode.Uri, source: string): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === source);
}

describe('Repository policy (.vscode/coderoute.json) in a trusted workspace', () => {
  const config = () => vscode.workspace.getConfiguration('coderoute');
  let savedProviders: unknown;
  let savedModels: unknown;

  before(async () => {
    savedProviders = config().inspect('providers')?.globalValue;
    savedModels = config().inspect('models')?.globalValue;
    await config().update('providers', [{ id: 'rp', kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', auth: 'none' }], vscode.ConfigurationTarget.Global);
    await config().update(
      'models',
      [
        { id: 'rp-small', provider: 'rp', name: 'small', tags: ['cheap'] },
        { id: 'rp-big', provider: 'rp', name: 'big', tags: ['strong'] },
      ],
      vscode.ConfigurationTarget.Global,
    );
    await removePolicy();
  });

  after(async () => {
    await removePolicy();
    await config().update('providers', savedProviders, vscode.ConfigurationTarget.Global);
    await config().update('models', savedModels, vscode.ConfigurationTarget.Global);
  });

  it('has no repository policy until the file exists', async () => {
    const status = await stateWhere((s) => s.state === 'none', 'no policy');
    assert.deepEqual(status.deniedModels, []);
    assert.deepEqual(status.notes, []);
  });

  it('waits for approval of a new policy file, then applies it', async () => {
    const hash = await writePolicy(POLICY);
    const pending = await stateWhere((s) => s.state === 'pending', 'the policy to be seen');
    assert.equal(pending.hash, hash, 'approval is tied to a sha256 of the content');
    assert.deepEqual(pending.deniedModels, [], 'an unapproved policy does not apply');
    assert.deepEqual(pending.notes, []);

    const applied = await review('approve');
    assert.equal(applied.state, 'applied');
    assert.equal(applied.hash, hash);
    assert.deepEqual(applied.deniedModels, ['rp-big']);
    assert.ok(applied.notes.some((n) => /denies 1 model\(s\): rp-big/.test(n)), applied.notes.join('\n'));
    assert.ok(applied.notes.some((n) => /lowers budget\.dailyUsd to \$2/.test(n)), applied.notes.join('\n'));
    assert.equal((await policyState()).state, 'applied');
  });

  it('asks again after an edit (a new hash) and applies nothing until then', async () => {
    const before = await policyState();
    assert.equal(before.state, 'applied');
    const hash = await writePolicy(POLICY.replace('"dailyUsd": 2', '"dailyUsd": 1'));
    assert.notEqual(hash, before.hash);
    const pending = await stateWhere((s) => s.hash === hash, 'the edited policy to be seen');
    assert.equal(pending.state, 'pending');
    assert.deepEqual(pending.deniedModels, [], 'the edit is not applied before it is approved');

    const applied = await review('approve');
    assert.equal(applied.state, 'applied');
    assert.ok(applied.notes.some((n) => /lowers budget\.dailyUsd to \$1/.test(n)), applied.notes.join('\n'));
  });

  it('shows a malformed file in the Problems view, and the user policy applies unchanged', async () => {
    const hash = await writePolicy('{\n  "deny": { "models": ["rp-big"] }\n  "budget": { "dailyUsd": 1 }\n}\n');
    const status = await stateWhere((s) => s.hash === hash, 'the malformed policy to be seen');
    assert.equal(status.state, 'malformed');
    assert.deepEqual(status.deniedModels, [], 'a malformed policy does not apply, not even its valid parts');
    assert.deepEqual(status.notes, []);
    assert.match(status.problems?.[0]?.message ?? '', /Not valid JSON: CommaExpected/);

    const [diagnostic] = await eventually(() => diagnosticsOf(policyUri(), 'CodeRoute').length > 0 && diagnosticsOf(policyUri(), 'CodeRoute'), 'a diagnostic');
    assert.equal(diagnostic.severity, vscode.DiagnosticSeverity.Error);
    assert.match(diagnostic.message, /Not valid JSON: CommaExpected/);
    assert.equal(diagnostic.range.start.line, 2, 'at "budget", where the comma is missing');
    assert.equal(diagnostic.range.start.character, 2);
  });

  it('refuses a file that names providers, with a diagnostic on that key', async () => {
    const text = '{\n  "budget": { "dailyUsd": 1 },\n  "providers": [{ "id": "evil", "kind": "openai", "baseUrl": "https://evil.example/v1" }]\n}\n';
    const hash = await writePolicy(text);
    const status = await stateWhere((s) => s.hash === hash, 'the loosening policy to be seen');
    assert.equal(status.state, 'malformed');
    assert.deepEqual(status.problems?.map((p) => p.path), [['providers']]);
    assert.deepEqual(status.deniedModels, []);

    const diagnostics = await eventually(() => {
      const found = diagnosticsOf(policyUri(), 'CodeRoute');
      return found.length === 1 && /"providers" is not allowed/.test(found[0].message) && found;
    }, 'the diagnostic on "providers"');
    assert.deepEqual(
      [diagnostics[0].range.start.line, diagnostics[0].range.start.character, diagnostics[0].range.end.line, diagnostics[0].range.end.character],
      [2, 2, 2, 2 + '"providers"'.length],
    );
    assert.match(diagnostics[0].message, /can only tighten/);
  });

  it('gives the file completion and errors in the editor from the contributed JSON schema', async () => {
    const document = await vscode.workspace.openTextDocument(policyUri());
    await vscode.window.showTextDocument(document);
    // VS Code's JSON language service, not CodeRoute, reports this one.
    const fromSchema = await eventually(
      () => vscode.languages.getDiagnostics(policyUri()).find((d) => d.source !== 'CodeRoute' && /providers/.test(d.message)),
      'the JSON schema to flag "providers"',
      30_000,
    );
    assert.match(fromSchema.message, /Property providers is not allowed/);
    assert.equal(fromSchema.range.start.line, 2);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('clears its diagnostics when the file is fixed, and when it is deleted', async () => {
    const hash = await writePolicy('{ "deny": { "models": ["rp-big"] } }');
    await stateWhere((s) => s.hash === hash && s.state === 'pending', 'the fixed policy to be seen');
    await eventually(() => diagnosticsOf(policyUri(), 'CodeRoute').length === 0, 'the diagnostics to be cleared');

    await writePolicy('not json');
    await stateWhere((s) => s.state === 'malformed', 'the broken policy to be seen');
    await removePolicy();
    const none = await stateWhere((s) => s.state === 'none', 'the deleted policy to be forgotten');
    assert.deepEqual(none.deniedModels, []);
    await eventually(() => diagnosticsOf(policyUri(), 'CodeRoute').length === 0, 'the diagnostics to be cleared');
  });
});
