import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { REPO_ROOT, SUITES, prepareRunDir, reportResults, reportTotals, type Suite, type SuiteTally } from './testResults';

/**
 * The same integration suites in desktop VS Code, downloaded by @vscode/test-electron. Needs the
 * internet (and a display, or xvfb-run); offline machines use runInCodeServer instead.
 */
async function runSuite(suite: Suite): Promise<SuiteTally | undefined> {
  const { runDir, workspace } = prepareRunDir(suite);
  const code = await runTests({
    version: process.env.CODEROUTE_VSCODE_VERSION ?? '1.100.3',
    extensionDevelopmentPath: REPO_ROOT,
    extensionTestsPath: suite.testsIndex,
    launchArgs: [
      workspace,
      ...(suite.trusted ? ['--disable-workspace-trust'] : []),
      '--disable-extensions',
      '--skip-welcome',
      '--user-data-dir',
      path.join(runDir, 'user-data'),
    ],
  }).catch((error: unknown) => {
    console.error(`[electron] ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  });
  const tally = reportResults(suite, runDir);
  if (tally && tally.failed === 0 && code === 0) rmSync(runDir, { recursive: true, force: true });
  return tally;
}

async function main(): Promise<number> {
  const tallies: (SuiteTally | undefined)[] = [];
  for (const suite of SUITES) tallies.push(await runSuite(suite));
  return reportTotals(tallies) ? 0 : 1;
}

void main().then((code) => process.exit(code));
