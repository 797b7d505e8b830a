import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** What the in-host runner writes next to the test workspace, and the launchers read back. */
export const RESULTS_FILE = 'integration-results.json';

export interface TestResult {
  title: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs?: number;
  error?: string;
}

export interface ResultsFile {
  vscodeVersion: string;
  results: TestResult[];
}

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
/** One VS Code session's worth of integration tests. */
export interface Suite {
  name: string;
  /** The compiled entry point whose `run()` the extension host calls. */
  testsIndex: string;
  /** Open the workspace trusted (no Restricted Mode). */
  trusted: boolean;
  /** Written to the workspace's .vscode/settings.json before VS Code starts. */
  workspaceSettings?: Record<string, unknown>;
  /**
   * A stand-in Ollama (the loopback mock serving /api/tags) runs from before VS Code starts, and
   * coderoute.discovery.ollamaPort names its port in the user settings.
   */
  ollamaStandIn?: boolean;
  /** The suite needs an API newer than the minimum host has: it runs only from this VS Code on. */
  needs?: { vscode: string; why: string };
}

const suiteIndex = (name: string) => path.join(REPO_ROOT, 'out', 'test', 'integration', name, 'index.js');

export const SUITES: Suite[] = [
  { name: 'trusted', testsIndex: suiteIndex('trusted'), trusted: true },
  { name: 'firstRun', testsIndex: suiteIndex('firstRun'), trusted: true, ollamaStandIn: true },
  {
    name: 'restricted',
    testsIndex: suiteIndex('restricted'),
    trusted: false,
    workspaceSettings: { 'coderoute.tasks.explain': 'workspace-pick' },
  },
  {
    name: 'chat',
    testsIndex: suiteIndex('chat'),
    trusted: true,
    needs: { vscode: '1.104.0', why: "the Language Model Chat Provider API, by which CodeRoute's models join the chat model picker" },
  },
];

/** True when VS Code `version` is at least `minimum` (both "major.minor[.patch]"). */
export function versionAtLeast(version: string, minimum: string): boolean {
  const parts = (v: string) => v.split(/[.-]/).slice(0, 3).map((n) => Number.parseInt(n, 10) || 0);
  const a = parts(version);
  const b = parts(minimum);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

/**
 * Why `suite` does not run in VS Code `version`, or undefined when it does. Channel names such as
 * "stable" or "insiders" are newer than any suite needs.
 */
export function whyNotRunIn(suite: Suite, version: string): string | undefined {
  if (!suite.needs || !/^\d/.test(version) || versionAtLeast(version, suite.needs.vscode)) return undefined;
  return `suite "${suite.name}" does not run in VS Code ${version}: it needs ${suite.needs.vscode} or later (${suite.needs.why})`;
}

/** A fresh folder holding a copy of the sample workspace; results land next to the copy. */
export function prepareRunDir(suite: Suite): { runDir: string; workspace: string } {
  if (!existsSync(suite.testsIndex) || !existsSync(path.join(REPO_ROOT, 'dist', 'extension.js'))) {
    throw new Error('build first: npm run build && npm run build:tests');
  }
  const runDir = mkdtempSync(path.join(os.tmpdir(), `coderoute-it-${suite.name}-`));
  const workspace = path.join(runDir, 'workspace');
  cpSync(path.join(REPO_ROOT, 'test', 'fixtures', 'sample-workspace'), workspace, { recursive: true });
  if (suite.workspaceSettings) {
    writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify(suite.workspaceSettings, null, 2));
  }
  return { runDir, workspace };
}

/**
 * Removes a green run's folder. VS Code's helper processes (extension host, file watcher) may
 * still be writing their last logs there just after the server stops, so removal retries; a
 * folder that still cannot go is reported and left, and never turns a passing run into a failure.
 */
export function removeRunDir(runDir: string): void {
  try {
    rmSync(runDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  } catch (error) {
    console.warn(`[host] could not remove ${runDir}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export interface SuiteTally {
  passed: number;
  failed: number;
  skipped: number;
}

/**
 * Prints each test that ran inside the host and returns the counts; undefined when the host
 * wrote no results (it crashed or never started the tests).
 */
export function reportResults(suite: Suite, runDir: string): SuiteTally | undefined {
  const file = path.join(runDir, RESULTS_FILE);
  if (!existsSync(file)) return undefined;
  const { vscodeVersion, results } = JSON.parse(readFileSync(file, 'utf8')) as ResultsFile;
  console.log(`[integration] suite "${suite.name}" ran inside the VS Code ${vscodeVersion} extension host:`);
  for (const r of results) {
    const mark = r.state === 'passed' ? '✔' : r.state === 'failed' ? '✘' : '-';
    console.log(`  ${mark} ${r.title}${r.durationMs !== undefined ? ` (${r.durationMs} ms)` : ''}`);
    if (r.error) console.log(`      ${r.error.split('\n').join('\n      ')}`);
  }
  const count = (state: TestResult['state']) => results.filter((r) => r.state === state).length;
  return { passed: count('passed'), failed: count('failed'), skipped: count('pending') };
}

/**
 * Prints the closing line over all suites (`label: N passed, N failed, N skipped`, label one word
 * such as the host's id); true when every suite ran and nothing failed.
 */
export function reportTotals(tallies: (SuiteTally | undefined)[], label?: string): boolean {
  const sum = (key: keyof SuiteTally) => tallies.reduce((n, t) => n + (t?.[key] ?? 0), 0);
  const missing = tallies.filter((t) => t === undefined).length;
  if (missing) console.log(`[integration] ${missing} suite(s) wrote no results`);
  console.log(`${label ? `${label}: ` : ''}${sum('passed')} passed, ${sum('failed')} failed, ${sum('skipped')} skipped`);
  return missing === 0 && sum('failed') === 0 && sum('passed') > 0;
}
