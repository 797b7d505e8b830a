import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { ensureCodeServer } from '../host/codeServer';
import { REPO_ROOT } from '../host/testResults';

/**
 * Runs the syntax tests in test/grammar (vscode-tmgrammar-test's format) against the directive
 * injection grammar as package.json contributes it. The host grammars it is injected into come
 * from the VS Code built into the cached code-server install, the same one the integration tests
 * use, so the tests tokenize exactly as VS Code 1.100 does. Exit code 0 when all passed.
 */

/** Every JSON TextMate grammar the built-in extensions ship, so embedded languages resolve too. */
function builtInGrammars(packageDir: string): string[] {
  const extensions = path.join(packageDir, 'lib', 'vscode', 'extensions');
  return readdirSync(extensions, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => {
      const syntaxes = path.join(extensions, entry.name, 'syntaxes');
      if (!existsSync(syntaxes)) return [];
      return readdirSync(syntaxes)
        .filter((file) => file.endsWith('.tmLanguage.json'))
        .sort()
        .map((file) => path.join(syntaxes, file));
    });
}

function main(): number {
  const grammars = builtInGrammars(ensureCodeServer());
  if (grammars.length === 0) {
    console.error('[grammar] the code-server install has no built-in grammars');
    return 1;
  }
  const tool = path.join(path.dirname(require.resolve('vscode-tmgrammar-test/package.json')), 'dist', 'unit.js');
  const args = [
    tool,
    '--config',
    path.join(REPO_ROOT, 'package.json'),
    ...grammars.flatMap((grammar) => ['-g', grammar]),
    // The tool expands the glob itself (quoted, so no shell is involved on any platform).
    'test/grammar/*.txt',
  ];
  const result = spawnSync(process.execPath, args, { cwd: REPO_ROOT, stdio: 'inherit' });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

process.exitCode = main();
