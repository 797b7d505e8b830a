import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { HOSTS, selectedHosts } from '../host/codeServer';
import { SUITES, versionAtLeast, whyNotRunIn } from '../host/testResults';
import { REPO_ROOT } from './repoRoot';

describe('test hosts (the VS Code versions the integration tests cover)', () => {
  it('the minimum host is the VS Code that engines.vscode names', () => {
    const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { vscode: string } };
    const engine = manifest.engines.vscode.replace(/^\^/, '');
    const minimum = HOSTS.find((h) => h.id === 'minimum');
    assert.ok(minimum);
    // code-server 4.100.x bundles VS Code 1.100.x: their minor versions match.
    assert.equal(minimum.codeServerVersion.split('.')[1], engine.split('.')[1]);
  });

  it('runs both hosts when nothing narrows it, minimum first', () => {
    assert.deepEqual(selectedHosts([], {}).map((h) => h.id), ['minimum', 'current']);
  });

  it('narrows to one host from the command line or the environment', () => {
    assert.deepEqual(selectedHosts(['--min'], {}).map((h) => h.id), ['minimum']);
    assert.deepEqual(selectedHosts(['--current'], {}).map((h) => h.id), ['current']);
    assert.deepEqual(selectedHosts([], { CODEROUTE_TEST_HOSTS: 'current' }).map((h) => h.id), ['current']);
    assert.deepEqual(selectedHosts([], { CODEROUTE_TEST_HOSTS: ' 4.100.3 , current' }).map((h) => h.id), ['minimum', 'current']);
  });

  it('refuses an unknown host with the names it knows', () => {
    assert.throws(() => selectedHosts([], { CODEROUTE_TEST_HOSTS: 'insiders' }), /unknown host "insiders".*minimum, current/);
  });

  it('compares VS Code versions numerically', () => {
    assert.equal(versionAtLeast('1.139.1', '1.104.0'), true);
    assert.equal(versionAtLeast('1.100.3', '1.104'), false);
    assert.equal(versionAtLeast('1.104.0', '1.104'), true);
    assert.equal(versionAtLeast('1.99.9', '1.100.0'), false);
    assert.equal(versionAtLeast('2.0.0', '1.140.0'), true);
  });

  it('leaves a suite that needs a newer API out of an older host, saying why', () => {
    const suite = { ...SUITES[0]!, name: 'chat', needs: { vscode: '1.104.0', why: 'the chat model provider API' } };
    assert.match(whyNotRunIn(suite, '1.100.3') ?? '', /"chat" does not run in VS Code 1\.100\.3: it needs 1\.104\.0 or later \(the chat model provider API\)/);
    assert.equal(whyNotRunIn(suite, '1.139.1'), undefined);
    assert.equal(whyNotRunIn(suite, 'stable'), undefined);
    assert.equal(whyNotRunIn(SUITES[0]!, '1.100.3'), undefined);
  });
});
