// One build script for every bundle: the extension (node, cjs, `vscode` external), the webview
// (browser), the `coderoute` CLI (node), plus the tree-sitter `.wasm` files they load at run time
// and the spend panel's packaged stylesheets and icon font.
//   node esbuild.mjs                 development build with source maps
//   node esbuild.mjs --production    minified, no source maps (what `npm run package` ships)
//   node esbuild.mjs --watch         rebuild on change
//   node esbuild.mjs --tests         compile test/ into out/ for mocha and the VS Code host
import * as esbuild from 'esbuild';
import { copyFile, mkdir, readFile, readdir, rm } from 'node:fs/promises';
import * as path from 'node:path';

const args = new Set(process.argv.slice(2));
const production = args.has('--production');
const watch = args.has('--watch');
const root = path.dirname(new URL(import.meta.url).pathname);
const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));

/** Reports each build's errors once, also in watch mode, in a form VS Code's problem matcher reads. */
const reporter = (name) => ({
  name: 'reporter',
  setup(build) {
    build.onEnd((result) => {
      const stamp = new Date().toLocaleTimeString();
      if (result.errors.length) console.error(`[${stamp}] ${name}: ${result.errors.length} error(s)`);
      else if (watch) console.log(`[${stamp}] ${name}: built`);
    });
  },
});

const common = {
  bundle: true,
  minify: production,
  sourcemap: production ? false : 'linked',
  sourcesContent: false,
  logLevel: 'warning',
  legalComments: production ? 'none' : 'inline',
  define: { 'process.env.CODEROUTE_VERSION': JSON.stringify(pkg.version) },
};

/**
 * Node bundles are CommonJS, but web-tree-sitter's ESM build locates its files from
 * `import.meta.url`: give it the bundle's own URL.
 */
const nodeBundle = {
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // jsonc-parser's `main` is a UMD build whose internal requires esbuild cannot follow; its
  // `module` build bundles. Only packages without an `exports` map are affected by this order.
  mainFields: ['module', 'main'],
  define: { ...common.define, 'import.meta.url': '__coderouteBundleUrl' },
  banner: { js: "const __coderouteBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
};

const bundles = [
  {
    ...common,
    ...nodeBundle,
    entryPoints: { extension: 'src/vscode/extension.ts' },
    outdir: 'dist',
    external: ['vscode'],
    plugins: [reporter('extension')],
  },
  {
    ...common,
    entryPoints: { requestsPanel: 'src/webview/requestsPanel/main.ts', spendPanel: 'src/webview/spendPanel/main.ts' },
    outdir: 'dist/webview',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    plugins: [reporter('webview')],
  },
  {
    // The real tokenizer runs in a worker thread, so loading its vocabulary never blocks the host.
    ...common,
    ...nodeBundle,
    entryPoints: { tokenizerWorker: 'src/core/tokens/tokenizerWorker.ts' },
    outdir: 'dist',
    plugins: [reporter('tokenizer worker')],
  },
  {
    ...common,
    ...nodeBundle,
    entryPoints: { cli: 'src/cli/main.ts' },
    outdir: 'dist',
    banner: { js: `#!/usr/bin/env node\n${nodeBundle.banner.js}` },
    plugins: [reporter('cli')],
  },
];

/** Copies the web-tree-sitter runtime and exactly the grammars src/core/classify/grammars.json names. */
async function copyWasm() {
  const out = path.join(root, 'dist', 'wasm');
  await mkdir(out, { recursive: true });
  const grammars = JSON.parse(await readFile(path.join(root, 'src/core/classify/grammars.json'), 'utf8'));
  const files = [...new Set(Object.values(grammars))];
  const grammarDir = path.join(root, 'node_modules/@vscode/tree-sitter-wasm/wasm');
  await copyFile(path.join(root, 'node_modules/web-tree-sitter/tree-sitter.wasm'), path.join(out, 'tree-sitter.wasm'));
  await Promise.all(files.map((file) => copyFile(path.join(grammarDir, file), path.join(out, file))));
}

/** The spend panel's stylesheets that come from packages: uPlot's, and the codicon font with its CSS. */
async function copyWebviewAssets() {
  const out = path.join(root, 'dist', 'webview');
  await mkdir(path.join(out, 'codicons'), { recursive: true });
  const codicons = path.join(root, 'node_modules/@vscode/codicons/dist');
  await Promise.all([
    copyFile(path.join(root, 'node_modules/uplot/dist/uPlot.min.css'), path.join(out, 'uPlot.min.css')),
    copyFile(path.join(codicons, 'codicon.css'), path.join(out, 'codicons', 'codicon.css')),
    copyFile(path.join(codicons, 'codicon.ttf'), path.join(out, 'codicons', 'codicon.ttf')),
    // The icon font is CC BY 4.0: its licence travels with it.
    copyFile(path.join(root, 'node_modules/@vscode/codicons/LICENSE'), path.join(out, 'codicons', 'LICENSE')),
  ]);
}

async function listTs(dir) {
  const entries = await readdir(path.join(root, dir), { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}

async function buildTests() {
  await rm(path.join(root, 'out'), { recursive: true, force: true });
  const entryPoints = (await listTs('test')).filter((f) => !f.startsWith(path.join('test', 'fixtures')));
  await esbuild.build({
    entryPoints,
    outbase: '.',
    outdir: 'out',
    bundle: true,
    // Test bundles keep npm packages and `vscode` as requires: the host provides `vscode`.
    packages: 'external',
    external: ['vscode'],
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
}

if (args.has('--tests')) {
  await buildTests();
} else if (watch) {
  await Promise.all([copyWasm(), copyWebviewAssets()]);
  const contexts = await Promise.all(bundles.map((options) => esbuild.context(options)));
  await Promise.all(contexts.map((context) => context.watch()));
  console.log('watching for changes (Ctrl+C to stop)');
} else {
  await rm(path.join(root, 'dist'), { recursive: true, force: true });
  await Promise.all([...bundles.map((options) => esbuild.build(options)), copyWasm(), copyWebviewAssets()]);
}
