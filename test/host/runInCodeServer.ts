import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { launchChromium } from './browser';
import { ensureCodeServer, startCodeServer, vscodeVersionOf, workbenchUrl } from './codeServer';
import { REPO_ROOT, SUITES, prepareRunDir, reportResults, reportTotals, type Suite, type SuiteTally } from './testResults';

/**
 * Runs the integration suites inside a real VS Code extension host (code-server + headless
 * Chromium), one VS Code session per suite, and prints what ran there. Exit code 0 when all passed.
 */

const TIMEOUT_MS = Number(process.env.CODEROUTE_TEST_TIMEOUT_MS ?? 15 * 60_000);

async function runSuite(packageDir: string, suite: Suite): Promise<SuiteTally | undefined> {
  const { runDir, workspace } = prepareRunDir(suite);
  // Completions off unless a suite turns them on: ghost-text requests while other suites edit
  // documents would change their request counts.
  const server = await startCodeServer(packageDir, {
    workspace,
    stateDir: path.join(runDir, 'state'),
    trustWorkspace: suite.trusted,
    userSettings: { 'coderoute.completions.enabled': false },
  });
  let tally: SuiteTally | undefined;
  let exitCode: number | undefined;
  try {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const exited = new Promise<number>((resolve) => {
        void page.exposeFunction('codeAutomationExit', (code: number) => resolve(code));
      });
      await page.exposeFunction('codeAutomationLog', (level: string, message: string) => {
        if (process.env.CODEROUTE_TEST_VERBOSE) console.log(`[host ${level}] ${message}`);
      });
      await page.goto(workbenchUrl(server, workspace, REPO_ROOT, suite.testsIndex));
      const timeout = new Promise<number>((_, reject) =>
        setTimeout(() => reject(new Error(`suite "${suite.name}" did not finish within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS).unref(),
      );
      exitCode = await Promise.race([exited, timeout]);
    } finally {
      await browser.close();
    }
    tally = reportResults(suite, runDir);
    if (!tally) console.error(`[integration] the host exited with ${exitCode} before writing results. code-server said:\n${server.output()}`);
    return tally;
  } finally {
    await server.stop();
    if (tally && tally.failed === 0 && exitCode === 0) rmSync(runDir, { recursive: true, force: true });
    else console.log(`[integration] kept ${runDir} for inspection (VS Code logs under state/user-data/logs)`);
  }
}

async function main(): Promise<number> {
  const packageDir = ensureCodeServer();
  console.log(`[integration] VS Code ${vscodeVersionOf(packageDir)} (code-server ${path.basename(path.dirname(path.dirname(packageDir)))})`);
  const tallies: (SuiteTally | undefined)[] = [];
  // CODEROUTE_TEST_SUITE=trusted and CODEROUTE_TEST_GREP=<title part> narrow a run while working on one test.
  const only = process.env.CODEROUTE_TEST_SUITE;
  for (const suite of SUITES.filter((s) => !only || s.name === only)) tallies.push(await runSuite(packageDir, suite));
  return reportTotals(tallies) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`[integration] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
