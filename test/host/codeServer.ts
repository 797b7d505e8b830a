import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from './testResults';

/**
 * code-server 4.100.3 is VS Code 1.100.3 for the browser, installed from the npm registry: the
 * one way to run a real VS Code extension host on a machine that has no internet. It is installed
 * once into a cache outside the clone and reused by every later run.
 */
export const CODE_SERVER_VERSION = '4.100.3';

export function cacheRoot(): string {
  return process.env.CODEROUTE_TEST_CACHE ?? path.join(os.homedir(), '.cache', 'coderoute');
}

/** Installs code-server into the cache if it is not there yet; returns its package folder. */
export function ensureCodeServer(): string {
  const installDir = path.join(cacheRoot(), `code-server-${CODE_SERVER_VERSION}`);
  const packageDir = path.join(installDir, 'node_modules', 'code-server');
  // The script returns at once when its current layout is already installed.
  mkdirSync(cacheRoot(), { recursive: true });
  const script = path.join(REPO_ROOT, 'test', 'host', 'install-code-server.sh');
  const result = spawnSync('bash', [script, installDir], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`installing code-server failed (exit ${result.status}); see the output above`);
  return packageDir;
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

export async function startCodeServer(packageDir: string, options: CodeServerOptions): Promise<RunningCodeServer> {
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
    path.join(packageDir, 'out', 'node', 'entry.js'),
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${options.port ?? 0}`,
    '--config', configFile,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
    ...(options.trustWorkspace ? ['--disable-workspace-trust'] : []),
    options.workspace,
  ];
  const child = spawn(process.execPath, args, {
    cwd: options.stateDir,
    stdio: options.inheritOutput ? ['ignore', 'pipe', 'inherit'] : ['ignore', 'pipe', 'pipe'],
    // No extension gallery: this machine (and CI) has no internet, and tests must not reach out.
    env: { ...process.env, EXTENSIONS_GALLERY: '{}' },
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
