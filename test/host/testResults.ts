import { cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
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
export const TESTS_INDEX = path.join(REPO_ROOT, 'out', 'test', 'integration', 'index.js');

/** A fresh folder holding a copy of the sample workspace; results land next to the copy. */
export function prepareRunDir(): { runDir: string; workspace: string } {
  if (!existsSync(TESTS_INDEX) || !existsSync(path.join(REPO_ROOT, 'dist', 'extension.js'))) {
    throw new Error('build first: npm run build && npm run build:tests');
  }
  const runDir = mkdtempSync(path.join(os.tmpdir(), 'coderoute-it-'));
  const workspace = path.join(runDir, 'workspace');
  cpSync(path.join(REPO_ROOT, 'test', 'fixtures', 'sample-workspace'), workspace, { recursive: true });
  return { runDir, workspace };
}

/**
 * Prints each test that ran inside the host and the totals; returns true when all passed.
 * `undefined` when the host wrote no results (it crashed or never started the tests).
 */
export function reportResults(runDir: string): boolean | undefined {
  const file = path.join(runDir, RESULTS_FILE);
  if (!existsSync(file)) return undefined;
  const { vscodeVersion, results } = JSON.parse(readFileSync(file, 'utf8')) as ResultsFile;
  for (const r of results) {
    const mark = r.state === 'passed' ? '✔' : r.state === 'failed' ? '✘' : '-';
    console.log(`  ${mark} ${r.title}${r.durationMs !== undefined ? ` (${r.durationMs} ms)` : ''}`);
    if (r.error) console.log(`      ${r.error.split('\n').join('\n      ')}`);
  }
  const count = (state: TestResult['state']) => results.filter((r) => r.state === state).length;
  console.log(`[integration] ran inside the VS Code ${vscodeVersion} extension host`);
  console.log(`${count('passed')} passed, ${count('failed')} failed, ${count('pending')} skipped`);
  return count('failed') === 0 && count('passed') > 0;
}
