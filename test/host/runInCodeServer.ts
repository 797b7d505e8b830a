import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { launchChromium } from './browser';
import { ensureCodeServer, startCodeServer, vscodeVersionOf, workbenchUrl } from './codeServer';
import { REPO_ROOT, TESTS_INDEX, prepareRunDir, reportResults } from './testResults';

/**
 * Runs test/integration inside a real VS Code extension host (code-server + headless Chromium),
 * then prints what ran there. Exit code: 0 when every test passed.
 */

const TIMEOUT_MS = Number(process.env.CODEROUTE_TEST_TIMEOUT_MS ?? 15 * 60_000);

async function main(): Promise<number> {
  const packageDir = ensureCodeServer();
  console.log(`[integration] VS Code ${vscodeVersionOf(packageDir)} (code-server) from ${packageDir}`);
  const { runDir, workspace } = prepareRunDir();
  const server = await startCodeServer(packageDir, { workspace, stateDir: path.join(runDir, 'state'), trustWorkspace: true });
  const browser = await launchChromium();
  let passed: boolean | undefined = false;
  try {
    const page = await browser.newPage();
    const exitCode = new Promise<number>((resolve) => {
      void page.exposeFunction('codeAutomationExit', (code: number) => resolve(code));
    });
    await page.exposeFunction('codeAutomationLog', (level: string, message: string) => {
      if (process.env.CODEROUTE_TEST_VERBOSE) console.log(`[host ${level}] ${message}`);
    });
    await page.goto(workbenchUrl(server, workspace, REPO_ROOT, TESTS_INDEX));
    const timeout = new Promise<number>((_, reject) =>
      setTimeout(() => reject(new Error(`the tests did not finish within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS).unref(),
    );
    const code = await Promise.race([exitCode, timeout]);
    passed = reportResults(runDir);
    if (passed === undefined) {
      console.error(`[integration] the host exited with ${code} before writing results. code-server said:\n${server.output()}`);
    }
    passed = passed === true && code === 0;
    return passed ? 0 : 1;
  } finally {
    await browser.close();
    await server.stop();
    if (passed) rmSync(runDir, { recursive: true, force: true });
    else console.log(`[integration] kept ${runDir} for inspection (logs under state/user-data/logs)`);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`[integration] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
