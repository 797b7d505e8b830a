import { runSuite } from '../runSuite';

/** The suites for a trusted workspace (the launcher starts VS Code with workspace trust off). */
export function run(): Promise<void> {
  return runSuite(__dirname);
}
