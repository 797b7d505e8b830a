import { runSuite } from '../runSuite';

/** The chat model suite: CodeRoute's models in VS Code's chat (VS Code 1.104 and later), trusted workspace. */
export function run(): Promise<void> {
  return runSuite(__dirname);
}
