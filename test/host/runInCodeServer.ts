import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { launchChromium } from './browser';
import { RESULTS_FILE, type ResultsFile } from './testResults';
import { REPO_ROOT, ensureCodeServer, startCodeServer, vscodeVersionOf, workbenchUrl } from './codeServer';

/**
 * Runs test/integration inside a real VS Code extension host (code-server + headless Chromium),
 * then prints what ran there. Exit code: 0 when every test passed.
 */

const TIMEOUT_MS = Number(process.env.CODEROUTE_TEST_TIMEOUT_MS ?? 15 * 60_000);

async function main(): Promise<number> {
  const packageDir = ensureCodeServer();
  console.log(`[integration] VS Code ${vscodeVersionOf(packageDir)} (code-server) from ${packageDir}`);
  const testsIndex = path.join(REPO_ROOT, 'out', 'test', 'integration', 'index.js');
  if (!existsSync(testsIndex) || !existsSync(path.join(REPO_ROOT, 'dist', 'extension.js'))) {
    throw new Error('build first: npm run build && npm run build:tests');
  }

  const runDir = mkdtempSync(path.join(os.tmpdir(), 'coderoute-it-'));
  const workspace = path.join(runDir, 'workspace');
  cpSync(path.join(REPO_ROOT, 'test', 'fixtures', 'sample-workspace'), workspace, { recursive: true });
  const server = await startCodeServer(packageDir, { workspace, stateDir: path.join(runDir, 'state'), trustWorkspace: true });
  const browser = await launchChromium();
  let failed = true;
  try {
    const page = await browser.newPage();
    const exitCode = new Promise<number>((resolve) => {
      void page.exposeFunction('codeAutomationExit', (code: number) => resolve(code));
    });
    await page.exposeFunction('codeAutomationLog', (level: string, message: string) => {
      if (process.env.CODEROUTE_TEST_VERBOSE || level === 'error') console.log(`[host ${level}] ${message}`);
    });
    const url = workbenchUrl(server, workspace, REPO_ROOT, testsIndex);
    await page.goto(url);
    const timeout = new Promise<number>((_, reject) =>
      setTimeout(() => reject(new Error(`the tests did not finish within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS).unref(),
    );
    const code = await Promise.race([exitCode, timeout]);

    const resultsPath = path.join(runDir, RESULTS_FILE);
    if (!existsSync(resultsPath)) {
      console.error(`[integration] the host exited with ${code} before writing results. code-server said:\n${server.output()}`);
      return 1;
    }
    const { vscodeVersion, results } = JSON.parse(readFileSync(resultsPath, 'utf8')) as ResultsFile;
    for (const r of results) {
      const mark = r.state === 'passed' ? '✔' : r.state === 'failed' ? '✘' : '-';
      console.log(`  ${mark} ${r.title}${r.durationMs !== undefined ? ` (${r.durationMs} ms)` : ''}`);
      if (r.error) console.log(`      ${r.error.split('\n').join('\n      ')}`);
    }
    const count = (state: string) => results.filter((r) => r.state === state).length;
    console.log(`[integration] ran inside VS Code ${vscodeVersion} extension host`);
    console.log(`${count('passed')} passed, ${count('failed')} failed, ${count('pending')} skipped`);
    failed = code !== 0 || count('failed') > 0 || count('passed') === 0;
    return failed ? 1 : 0;
  } finally {
    await browser.close();
    await server.stop();
    if (!failed) rmSync(runDir, { recursive: true, force: true });
    else console.log(`[integration] kept ${runDir} for inspection`);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`[integration] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
