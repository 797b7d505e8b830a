import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
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

const TESTS_DIR = path.join(REPO_ROOT, 'test', 'grammar');

/**
 * Assertion lines with a second ` - ` (`^^^ a - b - c`) send the tool's assertion parser into
 * exponential backtracking, so a typo looks like a hang; excluded scopes all go after one ` - `.
 */
function malformedAssertions(): string[] {
  return readdirSync(TESTS_DIR)
    .filter((file) => file.endsWith('.txt'))
    .flatMap((file) => {
      const lines = readFileSync(path.join(TESTS_DIR, file), 'utf8').split(/\r?\n/);
      const token = lines[0].split(/\s/, 1)[0];
      return lines
        .map((line, i) => ({ line, number: i + 1 }))
        .filter(({ line }) => line.startsWith(token) && /^\s*(\^|<~*-)/.test(line.slice(token.length)))
        .filter(({ line }) => line.split(/\s-(?=\s|$)/).length > 2)
        .map(({ number }) => `test/grammar/${file}:${number}: list excluded scopes after a single " - "`);
    });
}

function main(): number {
  const malformed = malformedAssertions();
  if (malformed.length > 0) {
    malformed.forEach((message) => console.error(`[grammar] ${message}`));
    return 1;
  }
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
    // The tool expands the glob itself.
    'test/grammar/*.txt',
  ];
  const result = spawnSync(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (result.error) throw result.error;
  // Markdown and HTML name embedded languages VS Code does not ship; the tool warns about each.
  const warnings = result.stderr.split('\n').filter((line) => line.trim() !== '' && !/^grammar not found for "/.test(line));
  if (warnings.length > 0) console.error(warnings.join('\n'));
  return result.status ?? 1;
}

process.exitCode = main();
