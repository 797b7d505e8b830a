import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RepoPolicyStatus } from '../../../src/vscode/policy/repoPolicy';
import { removePolicy, stateWhere, writePolicy } from '../repoPolicyFile';

describe('Repository policy in Restricted Mode (untrusted workspace)', () => {
  after(removePolicy);

  it('ignores .vscode/coderoute.json entirely: not read, not applied, not even when approved', async () => {
    assert.equal(vscode.workspace.isTrusted, false);
    // Whichever models the user has (this file may run before the suite's settings are made).
    await writePolicy('{ "deny": { "models": ["user-pick", "workspace-pick", "gpt-4.1-mini", "gpt-4.1"] } }');
    const status = await stateWhere((s) => s.state === 'untrusted', 'the policy file to be noticed');
    assert.equal(status.hash, undefined, 'the file is not read');
    assert.deepEqual(status.deniedModels, []);
    assert.deepEqual(status.notes, []);

    const reviewed = await vscode.commands.executeCommand<RepoPolicyStatus>('coderoute.reviewRepoPolicy', 'approve');
    assert.equal(reviewed.state, 'untrusted');
    assert.deepEqual(reviewed.deniedModels, []);
  });
});
