import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { MockLlmServer } from '../mock/mockLlmServer';
import { cacheRoot, ensureHost, hostSpec, startCodeServer, workbenchUrl, type HostId } from './codeServer';
import { REPO_ROOT } from './testResults';

/**
 * `npm start`: opens CodeRoute (built from this checkout) in a real VS Code with a sample
 * workspace. Desktop VS Code when `code` is on the PATH; otherwise code-server on 127.0.0.1,
 * with a local mock model configured so that Explain works without any key. code-server is the
 * current VS Code (what users run); `npm start -- --min` (or CODEROUTE_START_HOST=minimum) opens
 * the minimum one that engines.vscode names.
 */

function startHost(): HostId {
  const env = process.env.CODEROUTE_START_HOST;
  if (env && env !== 'current' && env !== 'minimum') throw new Error(`CODEROUTE_START_HOST must be minimum or current, not "${env}"`);
  if (process.argv.includes('--min') || process.argv.includes('--minimum') || env === 'minimum') return 'minimum';
  return 'current';
}

const STATE = path.join(cacheRoot(), 'start');
const WORKSPACE = path.join(STATE, 'sample-workspace');

function prepareWorkspace(): void {
  // The sample is copied once and then left alone, so edits made while trying things survive.
  if (!existsSync(WORKSPACE)) {
    mkdirSync(STATE, { recursive: true });
    cpSync(path.join(REPO_ROOT, 'test', 'fixtures', 'sample-workspace'), WORKSPACE, { recursive: true });
  }
}

function hasDesktopCode(): boolean {
  if (process.env.CODEROUTE_START_BROWSER) return false;
  return spawnSync('code', ['--version'], { stdio: 'ignore' }).status === 0;
}

async function startInBrowser(): Promise<void> {
  const host = ensureHost(hostSpec(startHost()));
  const mock = await MockLlmServer.start(Number(process.env.CODEROUTE_MOCK_PORT ?? 0));
  const server = await startCodeServer(host, {
    workspace: WORKSPACE,
    stateDir: path.join(STATE, `code-server-${host.spec.id}`),
    trustWorkspace: true,
    port: Number(process.env.CODEROUTE_PORT ?? 0),
    userSettings: {
      // A local mock model, so the first Explain works without a key; the OpenAI entries are the
      // defaults a real setup starts from (CodeRoute: Set API Key, then point tasks at them).
      'coderoute.providers': [
        { id: 'local-mock', kind: 'openai', baseUrl: mock.baseUrl, auth: 'none' },
        { id: 'openai', kind: 'openai', baseUrl: 'https://api.openai.com/v1', auth: 'apiKey' },
      ],
      'coderoute.models': [
        { id: 'mock-small', provider: 'local-mock', name: 'mock-small', tags: ['cheap', 'local'] },
        { id: 'mock-fim', provider: 'local-mock', name: 'mock-fim', tags: ['cheap', 'local'], capabilities: ['fim'] },
        { id: 'gpt-4.1-mini', provider: 'openai', name: 'gpt-4.1-mini', tags: ['cheap'] },
        { id: 'gpt-4.1', provider: 'openai', name: 'gpt-4.1', tags: ['code', 'strong'] },
      ],
      'coderoute.tasks.explain': 'mock-small',
      // Ghost text from the mock's fill-in-the-middle endpoint (it names the line after the cursor).
      'coderoute.tasks.complete': 'mock-fim',
    },
  });
  const url = workbenchUrl(server, WORKSPACE, REPO_ROOT);
  console.log(`\n${host.label} with CodeRoute from ${REPO_ROOT}`);
  console.log(`mock model at ${mock.baseUrl} (explain and inline completions go there until you change coderoute.tasks.explain / .complete)`);
  console.log(`\nOpen this URL in a browser:\n\n  ${url}\n\nCtrl+C stops it.`);
  const stop = () => {
    void Promise.all([server.stop(), mock.close()]).then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  server.process.once('exit', (code) => {
    console.log(`code-server exited (${code})`);
    void mock.close().then(() => process.exit(code ?? 1));
  });
}

function startDesktop(): void {
  console.log(`Opening desktop VS Code with CodeRoute from ${REPO_ROOT} and the sample workspace ${WORKSPACE}`);
  console.log('Set a provider key with "CodeRoute: Set API Key", then try "CodeRoute: Explain Selection".');
  const child = spawn('code', ['--new-window', `--extensionDevelopmentPath=${REPO_ROOT}`, WORKSPACE], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
}

prepareWorkspace();
if (hasDesktopCode()) startDesktop();
else
  void startInBrowser().catch((error: unknown) => {
    console.error(`npm start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
