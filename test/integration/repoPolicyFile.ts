import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as vscode from 'vscode';
import type { RepoPolicyStatus } from '../../src/vscode/policy/repoPolicy';
import { sleep, workspaceRoot } from './vscodeHelpers';

/** The workspace's `.vscode/coderoute.json`. */
export function policyUri(): vscode.Uri {
  return vscode.Uri.joinPath(workspaceRoot(), '.vscode', 'coderoute.json');
}

export function policyState(): Thenable<RepoPolicyStatus> {
  return vscode.commands.executeCommand<RepoPolicyStatus>('coderoute.repoPolicyState');
}

/** Writes the policy file through VS Code (as an editor's save would) and returns its content hash. */
export async function writePolicy(text: string): Promise<string> {
  const bytes = new TextEncoder().encode(text);
  await vscode.workspace.fs.writeFile(policyUri(), bytes);
  return createHash('sha256').update(bytes).digest('hex');
}

export async function removePolicy(): Promise<void> {
  await vscode.workspace.fs.delete(policyUri()).then(undefined, () => undefined);
}

/** Waits until the extension has seen the file change (watcher events arrive asynchronously). */
export async function stateWhere(check: (status: RepoPolicyStatus) => boolean, what: string, timeoutMs = 15_000): Promise<RepoPolicyStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await policyState();
    if (check(status)) return status;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; last state ${JSON.stringify(status)}`);
    await sleep(100);
  }
}
