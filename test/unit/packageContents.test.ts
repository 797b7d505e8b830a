import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { GRAMMAR_FILE_NAMES, TREE_SITTER_RUNTIME_FILE } from '../../src/core/classify/treeSitterLoader';
import { REPO_ROOT } from './repoRoot';

describe('extension package contents (.vscodeignore allow-list)', () => {
  let files: string[];

  before(() => {
    // `vsce ls` lists exactly what `vsce package` would put in the .vsix.
    const vsce = path.join(REPO_ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
    files = execFileSync(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: REPO_ROOT, encoding: 'utf8' })
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
  });

  it('ships what the extension loads at run time', () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      main: string;
      contributes: { grammars: { path: string }[] };
    };
    const needed = [
      path.posix.normalize(pkg.main),
      'dist/webview/requestsPanel.js',
      'dist/tokenizerWorker.js',
      'media/requestsPanel.css',
      'dist/webview/spendPanel.js',
      'dist/webview/uPlot.min.css',
      'dist/webview/codicons/codicon.css',
      'dist/webview/codicons/codicon.ttf',
      'dist/webview/codicons/LICENSE',
      'media/spendPanel.css',
      ...pkg.contributes.grammars.map((g) => path.posix.normalize(g.path)),
      ...[TREE_SITTER_RUNTIME_FILE, ...GRAMMAR_FILE_NAMES].map((f) => `dist/wasm/${f}`),
    ];
    for (const file of needed) assert.ok(files.includes(file), `${file} is packaged`);
  });

  it('ships no sources, tests, source maps, dependencies, data or README screenshots', () => {
    const forbidden = files.filter((f) =>
      /(^|\/)(src|test|out|node_modules|\.ci|\.github|screenshots)\/|\.map$|\.ts$|\.csv$|\.vsix$|^esbuild\.mjs$|^tsconfig/.test(f),
    );
    assert.deepEqual(forbidden, []);
  });
});
