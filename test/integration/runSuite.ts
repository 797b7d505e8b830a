import { readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';
import * as vscode from 'vscode';

import { RESULTS_FILE, type ResultsFile, type TestResult } from '../host/testResults';

/**
 * Runs the mocha files in `dir` inside the extension host and writes the results next to the
 * workspace. Each suite folder has an index whose `run()` (VS Code's `extensionTestsPath` entry
 * point) calls this.
 */
export async function runSuite(dir: string): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec' });
  if (process.env.CODEROUTE_TEST_GREP) mocha.grep(process.env.CODEROUTE_TEST_GREP);
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.test.js')) mocha.addFile(path.join(entry.parentPath, entry.name));
  }
  const results: TestResult[] = [];
  const failures = await new Promise<number>((resolve) => {
    const runner = mocha.run(resolve);
    runner.on('pass', (test) => results.push({ title: test.fullTitle(), state: 'passed', durationMs: test.duration }));
    runner.on('fail', (test, error: Error) =>
      results.push({ title: test.fullTitle(), state: 'failed', error: error.stack ?? error.message }),
    );
    runner.on('pending', (test) => results.push({ title: test.fullTitle(), state: 'pending' }));
  });
  // Next to the test workspace, where the launcher (which made that folder) reads it back.
  const workspace = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (workspace) {
    writeFileSync(
      path.join(path.dirname(workspace), RESULTS_FILE),
      JSON.stringify({ vscodeVersion: vscode.version, results } satisfies ResultsFile, null, 2),
    );
  }
  if (failures > 0) throw new Error(`${failures} integration test(s) failed`);
}
