import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { REPO_ROOT, SUITES, prepareRunDir, removeRunDir, reportResults, reportTotals, whyNotRunIn, type Suite, type SuiteTally } from './testResults';

/**
 * The same integration suites in desktop VS Code, downloaded by @vscode/test-electron: the
 * minimum version and the current stable one, as runInCodeServer does offline. Needs the internet
 * (and a display, or xvfb-run). CODEROUTE_VSCODE_VERSION=1.100.3 (or stable, insiders) picks one.
 */
const MINIMUM = '1.100.3';
const VERSIONS = process.env.CODEROUTE_VSCODE_VERSION ? [process.env.CODEROUTE_VSCODE_VERSION] : [MINIMUM, 'stable'];

async function runSuite(suite: Suite, version: string): Promise<SuiteTally | undefined> {
  const { runDir, workspace } = prepareRunDir(suite);
  const code = await runTests({
    version,
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
  if (tally && tally.failed === 0 && code === 0) removeRunDir(runDir);
  return tally;
}

async function main(): Promise<number> {
  let ok = true;
  for (const version of VERSIONS) {
    const tallies: (SuiteTally | undefined)[] = [];
    for (const suite of SUITES) {
      const notHere = whyNotRunIn(suite, version);
      if (notHere) {
        console.log(`[electron] ${notHere}`);
        continue;
      }
      tallies.push(await runSuite(suite, version));
    }
    ok = reportTotals(tallies, version.replace(/\W/g, '_')) && ok;
  }
  return ok ? 0 : 1;
}

void main().then((code) => process.exit(code));
