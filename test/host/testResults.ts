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
