import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { REPO_ROOT, TESTS_INDEX, prepareRunDir, reportResults } from './testResults';

/**
 * The same integration suites in desktop VS Code, downloaded by @vscode/test-electron. Needs the
 * internet (and a display, or xvfb-run); offline machines use runInCodeServer instead.
 */
async function main(): Promise<number> {
  const { runDir, workspace } = prepareRunDir();
  let passed: boolean | undefined = false;
  try {
    const code = await runTests({
      version: process.env.CODEROUTE_VSCODE_VERSION ?? '1.100.3',
      extensionDevelopmentPath: REPO_ROOT,
      extensionTestsPath: TESTS_INDEX,
      launchArgs: [
        workspace,
        '--disable-workspace-trust',
        '--disable-extensions',
        '--skip-welcome',
        '--user-data-dir',
        path.join(runDir, 'user-data'),
      ],
    }).catch((error: unknown) => {
      console.error(`[electron] ${error instanceof Error ? error.message : String(error)}`);
      return 1;
    });
    passed = reportResults(runDir) === true && code === 0;
    return passed ? 0 : 1;
  } finally {
    if (passed) rmSync(runDir, { recursive: true, force: true });
  }
}

void main().then((code) => process.exit(code));
