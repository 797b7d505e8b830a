import { runSuite } from '../runSuite';

/**
 * A new user's first run: no CodeRoute settings, and a stand-in Ollama on loopback (the launcher
 * starts the mock before VS Code and names its port in coderoute.discovery.ollamaPort).
 */
export function run(): Promise<void> {
  return runSuite(__dirname);
}
