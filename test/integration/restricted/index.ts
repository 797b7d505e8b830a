import { runSuite } from '../runSuite';

/** The suites for a workspace VS Code has not trusted (Restricted Mode). */
export function run(): Promise<void> {
  return runSuite(__dirname);
}
