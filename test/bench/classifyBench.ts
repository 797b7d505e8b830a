import { readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ClassifyMode } from '../../src/core/classify/classification';
import { Classifier } from '../../src/core/classify/classifier';
import { TreeSitterLoader } from '../../src/core/classify/treeSitterLoader';
import type { RequestContext } from '../../src/core/context/requestContext';
import { silentLogger } from '../../src/core/log/logger';
import { REPO_ROOT } from '../host/testResults';
import { pythonStdlib, seededRandom } from '../support/realSources';
import { mb, ms, percentile } from './figures';

/**
 * npm run bench:classify — classification speed and memory on real files (~150 KB and ~1.5 MB of
 * TypeScript and Python that ship with npm and Python packages), plus pathological inputs.
 * Prints p50 / p95 / p99, the longest the event loop was blocked, and heap / wasm memory.
 * Wall-clock figures depend on the machine; the ratios to a full parse of the same file, measured
 * in the same process, are the comparable numbers.
 */

const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));

function filesUnder(dir: string, ext: string, recursive: boolean): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    const stat = statSync(full);
    if (stat.isDirectory()) {
      if (recursive) out.push(...filesUnder(full, ext, recursive));
    } else if (name.endsWith(ext) && !name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** Real source files joined (in a fixed order) until the text reaches `size` characters. */
function realText(files: string[], size: number): { text: string; from: string } {
  let text = '';
  let used = 0;
  for (const file of files) {
    if (text.length >= size) break;
    text += `${readFileSync(file, 'utf8')}\n`;
    used++;
  }
  return { text, from: `${used} file(s) under ${path.dirname(files[0])}` };
}

function context(languageId: string, docPath: string, text: string, line: number, character: number): RequestContext {
  const p = { line, character };
  return {
    requestId: 'bench',
    languageId,
    path: docPath,
    text,
    textStartLine: 0,
    headerText: text.slice(0, 2000),
    selection: { start: p, end: p, active: p },
    diagnostics: [],
    workspaceTrusted: true,
  };
}

function randomPositions(text: string, count: number, random: () => number): { line: number; character: number }[] {
  const lines = text.split('\n');
  return Array.from({ length: count }, () => {
    const line = Math.floor(random() * lines.length);
    return { line, character: Math.floor(random() * (lines[line].length + 1)) };
  });
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

async function benchFile(loader: TreeSitterLoader, languageId: string, label: string, text: string, from: string): Promise<void> {
  const random = seededRandom(text.length);
  console.log(`\n== ${label}: ${(text.length / 1024).toFixed(0)} KB, ${text.split('\n').length} lines (${from})`);

  // Baseline in this process: one full parse of the file, the cost a naive classifier pays per request.
  const fullParse = await loader.parse(languageId, text, { timeCapMs: 60_000 });
  const baseline = fullParse?.parseMs ?? NaN;
  fullParse?.tree.delete();
  console.log(`baseline: full parse of the file ${ms(baseline)}`);

  // First request on a newly opened file (grammar loaded): every request is a new document.
  const first: number[] = [];
  for (const [i, p] of randomPositions(text, 20, random).entries()) {
    const classifier = new Classifier(loader, silentLogger, { backgroundParse: false });
    const [, t] = await timed(() => classifier.classify(context(languageId, `new-${i}`, text, p.line, p.character), 'inline'));
    first.push(t);
    classifier.dispose();
  }
  console.log(`first request on a newly opened file: p50 ${ms(percentile(first, 50))}, p95 ${ms(percentile(first, 95))}, max ${ms(Math.max(...first))} (${(percentile(first, 95) / baseline).toFixed(2)}x a full parse)`);

  // Repeated requests on the same open document, at many positions: the inline-completion case.
  // The event loop gets a turn between requests, as it does between keystrokes.
  const classifier = new Classifier(loader, silentLogger);
  const modes: ClassifyMode[] = ['inline', 'inline', 'inline', 'auto'];
  const repeated: number[] = [];
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  for (const [i, p] of randomPositions(text, 2000, random).entries()) {
    const [r, t] = await timed(() => classifier.classify(context(languageId, 'open.doc', text, p.line, p.character), modes[i % modes.length]));
    repeated.push(t);
    if (process.env.BENCH_TRACE && t > 3) console.log(`slow ${i} ${t.toFixed(1)} parse=${r.timings.parseMs} ${modes[i % modes.length]} ${r.reason}`);
    await yieldToLoop();
  }
  loop.disable();
  console.log(
    `repeated requests, same document, 2000 positions: p50 ${ms(percentile(repeated, 50))}, p95 ${ms(percentile(repeated, 95))}, p99 ${ms(percentile(repeated, 99))} (p95 = ${(percentile(repeated, 95) / baseline).toFixed(3)}x a full parse); event loop blocked at most ${ms(loop.max / 1e6)}`,
  );

  // Typing: 2000 single-character edits with a request after each; memory must stay flat. The
  // statement typed is ordinary code of the language, on new lines indented like the code there.
  let line = Math.floor(text.split('\n').length / 2);
  let current = text;
  const indent = /^[ \t]*/.exec(current.split('\n')[line])?.[0] ?? '';
  const phrase = languageId === 'python' ? 'total = sum(item.price for item in items if item.active)' : 'const total = items.reduce((sum, item) => sum + item.price, 0);';
  const typed: number[] = [];
  const samples: { at: number; heap: number; wasm: number }[] = [];
  for (let i = 0; i < 2000; i++) {
    const column = i % (phrase.length + 1);
    const all = current.split('\n');
    if (column === 0) all.splice(line, 0, indent);
    if (column === phrase.length) line++;
    else all[line] = `${all[line]}${phrase[column]}`;
    current = all.join('\n');
    const [r, t] = await timed(() => classifier.classify(context(languageId, 'open.doc', current, line, indent.length + column + 1), 'inline'));
    typed.push(t);
    if (process.env.BENCH_TRACE && i % 100 === 0) console.log(`typed ${i} ${t.toFixed(1)} parse=${r.timings.parseMs} ${r.reason}`);
    await yieldToLoop();
    if (i % 500 === 0 || i === 1999) {
      global.gc?.();
      const m = process.memoryUsage();
      samples.push({ at: i + 1, heap: m.heapUsed, wasm: loader.wasmMemoryBytes() });
    }
  }
  console.log(`typing, 2000 edits with a request after each: p50 ${ms(percentile(typed, 50))}, p95 ${ms(percentile(typed, 95))}, p99 ${ms(percentile(typed, 99))}`);
  console.log(`  memory (JS heap / tree-sitter wasm) after request: ${samples.map((s) => `${s.at}: ${mb(s.heap)} / ${mb(s.wasm)}`).join(', ')}`);
  classifier.dispose();
}

async function pathological(loader: TreeSitterLoader): Promise<void> {
  console.log('\n== pathological inputs (each call is timed whole: it is the longest the thread is blocked)');
  const classifier = new Classifier(loader, silentLogger, { backgroundParse: false });
  const random = seededRandom(5);
  const binary = Array.from({ length: 1_000_000 }, () => String.fromCharCode(Math.floor(random() * 256))).join('');
  const cases: [string, string, string, number, number][] = [
    ['20,000 unclosed parentheses', 'javascript', `const x = ${'('.repeat(20_000)}\n`, 0, 20_010],
    ['5 MB single line', 'javascript', `var a=[${'1,'.repeat(2_500_000)}];`, 0, 2_500_000],
    ['1 MB binary file', 'typescript', binary, 0, 10],
    ['4 MB of deeply nested braces', 'typescript', `${'{'.repeat(2_000_000)}${'}'.repeat(2_000_000)}`, 0, 1_000_000],
  ];
  for (const [label, languageId, text, line, character] of cases) {
    const results: number[] = [];
    let reason = '';
    for (const mode of ['inline', 'auto'] as const) {
      const [r, t] = await timed(() => classifier.classify(context(languageId, label, text, line, character), mode));
      results.push(t);
      reason = r.reason;
    }
    console.log(`${label}: ${ms(Math.max(...results))} at most — ${reason}`);
  }
  classifier.dispose();
}

async function main(): Promise<void> {
  const loader = new TreeSitterLoader(path.join(REPO_ROOT, 'dist', 'wasm'), silentLogger);
  console.log(`node ${process.version}; run with --expose-gc for exact memory figures (npm run bench:classify does)`);
  for (const languageId of ['typescript', 'python', 'javascript']) {
    const [, t] = await timed(() => loader.parse(languageId, 'x'));
    console.log(`grammar load ${languageId}: ${ms(t)}`);
  }
  const tsFiles = filesUnder(path.join(REPO_ROOT, 'node_modules'), '.ts', true).filter((f) => !f.includes(`${path.sep}test`));
  const pyFiles = filesUnder(pythonStdlib(), '.py', false);
  const ts150 = realText(tsFiles, 150_000);
  const ts1500 = realText(tsFiles, 1_500_000);
  const py150 = realText(pyFiles.filter((f) => f.endsWith('turtle.py')), 140_000);
  const py1500 = realText(pyFiles, 1_500_000);
  await benchFile(loader, 'typescript', 'TypeScript ~150 KB', ts150.text, ts150.from);
  await benchFile(loader, 'typescript', 'TypeScript ~1.5 MB', ts1500.text, ts1500.from);
  await benchFile(loader, 'python', 'Python ~150 KB', py150.text, py150.from);
  await benchFile(loader, 'python', 'Python ~1.5 MB', py1500.text, py1500.from);
  await pathological(loader);
  console.log(`\npeak memory of the whole run: RSS ${mb(process.resourceUsage().maxRSS * 1024)}, tree-sitter wasm ${mb(loader.wasmMemoryBytes())} (wasm memory only grows)`);
  loader.dispose();
}

void main();
