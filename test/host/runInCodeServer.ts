import * as path from 'node:path';
import { launchChromium } from './browser';
import { MockLlmServer } from '../mock/mockLlmServer';
import { ensureHost, selectedHosts, startCodeServer, workbenchUrl, type InstalledHost } from './codeServer';
import { REPO_ROOT, SUITES, prepareRunDir, removeRunDir, reportResults, reportTotals, whyNotRunIn, type Suite, type SuiteTally } from './testResults';

/**
 * Runs the integration suites inside real VS Code extension hosts (code-server + headless
 * Chromium): the minimum VS Code and a current one, one VS Code session per suite, and prints
 * what ran in each. Exit code 0 when all passed in every host.
 */

const TIMEOUT_MS = Number(process.env.CODEROUTE_TEST_TIMEOUT_MS ?? 15 * 60_000);

async function runSuite(host: InstalledHost, suite: Suite): Promise<SuiteTally | undefined> {
  const { runDir, workspace } = prepareRunDir(suite);
  const ollama = suite.ollamaStandIn ? await MockLlmServer.start() : undefined;
  // Completions off unless a suite turns them on: ghost-text requests while other suites edit
  // documents would change their request counts.
  const server = await startCodeServer(host, {
    workspace,
    stateDir: path.join(runDir, 'state'),
    trustWorkspace: suite.trusted,
    // The Ollama probe only where a stand-in answers: what a suite finds must not depend on what runs on this machine.
    userSettings: { 'coderoute.completions.enabled': false, 'coderoute.discovery.ollama': !!ollama, ...(ollama ? { 'coderoute.discovery.ollamaPort': ollama.port } : {}) },
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
    await ollama?.close();
    // CODEROUTE_KEEP_RUNS=1 keeps a green run's folder too (its VS Code logs, for figures such as activation time).
    if (tally && tally.failed === 0 && exitCode === 0 && !process.env.CODEROUTE_KEEP_RUNS) removeRunDir(runDir);
    else console.log(`[integration] kept ${runDir} for inspection (VS Code logs under state/user-data/logs)`);
  }
}

async function runHost(host: InstalledHost): Promise<boolean> {
  console.log(`[integration] ${host.label}`);
  const tallies: (SuiteTally | undefined)[] = [];
  // CODEROUTE_TEST_SUITE=trusted and CODEROUTE_TEST_GREP=<title part> narrow a run while working on one test.
  const only = process.env.CODEROUTE_TEST_SUITE;
  for (const suite of SUITES.filter((s) => !only || s.name === only)) {
    const notHere = whyNotRunIn(suite, host.vscodeVersion);
    if (notHere) {
      console.log(`[integration] ${notHere}`);
      continue;
    }
    tallies.push(await runSuite(host, suite));
  }
  return reportTotals(tallies, host.spec.id);
}

async function main(): Promise<number> {
  const results: { host: InstalledHost; ok: boolean }[] = [];
  for (const spec of selectedHosts()) {
    const host = ensureHost(spec);
    results.push({ host, ok: await runHost(host) });
  }
  for (const { host, ok } of results) console.log(`[integration] ${ok ? '✔' : '✘'} ${host.label}`);
  return results.every((r) => r.ok) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`[integration] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
