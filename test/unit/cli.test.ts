import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MockLlmServer } from '../mock/mockLlmServer';
import { REPO_ROOT } from './repoRoot';

/** Runs the bundled CLI (dist/cli.js, as `npm run build` makes it) and collects its output. */
function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist', 'cli.js'), ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('coderoute CLI (bundled)', () => {
  let server: MockLlmServer;
  let dir: string;
  let settingsFile: string;

  before(async () => {
    server = await MockLlmServer.start();
    dir = mkdtempSync(path.join(os.tmpdir(), 'coderoute-cli-'));
    settingsFile = path.join(dir, 'settings.json');
    writeFileSync(
      settingsFile,
      JSON.stringify({
        'coderoute.providers': [{ id: 'mock', kind: 'openai', baseUrl: server.baseUrl }],
        'coderoute.models': [{ id: 'small', provider: 'mock', name: 'mock-small-v1', tags: ['cheap'] }],
        'coderoute.tasks.explain': 'small',
      }),
    );
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the routing decision for a task', async () => {
    const { code, stdout } = await runCli(['route', '--task', 'explain', '--settings', settingsFile]);
    assert.equal(code, 0);
    const decision = JSON.parse(stdout);
    assert.equal(decision.chosen.name, 'mock-small-v1');
    assert.equal(decision.decidedBy, 'task-setting');
  });

  it('routes a request in a file without calling any model, and shows what a repository policy changes', async () => {
    const file = path.join(dir, 'lib.rs');
    writeFileSync(file, 'fn add(a: i32, b: i32) -> i32 {\n    let s = a + b\n    s\n}\n');
    const routing = path.join(dir, 'routing.json');
    writeFileSync(
      routing,
      JSON.stringify({
        'coderoute.providers': [{ id: 'mock', kind: 'openai', baseUrl: server.baseUrl }],
        'coderoute.models': [
          { id: 'small', provider: 'mock', name: 'mock-small-v1', tags: ['cheap'], price: { inputPerMTok: 0.1, outputPerMTok: 0.4 } },
          { id: 'coder', provider: 'mock', name: 'mock-coder-v1', tags: ['code'], price: { inputPerMTok: 3, outputPerMTok: 15 } },
        ],
        'coderoute.routing.mode': 'task',
        'coderoute.tasks.debug': ['coder', 'small'],
      }),
    );
    server.reset();
    const plain = await runCli(['route', file, '--line', '2', '--col', '18', '--command', 'debug', '--settings', routing, '--dry-run']);
    assert.equal(plain.code, 0, plain.stderr);
    const before = JSON.parse(plain.stdout);
    assert.equal(before.chosen.model, 'coder');
    assert.equal(before.task, 'debug');
    assert.ok(before.features.includes('language rust'));

    const policy = path.join(dir, 'coderoute.json');
    writeFileSync(policy, '{\n  // this repository keeps debugging cheap\n  "deny": { "models": ["coder"] },\n}\n');
    const tightened = JSON.parse((await runCli(['route', file, '--line', '2', '--col', '18', '--command', 'debug', '--settings', routing, '--policy', policy])).stdout);
    assert.equal(tightened.chosen.model, 'small');
    assert.deepEqual(tightened.policyNotes, ['The repository policy denies 1 model(s): coder.']);
    assert.equal(server.requests.length, 0, 'no model was called');

    writeFileSync(policy, '{ "providers": [{ "id": "x", "baseUrl": "https://evil.example" }] }');
    const loosening = await runCli(['route', file, '--line', '2', '--col', '18', '--settings', routing, '--policy', policy]);
    assert.equal(loosening.code, 2);
    assert.match(loosening.stderr, /line 1: "providers" is not allowed: a repository policy can only tighten/);
  });

  it('prints a refusal for a file marked no-ai', async () => {
    const file = path.join(dir, 'secret.py');
    writeFileSync(file, '# coderoute: no-ai\nx = 1\n');
    const { code, stdout } = await runCli(['route', file, '--line', '2', '--col', '1', '--settings', settingsFile]);
    assert.equal(code, 0);
    assert.equal(JSON.parse(stdout).refused.reason, 'no-ai');
  });

  it('explains the function around a line with the grammar shipped next to the bundle', async () => {
    const file = path.join(dir, 'calc.py');
    writeFileSync(file, 'import math\n\n\ndef hyp(a, b):\n    s = a * a + b * b\n    return math.sqrt(s)\n');
    server.reset();
    server.enqueue({ kind: 'reply', text: 'It computes the hypotenuse.' });
    const { code, stdout, stderr } = await runCli(['explain', file, '--line', '5', '--settings', settingsFile], {
      CODEROUTE_API_KEY_MOCK: 'sk-cli',
    });
    assert.equal(code, 0, stderr);
    assert.equal(stdout.trim(), 'It computes the hypotenuse.');
    assert.match(stderr, /explain model=small provider=mock status=ok/);
    const user = (server.requests[0].body as { messages: { role: string; content: string }[] }).messages[1].content;
    assert.match(user, /^Explain the function definition `hyp`/);
    assert.ok(!user.includes('import math'));
    assert.equal(server.requests[0].headers.authorization, 'Bearer sk-cli');
  });

  it('sends nothing from a file marked coderoute: no-ai', async () => {
    const file = path.join(dir, 'secret.py');
    writeFileSync(file, '# coderoute: no-ai\ndef f():\n    return 1\n');
    server.reset();
    const { code, stderr } = await runCli(['explain', file, '--line', '3', '--settings', settingsFile], { CODEROUTE_API_KEY_MOCK: 'k' });
    assert.equal(code, 2);
    assert.match(stderr, /marked "coderoute: no-ai"; nothing was sent/);
    assert.equal(server.requests.length, 0);
  });

  it('classifies a position and prints one JSON object', async () => {
    const file = path.join(dir, 'shapes.py');
    writeFileSync(file, 'def area(r):\n    \n\ndef other():\n    # TODO: explain\n    return 1\n');
    const auto = await runCli(['classify', file, '--line', '2', '--col', '5']);
    assert.equal(auto.code, 0, auto.stderr);
    const result = JSON.parse(auto.stdout);
    assert.equal(result.task, 'generate');
    assert.equal(result.language, 'python');
    assert.equal(result.textOnly, false);
    assert.ok(result.difficulty >= 0 && result.difficulty <= 1);
    assert.ok(result.confidence > 0 && result.confidence <= 1);
    assert.equal(typeof result.reason, 'string');
    assert.equal(typeof result.features.emptyBlock, 'boolean');
    assert.equal(typeof result.timings.parseMs, 'number');
    assert.equal(typeof result.timings.classifyMs, 'number');
    const inline = JSON.parse((await runCli(['classify', file, '--line', '5', '--col', '12', '--command', 'inline'])).stdout);
    assert.equal(inline.task, 'complete-comment');
    const diagnostics = path.join(dir, 'diagnostics.json');
    writeFileSync(diagnostics, JSON.stringify([{ line: 6, message: 'undefined name', severity: 'error' }]));
    const debug = JSON.parse((await runCli(['classify', file, '--line', '6', '--col', '5', '--diagnostics', diagnostics])).stdout);
    assert.equal(debug.task, 'debug');
    const selected = JSON.parse((await runCli(['classify', file, '--line', '4', '--sel', '4:1-6:13'])).stdout);
    assert.equal(selected.task, 'explain');
  });

  it('rejects a bad path, an unknown language and an out-of-range position with exit code 2', async () => {
    const file = path.join(dir, 'shapes.py');
    const missing = await runCli(['classify', path.join(dir, 'nope.py'), '--line', '1']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read/);
    const unknown = await runCli(['classify', settingsFile.replace('.json', '.weird'), '--line', '1']);
    assert.equal(unknown.code, 2);
    const badLang = await runCli(['classify', file, '--line', '1', '--lang', 'Not A Language!']);
    assert.equal(badLang.code, 2);
    assert.match(badLang.stderr, /unknown language/);
    const past = await runCli(['classify', file, '--line', '99']);
    assert.equal(past.code, 2);
    assert.match(past.stderr, /past the end/);
    const badCol = await runCli(['classify', file, '--line', '1', '--col', '500']);
    assert.equal(badCol.code, 2);
  });

  it('says which variable to set when the key is missing', async () => {
    const { code, stderr } = await runCli(['explain', settingsFile, '--settings', settingsFile]);
    assert.equal(code, 2);
    assert.match(stderr, /CODEROUTE_API_KEY_MOCK/);
  });

  it('rejects an unknown task and a malformed settings file with exit code 2', async () => {
    const bad = await runCli(['route', '--task', 'dance']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--task must be one of format, explain, generate, debug, complete/);
    const broken = path.join(dir, 'broken.json');
    writeFileSync(broken, '{ "coderoute.providers": [');
    const malformed = await runCli(['route', '--task', 'explain', '--settings', broken]);
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /cannot read settings/);
  });
});
