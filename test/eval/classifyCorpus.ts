import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Node, Tree } from 'web-tree-sitter';
import type { ClassifiedTask, ClassifyMode } from '../../src/core/classify/classification';
import { COMMAND_TASKS, INLINE_KINDS } from '../../src/core/classify/classification';
import { Classifier } from '../../src/core/classify/classifier';
import { inspectInput } from '../../src/core/classify/inputGuards';
import { FUNCTION_KINDS, isCommentKind, isInterpolationKind, isStringKind } from '../../src/core/classify/nodeKinds';
import { TreeSitterLoader } from '../../src/core/classify/treeSitterLoader';
import type { RequestContext, TextPosition } from '../../src/core/context/requestContext';
import { silentLogger } from '../../src/core/log/logger';
import { REPO_ROOT } from '../host/testResults';
import { seededRandom } from '../support/realSources';
import { SOURCE_PACKAGES, type SourcePackage } from './evalSources';
import { bareSignature, bodyNode, emptiedBody, lineStartOf, placeholderBody } from './unfinishedCode';

/**
 * Evaluates the classifier on real code nobody here wrote: source files that ship with npm and
 * Debian packages on this machine. Scenarios are generated from them with a seeded generator, each
 * labelled by construction (emptied body → generate / complete-block, broken syntax → debug, a
 * selected function → explain, a scrambled function → format, a cut line → complete-line, cursor in
 * a comment → complete-comment, cursor in a string → none). Code people leave unfinished makes more
 * (placeholder bodies, bare signatures: see unfinishedCode.ts). Prints, for the held-out packages,
 * the tuning ones and all, per-class precision, recall, F1, macro-F1, the confusion matrices and
 * each family's share right per language. Run: npm run eval:classify [-- --seed N --per-package N
 * --language L --mistakes [--dump DIR]]
 */

// ---- seeded randomness -------------------------------------------------------------------------


// ---- scenarios ---------------------------------------------------------------------------------

interface Case {
  language: string;
  /** The source package, and whether it is held out from tuning. */
  pkg: string;
  heldOut: boolean;
  file: string;
  kind: string;
  mode: ClassifyMode;
  expected: ClassifiedTask;
  text: string;
  selection: { start: number; end: number; active: number };
}

function positionAt(text: string, offset: number): TextPosition {
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, character: offset - (before.lastIndexOf('\n') + 1) };
}

function leaves(node: Node): Node[] {
  const out: Node[] = [];
  const visit = (n: Node) => {
    if (n.childCount === 0 || isStringKind(n.type) || isCommentKind(n.type)) out.push(n);
    else for (const c of n.children) if (c) visit(c);
  };
  visit(node);
  return out;
}

const INDENT_SENSITIVE = new Set(['python']);
// Spaces between tokens change what Ruby and shell code means (`foo (a)`, `x -1`): only indentation is scrambled there.
const SPACING_SENSITIVE = new Set(['shellscript', 'ruby']);

/** Lines around a candidate function that must parse cleanly: the grammar may lag the language. */
const CLEAN_MARGIN_LINES = 30;

function errorRowsOf(tree: Tree): [number, number][] {
  const rows: [number, number][] = [];
  const visit = (n: Node) => {
    if (n.isError || n.isMissing) rows.push([n.startPosition.row, n.endPosition.row]);
    else if (n.hasError) for (const c of n.children) if (c) visit(c);
  };
  visit(tree.rootNode);
  return rows;
}

/**
 * Candidate functions: a body of 2+ statements, 4-60 lines, and no syntax error in or near them in
 * the original file, so that the label each scenario gets is the only thing wrong with it.
 */
function functionsIn(tree: Tree): Node[] {
  const out: Node[] = [];
  const errorRows = errorRowsOf(tree);
  const clean = (n: Node) =>
    !errorRows.some(([from, to]) => to >= n.startPosition.row - CLEAN_MARGIN_LINES && from <= n.endPosition.row + CLEAN_MARGIN_LINES);
  const visit = (n: Node) => {
    if (FUNCTION_KINDS.has(n.type) && clean(n)) {
      const body = bodyNode(n);
      const lines = n.endPosition.row - n.startPosition.row + 1;
      if (body && body.namedChildCount >= 2 && lines >= 4 && lines <= 60) out.push(n);
    }
    for (const c of n.namedChildren) if (c) visit(c);
  };
  visit(tree.rootNode);
  return out;
}

function scramble(text: string, fn: Node, language: string, random: () => number): string | undefined {
  const start = lineStartOf(text, fn.startIndex);
  const region = text.slice(start, fn.endIndex);
  const fnLeaves = leaves(fn);
  // Spacing: extra spaces at some token boundaries on the same line (never inside strings or comments).
  const inserts: number[] = [];
  if (!SPACING_SENSITIVE.has(language)) {
    for (let i = 1; i < fnLeaves.length; i++) {
      const a = fnLeaves[i - 1];
      const b = fnLeaves[i];
      if (a.endPosition.row === b.startPosition.row && random() < 0.35) inserts.push(b.startIndex);
    }
  }
  let out = text.slice(0, start);
  let cursor = start;
  for (const at of inserts) {
    out += text.slice(cursor, at) + ' '.repeat(1 + Math.floor(random() * 3));
    cursor = at;
  }
  out += text.slice(cursor, fn.endIndex);
  let scrambledRegion = out.slice(start);
  if (!INDENT_SENSITIVE.has(language)) {
    scrambledRegion = scrambledRegion
      .split('\n')
      .map((line, i) => (i === 0 || !line.trim() ? line : ' '.repeat(Math.floor(random() * 13)) + line.trimStart()))
      .join('\n');
  }
  if (scrambledRegion === region) return undefined;
  return text.slice(0, start) + scrambledRegion + text.slice(fn.endIndex);
}

function breakSyntax(text: string, fn: Node, random: () => number): { text: string; cursor: number } | undefined {
  const body = bodyNode(fn);
  if (!body) return undefined;
  const candidates = leaves(body).filter((l) => [')', ']', '}', '(', ':', 'then', 'fi', 'done', '{'].includes(l.type) && l.startIndex > body.startIndex && l.endIndex < body.endIndex);
  if (candidates.length === 0) return undefined;
  const victim = candidates[Math.floor(random() * candidates.length)];
  const broken = text.slice(0, victim.startIndex) + text.slice(victim.endIndex);
  // The cursor goes on another line of the function, as when the user asks to fix it.
  const cursor = Math.min(fn.startIndex + Math.floor(random() * (fn.endIndex - fn.startIndex - 1)), broken.length - 1);
  return { text: broken, cursor };
}

function cutLine(text: string, fn: Node, random: () => number): { text: string; cursor: number } | undefined {
  const body = bodyNode(fn);
  if (!body) return undefined;
  const byRow = new Map<number, Node[]>();
  for (const leaf of leaves(body)) {
    if (leaf.startPosition.row !== leaf.endPosition.row) continue;
    const row = byRow.get(leaf.startPosition.row) ?? [];
    row.push(leaf);
    byRow.set(leaf.startPosition.row, row);
  }
  const rows = [...byRow.values()].filter(
    (r) => r.length >= 4 && !r.some((l) => isCommentKind(l.type)) && r[0].startPosition.row > body.startPosition.row && !['}', ')', 'end'].includes(r[0].type),
  );
  if (rows.length === 0) return undefined;
  const row = rows[Math.floor(random() * rows.length)];
  const k = 1 + Math.floor(random() * (row.length - 2));
  const cut = row[k - 1].endIndex;
  if (['{', ':', '(', '['].includes(row[k - 1].type) && k === row.length - 1) return undefined;
  const lineEnd = text.indexOf('\n', cut);
  return { text: text.slice(0, cut) + text.slice(lineEnd === -1 ? text.length : lineEnd), cursor: cut };
}

function commentsIn(tree: Tree): Node[] {
  const out: Node[] = [];
  const visit = (n: Node) => {
    if (isCommentKind(n.type) && n.text.split(/\s+/).length >= 4 && !/^(#!|\/\/\s*@ts-|\/\*\s*eslint|#\s*-\*-)/.test(n.text)) out.push(n);
    else for (const c of n.children) if (c) visit(c);
  };
  visit(tree.rootNode);
  return out;
}

function stringsIn(tree: Tree, text: string): Node[] {
  const out: Node[] = [];
  const visit = (n: Node) => {
    if (isStringKind(n.type)) {
      const hasCode = n.namedChildren.some((c) => c && isInterpolationKind(c.type));
      const statement = n.parent;
      const docstring = statement?.type === 'expression_statement' && statement.parent?.firstNamedChild?.id === statement.id;
      if (!hasCode && !docstring && n.endIndex - n.startIndex >= 6 && n.startPosition.row === n.endPosition.row && !text.slice(n.startIndex, n.endIndex).includes('\\')) out.push(n);
      return;
    }
    for (const c of n.children) if (c) visit(c);
  };
  visit(tree.rootNode);
  return out;
}

async function generateCases(loader: TreeSitterLoader, source: SourcePackage, perPackage: number, random: () => number): Promise<Case[]> {
  const cases: Case[] = [];
  const files = source.files();
  const functionTarget = Math.ceil(perPackage / 8);
  let functionsUsed = 0;
  let comments = 0;
  let strings = 0;
  const commentTarget = Math.ceil(perPackage / 8);
  // Files are visited in a seeded order so every run of the same seed sees the same cases.
  const order = files.map((f) => ({ f, k: random() })).sort((a, b) => a.k - b.k).map((x) => x.f);
  for (const file of order) {
    if (functionsUsed >= functionTarget && comments >= commentTarget && strings >= commentTarget) break;
    const text = readFileSync(file, 'utf8');
    // A file that says it is generated gets no completions by design: its cases would be mislabelled.
    if (text.includes('\u0000') || inspectInput(text, text.split('\n', 30).join('\n')).generated) continue;
    if (process.env.EVAL_TRACE) console.error(`generate from ${file}`);
    const parsed = await loader.parse(source.language, text, { timeCapMs: 2000 });
    if (!parsed) continue;
    const { tree } = parsed;
    try {
      const add = (kind: string, mode: ClassifyMode, expected: ClassifiedTask, t: string, start: number, end: number, active = end) =>
        cases.push({ language: source.language, pkg: source.name, heldOut: source.heldOut, file, kind, mode, expected, text: t, selection: { start, end, active } });
      const addUnfinished = (kind: string, made: { text: string; cursor: number } | undefined) => {
        if (!made) return;
        add(kind, 'auto', 'generate', made.text, made.cursor, made.cursor);
        add(kind, 'inline', 'complete-block', made.text, made.cursor, made.cursor);
      };
      const fns = functionsIn(tree)
        .map((n) => ({ n, k: random() }))
        .sort((a, b) => a.k - b.k)
        .slice(0, 3)
        .map((x) => x.n);
      for (const fn of fns) {
        if (functionsUsed >= functionTarget) break;
        functionsUsed++;
        add('select-function', 'auto', 'explain', text, fn.startIndex, fn.endIndex);
        const scrambled = scramble(text, fn, source.language, random);
        if (scrambled) {
          const start = lineStartOf(text, fn.startIndex);
          const end = start + (scrambled.length - text.length) + (fn.endIndex - start);
          add('scramble-function', 'auto', 'format', scrambled, start, end);
        }
        addUnfinished('empty-body', emptiedBody(text, fn, source.language));
        addUnfinished('placeholder-below', placeholderBody(text, fn, source.language, 'below', random));
        addUnfinished('placeholder-eol', placeholderBody(text, fn, source.language, 'eol', random));
        addUnfinished('signature-below', bareSignature(text, fn, source.language, 'below'));
        addUnfinished('signature-eol', bareSignature(text, fn, source.language, 'eol'));
        const broken = breakSyntax(text, fn, random);
        if (broken) add('break-syntax', 'auto', 'debug', broken.text, broken.cursor, broken.cursor);
        const cut = cutLine(text, fn, random);
        if (cut) add('cut-line', 'inline', 'complete-line', cut.text, cut.cursor, cut.cursor);
      }
      for (const comment of commentsIn(tree).sort(() => random() - 0.5).slice(0, 2)) {
        if (comments >= commentTarget) break;
        const body = comment.text;
        const spaces = [...body.matchAll(/\s/g)].map((m) => m.index ?? 0).filter((i) => i > 2 && i < body.length - 2);
        if (spaces.length === 0) continue;
        const at = comment.startIndex + spaces[Math.floor(random() * spaces.length)];
        comments++;
        add('in-comment', 'inline', 'complete-comment', text, at, at);
      }
      for (const str of stringsIn(tree, text).sort(() => random() - 0.5).slice(0, 2)) {
        if (strings >= commentTarget) break;
        const at = str.startIndex + 2 + Math.floor(random() * (str.endIndex - str.startIndex - 3));
        strings++;
        add('in-string', 'inline', 'none', text, at, at);
      }
    } finally {
      tree.delete();
    }
  }
  return cases;
}

// ---- scoring -----------------------------------------------------------------------------------

interface Scores {
  rows: { label: string; precision: number; recall: number; f1: number; support: number }[];
  macroF1: number;
  matrix: Map<string, Map<string, number>>;
  total: number;
  correct: number;
}

function score(pairs: { expected: string; actual: string }[], labels: readonly string[]): Scores {
  const matrix = new Map<string, Map<string, number>>();
  for (const { expected, actual } of pairs) {
    const row = matrix.get(expected) ?? new Map<string, number>();
    row.set(actual, (row.get(actual) ?? 0) + 1);
    matrix.set(expected, row);
  }
  const rows = labels
    .filter((label) => pairs.some((p) => p.expected === label))
    .map((label) => {
      const tp = pairs.filter((p) => p.expected === label && p.actual === label).length;
      const predicted = pairs.filter((p) => p.actual === label).length;
      const support = pairs.filter((p) => p.expected === label).length;
      const precision = predicted ? tp / predicted : 0;
      const recall = support ? tp / support : 0;
      const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
      return { label, precision, recall, f1, support };
    });
  return {
    rows,
    macroF1: rows.reduce((s, r) => s + r.f1, 0) / Math.max(1, rows.length),
    matrix,
    total: pairs.length,
    correct: pairs.filter((p) => p.expected === p.actual).length,
  };
}

function printScores(title: string, s: Scores, labels: readonly string[]): void {
  const pct = (x: number) => (x * 100).toFixed(1).padStart(6);
  console.log(`\n${title}: ${s.total} cases, accuracy ${pct(s.correct / Math.max(1, s.total))}%, macro-F1 ${s.macroF1.toFixed(3)}`);
  console.log(`  ${'class'.padEnd(18)} ${'precision'.padStart(9)} ${'recall'.padStart(9)} ${'F1'.padStart(9)} ${'support'.padStart(8)}`);
  for (const r of s.rows) {
    console.log(`  ${r.label.padEnd(18)} ${pct(r.precision).padStart(9)} ${pct(r.recall).padStart(9)} ${pct(r.f1).padStart(9)} ${String(r.support).padStart(8)}`);
  }
  const actualLabels = [...new Set([...labels, ...[...s.matrix.values()].flatMap((row) => [...row.keys()])])];
  console.log(`  confusion (rows: expected, columns: predicted)`);
  console.log(`  ${''.padEnd(18)}${actualLabels.map((l) => l.slice(0, 10).padStart(11)).join('')}`);
  for (const [expected, row] of s.matrix) {
    console.log(`  ${expected.padEnd(18)}${actualLabels.map((l) => String(row.get(l) ?? 0).padStart(11)).join('')}`);
  }
}

type Result = { c: Case; actual: ClassifiedTask; reason: string };

const pairsOf = (rs: Result[], mode: 'auto' | 'inline') => rs.filter((r) => r.c.mode === mode).map((r) => ({ expected: r.c.expected, actual: r.actual }));

/** Commands and inline scores of one part of the corpus, by language, and each family's accuracy by language. */
function report(title: string, rs: Result[], detailed: boolean): void {
  if (rs.length === 0) return;
  console.log(`\n==== ${title}: ${rs.length} cases from ${new Set(rs.map((r) => r.c.pkg)).size} packages in ${new Set(rs.map((r) => r.c.language)).size} languages`);
  const commands = score(pairsOf(rs, 'auto'), COMMAND_TASKS);
  const inline = score(pairsOf(rs, 'inline'), INLINE_KINDS);
  console.log(`${title}: commands macro-F1 ${commands.macroF1.toFixed(3)}, inline macro-F1 ${inline.macroF1.toFixed(3)}`);
  if (detailed) {
    printScores(`${title}, commands (automatic action)`, commands, COMMAND_TASKS);
    printScores(`${title}, inline completion kinds`, inline, INLINE_KINDS);
  }
  const languages = [...new Set(rs.map((r) => r.c.language))];
  const short = (l: string) => (l === 'typescriptreact' ? 'tsx' : l === 'shellscript' ? 'shell' : l === 'javascript' ? 'js' : l === 'typescript' ? 'ts' : l).slice(0, 7);
  console.log(`\n${title}: macro-F1 by language (commands / inline)`);
  for (const language of languages) {
    const mine = rs.filter((r) => r.c.language === language);
    console.log(`  ${language.padEnd(16)} ${score(pairsOf(mine, 'auto'), COMMAND_TASKS).macroF1.toFixed(3)} / ${score(pairsOf(mine, 'inline'), INLINE_KINDS).macroF1.toFixed(3)}   (${mine.length} cases)`);
  }
  console.log(`\n${title}: share right per family (scenario) and language; * marks a cell below 0.90, () fewer than 5 cases`);
  const families = [...new Set(rs.map((r) => `${r.c.kind} ${r.c.mode === 'auto' ? 'auto' : 'inline'}`))].sort();
  console.log(`  ${'family'.padEnd(26)}${languages.map((l) => short(l).padStart(8)).join('')}     all`);
  let worst = { share: 1, where: '' };
  for (const family of families) {
    const cells = languages.map((language) => {
      const mine = rs.filter((r) => r.c.language === language && `${r.c.kind} ${r.c.mode === 'auto' ? 'auto' : 'inline'}` === family);
      if (mine.length === 0) return '-'.padStart(8);
      const share = mine.filter((r) => r.actual === r.c.expected).length / mine.length;
      if (mine.length >= 5 && share < worst.share) worst = { share, where: `${family} in ${language}` };
      const cell = share.toFixed(2) + (share < 0.9 ? '*' : ' ');
      return (mine.length < 5 ? `(${cell.trim()})` : cell).padStart(8);
    });
    const all = rs.filter((r) => `${r.c.kind} ${r.c.mode === 'auto' ? 'auto' : 'inline'}` === family);
    console.log(`  ${family.padEnd(26)}${cells.join('')}  ${(all.filter((r) => r.actual === r.c.expected).length / all.length).toFixed(2)} (${all.length})`);
  }
  console.log(`${title}: lowest family ${worst.share.toFixed(2)} (${worst.where || 'none'})`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (name: string, fallback: number) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const seed = arg('seed', 20261128);
  const perPackage = arg('per-package', 320);
  const showMistakes = args.includes('--mistakes');
  // Held-out mistakes stay hidden unless asked: nothing is tuned by looking at them.
  const showHeldOut = args.includes('--held-out-mistakes');
  const only = args.includes('--language') ? args[args.indexOf('--language') + 1] : undefined;
  const loader = new TreeSitterLoader(path.join(REPO_ROOT, 'dist', 'wasm'), silentLogger);
  // A generous parse cap: the figures measure the classifier, not how busy this machine is (bench:classify does that).
  const classifier = new Classifier(loader, silentLogger, { backgroundParse: false, parseTimeCapMs: 2000 });
  const results: Result[] = [];
  for (const source of SOURCE_PACKAGES) {
    if (only && source.language !== only) continue;
    // Each package has its own stream of randomness, so that its cases do not change when another's do.
    const random = seededRandom(seed ^ [...source.name].reduce((h, ch) => (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0, 7));
    const cases = await generateCases(loader, source, perPackage, random);
    if (cases.length === 0) {
      console.log(`${source.language} / ${source.name}: no source files found (bash test/eval/install-sources.sh installs them); skipped`);
      continue;
    }
    for (const c of cases) {
      const ctx: RequestContext = {
        requestId: 'eval',
        languageId: c.language,
        path: c.file,
        text: c.text,
        textStartLine: 0,
        headerText: c.text.split('\n', 30).join('\n'),
        selection: {
          start: positionAt(c.text, c.selection.start),
          end: positionAt(c.text, c.selection.end),
          active: positionAt(c.text, c.selection.active),
        },
        diagnostics: [],
        workspaceTrusted: true,
      };
      if (process.env.EVAL_TRACE) console.error(`${c.language} ${c.kind} ${c.file} ${c.text.length}`);
      const result = await classifier.classify(ctx, c.mode);
      results.push({ c, actual: result.task, reason: result.reason });
    }
    const ok = cases.length ? results.slice(-cases.length).filter((r) => r.actual === r.c.expected).length : 0;
    console.log(`${source.language.padEnd(16)} ${source.heldOut ? 'held out' : 'tuning  '} ${String(cases.length).padStart(5)} cases from ${new Set(cases.map((c) => c.file)).size} files of ${source.name}, ${((ok / cases.length) * 100).toFixed(1)}% right`);
  }
  classifier.dispose();
  loader.dispose();

  console.log(`\nseed ${seed}; ${results.length} cases`);
  report('HELD OUT', results.filter((r) => r.c.heldOut), true);
  report('TUNING', results.filter((r) => !r.c.heldOut), false);
  report('ALL', results, true);
  if (showMistakes) {
    console.log(`\nMistakes${showHeldOut ? '' : ' (tuning packages only)'}:`);
    const wrong = results.filter((x) => x.actual !== x.c.expected && (showHeldOut || !x.c.heldOut));
    const shown = [...new Set(wrong.map((r) => r.c.language))].flatMap((l) => wrong.filter((r) => r.c.language === l).slice(0, 25));
    const dump = args.includes('--dump') ? args[args.indexOf('--dump') + 1] : undefined;
    if (dump) mkdirSync(dump, { recursive: true });
    for (const [i, r] of shown.entries()) {
      const p = positionAt(r.c.text, r.c.selection.active);
      console.log(`  ${r.c.language} ${r.c.kind} expected ${r.c.expected} got ${r.actual} at ${r.c.file}:${p.line + 1}:${p.character + 1} — ${r.reason}${dump ? ` [${i}]` : ''}`);
      // The case's text with the cursor marked, to rerun with `coderoute classify`.
      if (dump) writeFileSync(path.join(dump, `${i}.${r.c.language}.txt`), r.c.text.slice(0, r.c.selection.active) + '\u2588' + r.c.text.slice(r.c.selection.active));
    }
  }
}

void main();
