/**
 * Classifies a request from VS Code's Chat view (Ask, Edit or Agent mode) from its messages: which
 * task it is, how hard, and the evidence. Rules, not a model: every decision is deterministic and
 * its reason names what decided it.
 *
 * The messages arrive as VS Code's chat rendered them. Copilot Chat wraps the typed request in
 * `<userRequest>` and surrounds it with host boilerplate (`<context>`, `<editorContext>`,
 * `<reminderInstructions>`, `<workspace_info>` …) and attachments (`<attachment filePath="…">`).
 * The boilerplate is skipped everywhere here: its words ("Do NOT create a new markdown file…") are
 * not the user's, and `<editorContext>` names the active file on every request, so it says nothing
 * about whether the request is about that file.
 */
import { COMMAND_TASKS, type Classification, type CommandTask } from '../classify/classification';
import type { ChatMessage } from '../providers/chatProvider';

export type ChatTask = CommandTask | 'chat' | 'agent';

export interface ChatEditorContext {
  /** Workspace-relative path of the active editor, `/`-separated, and its file name's languageId. */
  path: string;
  languageId: string;
  /** The selected text (empty when nothing is selected). */
  selectionText: string;
  /** The tree-sitter classification of the editor at its cursor/selection in 'auto' mode (task is a CommandTask). */
  classification: Pick<Classification, 'task' | 'difficulty' | 'reason' | 'features'>;
}

export interface ChatRequestInput {
  messages: readonly ChatMessage[];
  /** How many tools the request offers the model. */
  toolCount: number;
  /** The active editor, when there is one (the classifier decides whether the request is about it). */
  editor?: ChatEditorContext;
}

export interface ChatClassification {
  task: ChatTask;
  /** 0..1 */
  difficulty: number;
  /** One line a user can read, naming the evidence. */
  reason: string;
  /** The last user instruction's text (tool results excluded), trimmed. */
  instruction: string;
  /** Assistant turns with tool calls since the last user turn that had text of its own (i.e. rounds of this agent turn). */
  toolRounds: number;
  /** Characters of code the messages carry (fenced blocks, and attachment-like blocks). */
  codeChars: number;
  /** Error evidence: stack traces, compiler/linter error lines, "error:" / "Exception" / "Traceback" lines in the messages. */
  errorsMentioned: number;
  /** Paths/URIs of files the messages reference or carry, de-duplicated, in order of appearance. */
  referencedPaths: string[];
  /** Whether the request is about the active editor. */
  aboutActiveEditor: boolean;
  /** Context facts for the learner's buckets: tools, rounds, errors, code. */
  features: [string, string][];
}

// ---------------------------------------------------------------------------------------------
// Limits. Messages can be 100k+ characters (attached files, pasted logs); everything below is one
// linear pass, and the heuristic scans look only at each message's head and tail.

/** Bare paths and Markdown links are looked for in the first and the last this many characters of a text. */
export const PATH_SCAN_CHARS = 20_000;
/** Error evidence is looked for in the first and the last this many characters of each message. */
const ERROR_SCAN_CHARS = 20_000;
/** Intent rules read this much of the instruction's prose, from its start and its end. */
const INTENT_SCAN_CHARS = 2_000;
/** Lines longer than this are cut before the error patterns read them. */
const MAX_LINE_CHARS = 500;
/** A token longer than this is not taken for a path. */
const MAX_PATH_CHARS = 500;
/** Selection text shorter than this (non-space characters) is too common to identify the editor. */
const MIN_SELECTION_CHARS = 20;
/** At most this many pieces of the selection are looked for in the messages. */
const MAX_SELECTION_PIECES = 20;

// ---------------------------------------------------------------------------------------------
// Difficulty. Base by task (as `difficultyOf` for editor commands), plus saturating terms; each
// term grows with its input and none can pass its weight, so the sum is monotone and bounded.

const BASE_DIFFICULTY: Record<ChatTask, number> = {
  format: 0.1,
  explain: 0.2,
  chat: 0.2,
  generate: 0.35,
  debug: 0.35,
  agent: 0.4,
};
/** Code size on a log scale: 100 chars ≈ 0.1 of the weight, 1k ≈ 0.35, 10k ≈ 0.67, 100k+ = all of it. */
const CODE_WEIGHT = 0.25;
const CODE_FULL_LOG10 = 3;
const ERROR_WEIGHT = 0.15;
const ROUND_WEIGHT = 0.2;
const TURN_WEIGHT = 0.1;
/** Share of the editor classification's difficulty when the request is about the active editor. */
const EDITOR_WEIGHT = 0.4;

/** Code above this many characters is `large` in the learner's buckets. */
const LARGE_CODE_CHARS = 2_000;

/** x / (1 + x): grows with x, never reaches 1. */
const soft = (x: number) => x / (1 + x);

// ---------------------------------------------------------------------------------------------
// Blocks in the messages.

/** Host boilerplate Copilot Chat and other clients put around the user's request. */
const CONTEXT_TAGS = new Set([
  'context',
  'editorContext',
  'environment_info',
  'workspace_info',
  'reminderInstructions',
  'userMemory',
  'sessionMemory',
  'repoMemory',
  'memoryInstructions',
  'toolReferences',
  'todoList',
  'instructions',
  'custom_instructions',
]);
/** Blocks that carry a file (or part of one): their content is code, their attributes name the file. */
const ATTACHMENT_TAGS = new Set(['attachment', 'file']);

interface Attachment {
  /** The opening tag's attributes (`filePath="…"`). */
  attributes: string;
  inner: string;
}

interface Unwrapped {
  /** The text without context blocks and attachments. */
  text: string;
  attachments: Attachment[];
}

const OPENING_TAG = /<([A-Za-z_][\w-]*)(?=[\s>])([^<>]{0,2000})>/g;

/**
 * Removes context blocks and attachments. One pass over opening tags; a tag whose closing tag is
 * missing stays as text, and is remembered so that later ones of its kind do not search again.
 */
function unwrap(content: string): Unwrapped {
  const attachments: Attachment[] = [];
  const unclosed = new Set<string>();
  let text = '';
  let last = 0;
  OPENING_TAG.lastIndex = 0;
  for (let m = OPENING_TAG.exec(content); m; m = OPENING_TAG.exec(content)) {
    const tag = m[1];
    const isContext = CONTEXT_TAGS.has(tag);
    if ((!isContext && !ATTACHMENT_TAGS.has(tag)) || unclosed.has(tag) || m[2].endsWith('/')) continue;
    const innerStart = m.index + m[0].length;
    const close = content.indexOf(`</${tag}>`, innerStart);
    if (close === -1) {
      unclosed.add(tag);
      continue;
    }
    text += content.slice(last, m.index);
    if (!isContext) attachments.push({ attributes: m[2], inner: content.slice(innerStart, close) });
    last = close + tag.length + 3;
    OPENING_TAG.lastIndex = last;
  }
  text += content.slice(last);
  return { text: text.replace(/<\/?attachments>/g, ''), attachments };
}

/** What the user typed: Copilot's `<userRequest>` when there is one, else the text around the blocks. */
function requestText(content: string, unwrapped: Unwrapped): string {
  const open = content.lastIndexOf('<userRequest>');
  const close = open === -1 ? -1 : content.indexOf('</userRequest>', open);
  return (close === -1 ? unwrapped.text : content.slice(open + '<userRequest>'.length, close)).trim();
}

interface Fenced {
  /** The text with fenced blocks taken out. */
  prose: string;
  codeChars: number;
}

const OPENING_FENCE = /^ {0,3}(`{3,}|~{3,})/;

/** Splits Markdown fenced blocks from the prose around them; an unclosed fence runs to the end. */
function splitFences(text: string): Fenced {
  const prose: string[] = [];
  let codeChars = 0;
  let fence: string | undefined;
  for (const line of text.split('\n')) {
    if (fence === undefined) {
      const open = OPENING_FENCE.exec(line);
      if (open) fence = open[1];
      else prose.push(line);
      continue;
    }
    const t = line.trim();
    if (t.length >= fence.length && t[0] === fence[0] && /^(`+|~+)$/.test(t)) fence = undefined;
    else codeChars += line.length + 1;
  }
  return { prose: prose.join('\n'), codeChars };
}

/** An attachment's content as code: its characters without fence lines and surrounding blank lines. */
function attachmentCodeChars(inner: string): number {
  const { prose, codeChars } = splitFences(inner);
  return codeChars + prose.trim().length;
}

interface Part {
  text: string;
  /** Where `text` starts in the whole. */
  offset: number;
}

/** The first and the last `cap` characters of `text` (all of it when short), cut at whitespace. */
function headAndTailParts(text: string, cap: number): Part[] {
  if (text.length <= 2 * cap) return [{ text, offset: 0 }];
  let head = text.slice(0, cap);
  let tailStart = text.length - cap;
  // Cut inside the last / first run of whitespace near the cut so that no token is cut in two.
  const headCut = Math.max(head.lastIndexOf('\n'), head.lastIndexOf(' '));
  if (headCut > cap - 1000) head = head.slice(0, headCut);
  const tailCut = text.slice(tailStart, tailStart + 1000).search(/\s/);
  if (tailCut !== -1) tailStart += tailCut;
  return [
    { text: head, offset: 0 },
    { text: text.slice(tailStart), offset: tailStart },
  ];
}

function headAndTail(text: string, cap: number): string {
  return headAndTailParts(text, cap)
    .map((p) => p.text)
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// Referenced paths.

/** Extensions a bare file name (no folder) must have to count: code and config files, not `e.g.` or `example.com`. */
const BARE_NAME_EXTENSIONS = new Set(
  (
    'ts tsx mts cts js jsx mjs cjs py pyi ipynb go rs java kt kts scala c h cc cpp cxx hpp hh cs fs vb rb php swift ' +
    'dart lua jl ex exs erl hs ml mli clj zig nim sh bash zsh ps1 bat cmd sql json jsonc yaml yml toml ini cfg conf ' +
    'xml html htm css scss sass less vue svelte astro md mdx rst txt csv tf proto graphql gql gradle lock env'
  ).split(' '),
);
/** Library names written like files ("Node.js"), never meant as one. */
const NOT_FILES = new Set(['node.js', 'vue.js', 'next.js', 'nuxt.js', 'three.js', 'd3.js', 'chart.js', 'express.js', 'ember.js', 'backbone.js', 'angular.js', 'react.js', 'moment.js', 'p5.js', 'pixi.js', 'babylon.js', 'alpine.js', 'solid.js', 'preact.js', 'nest.js', 'deno.js']);

const PATH_SHAPE = /^(?:[A-Za-z]:[\\/]|~[\\/]|\.{1,2}[\\/]|[\\/])?(?:[\w@+~.-]+[\\/])*[\w@+~-][\w@+~.-]*\.[A-Za-z][A-Za-z0-9]{0,9}$/;

/** A token read as a file path, with a trailing `:line:col` or `#L10-L12` dropped; undefined when it is none. */
function pathOfToken(raw: string): string | undefined {
  if (raw.length > MAX_PATH_CHARS + 20) return undefined;
  let t = raw.replace(/^file:(?!\/\/)/, '').replace(/[.,;:!?]+$/, '');
  t = t.replace(/(?::\d+){1,2}$/, '').replace(/#L\d+(?:-L?\d+)?$/, '');
  if (t.length === 0 || t.length > MAX_PATH_CHARS || t.includes('://') || !PATH_SHAPE.test(t)) return undefined;
  const slash = /[\\/]/.exec(t);
  if (!slash) {
    const extension = t.slice(t.lastIndexOf('.') + 1).toLowerCase();
    return BARE_NAME_EXTENSIONS.has(extension) && !NOT_FILES.has(t.toLowerCase()) ? t : undefined;
  }
  // "example.com/a.html": a first folder with a dot in its name is a host, unless it is `.vscode`-like.
  const first = t.slice(0, slash.index);
  if (first.includes('.') && !first.startsWith('.') && !/^[A-Za-z]:$/.test(first)) return undefined;
  return t;
}

function decoded(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** A URI or link target as a path: `file://` URIs decoded, other schemes (http, mailto, vscode…) refused. */
function pathOfTarget(target: string): string | undefined {
  const t = target.replace(/^<|>$/g, '');
  if (t.startsWith('file://')) return decoded(t.slice('file://'.length).replace(/[?#].*$/, '')) || undefined;
  if (t.length === 0 || t.startsWith('#') || /^[A-Za-z][\w+.-]*:(?![\\/])/.test(t) || /^[A-Za-z][\w+.-]+:\/\//.test(t)) return undefined;
  const path = decoded(t.replace(/[?#].*$/, ''));
  return path.length > 0 && path.length <= MAX_PATH_CHARS ? path : undefined;
}

const FILE_URI = /\bfile:\/\/[^\s"'<>)\]`]{1,2000}/g;
const HASH_FILE = /#file:([^\s"'`<>()[\]{},;|]{1,1000})/g;
const PATH_ATTRIBUTE = /\b(?:filePath|path|fsPath|uri|file)\s*=\s*(?:"([^"\n]{1,1000})"|'([^'\n]{1,1000})')/g;
const PATH_JSON_KEY = /"(?:filePath|file_path|filepath|path|fsPath|uri|file|filename|target_file)"\s*:\s*"((?:[^"\\\n]|\\.){1,1000})"/g;
const MARKDOWN_LINK = /\]\(([^()\s]{1,1000})\)/g;
const TOKEN = /[^\s"'`<>()[\]{},;|*]+/g;

/**
 * Referenced file paths and URIs in `text`, de-duplicated, in order of appearance: `file://` URIs
 * (the path after `file://`, percent-decoded), `#file:` references, `filePath="…"` / `path="…"`
 * attributes and their JSON forms (`"filePath": "…"`, as in tool calls), Markdown link targets,
 * and bare paths with an extension (`src/a.ts`, `./a.py`, `/home/x/y.go`, `C:\x\y.cs`, `utils.py`).
 * URLs with other schemes, version numbers and abbreviations are not paths. A bare file name that
 * is the last segment of a longer path found too is dropped as the same file.
 *
 * The explicit forms (URIs, `#file:`, attributes) are found in all of `text`; bare paths and
 * Markdown links only in its first and last {@link PATH_SCAN_CHARS} characters.
 */
export function referencedPathsIn(text: string): string[] {
  const found: Array<{ at: number; path: string }> = [];
  const add = (at: number, path: string | undefined) => {
    if (path !== undefined && path.length > 0) found.push({ at, path });
  };
  for (const m of text.matchAll(FILE_URI)) add(m.index, pathOfTarget(m[0].replace(/[.,;:!?]+$/, '')));
  for (const m of text.matchAll(HASH_FILE)) add(m.index, decoded(m[1].replace(/[.,;!?]+$/, '').replace(/:\d+(?:-\d+)?$/, '')));
  for (const m of text.matchAll(PATH_ATTRIBUTE)) add(m.index, pathOfTarget(m[1] ?? m[2]));
  for (const m of text.matchAll(PATH_JSON_KEY)) add(m.index, pathOfTarget(m[1].replace(/\\(.)/g, '$1')));
  for (const part of headAndTailParts(text, PATH_SCAN_CHARS)) {
    for (const m of part.text.matchAll(MARKDOWN_LINK)) add(part.offset + m.index, pathOfTarget(m[1]));
    for (const m of part.text.matchAll(TOKEN)) {
      if (!m[0].includes('://') && !m[0].startsWith('#file:')) add(part.offset + m.index, pathOfToken(m[0]));
    }
  }
  found.sort((a, b) => a.at - b.at);
  return withoutBareDuplicates(found.map((f) => f.path));
}

/** De-duplicated, and without bare file names that are the last segment of a longer path in the list. */
function withoutBareDuplicates(paths: readonly string[]): string[] {
  const unique = [...new Set(paths)];
  const hasFolder = (p: string) => /[\\/]/.test(p);
  const lastSegments = new Set(unique.filter(hasFolder).map(baseName));
  return unique.filter((p) => hasFolder(p) || !lastSegments.has(p));
}

function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}

/** A path for comparison: `/`-separated, without a leading `./`, the drive letter in lower case. */
function normalPath(path: string): string {
  return path
    .replace(/\\/g, '/')
    .replace(/^\.\//, '')
    .replace(/^\/?([A-Za-z]):\//, (_, drive: string) => `${drive.toLowerCase()}:/`);
}

/** Whether `path` (absolute, relative, partial or a bare name) names the workspace-relative `editorPath`. */
function namesFile(path: string, editorPath: string): boolean {
  const p = normalPath(path);
  const e = normalPath(editorPath);
  if (p === e || p.endsWith(`/${e}`)) return true;
  return p.includes('/') ? e.endsWith(`/${p}`) : p === baseName(e);
}

// ---------------------------------------------------------------------------------------------
// Error evidence.

interface ErrorEvidence {
  /** Stack traces (a Python traceback, a JS/Java exception with its frames). */
  traces: number;
  /** Compiler and linter error lines (tsc, gcc/clang, rustc, mypy, eslint, go). */
  compiler: number;
  /** Other error lines: an exception without frames, `error:` lines, failed tests. */
  other: number;
}

const total = (e: ErrorEvidence) => e.traces + e.compiler + e.other;

const TRACEBACK_HEADER = /^\s*Traceback \(most recent call last\)/;
const FRAME = /^\s*File "[^"]*", line \d+|^\s+at\s+\S.*(?:\)|:\d+)\s*$|^\s+\S+\.go:\d+|^npm ERR!/;
const EXCEPTION_LINE =
  /^(?:E\s+)?\s*(?:Uncaught\s+|Unhandled\s+|Caused by:\s+|Exception in thread "[^"]*"\s+)?(?:[A-Za-z_$][\w$]*\.)*[A-Z][\w$]*(?:Error|Exception|Fault)(?::|\s*$)|^Exception in thread\b|^thread '[^']*' panicked at|^panic:\s/;
const COMPILER_LINE =
  /\berror\s+TS\d+\b|^\s*\S+?[:(]\d+(?:[:,]\d+)?\)?:?\s*(?:-\s*)?(?:fatal\s+)?error\b|^\s*\d+:\d+\s+error\s|^error\[E\d+\]:|^\s*\S+\.go:\d+:\d+:\s|\berror\s+CS\d+:/i;
const ERROR_LINE = /(?:^|[\s(>])(?:[Ee]rror|ERROR|[Ee]xception)(?:\s+message)?:\s+\S|^\s*\[?(?:ERROR|FATAL)\]?[\s:]|^FAILED\s+\S|\bSegmentation fault\b/;
/** Lines that end like code (`error: null,`), not like a message. */
const CODE_LINE_END = /[,{[(;]\s*$/;

/**
 * Error evidence in a text, counted per error: a stack trace counts once with its frames and its
 * exception line; compiler and other error lines count each.
 */
function errorEvidence(text: string): ErrorEvidence {
  const evidence: ErrorEvidence = { traces: 0, compiler: 0, other: 0 };
  // The open trace: whether it has frames, and whether it still awaits its exception line (Python).
  let open: { frames: boolean; awaiting: boolean } | undefined;
  const close = () => {
    if (open) {
      if (open.frames) evidence.traces++;
      else evidence.other++;
    }
    open = undefined;
  };
  for (const raw of headAndTail(text, ERROR_SCAN_CHARS).split('\n')) {
    const line = raw.length > MAX_LINE_CHARS ? raw.slice(0, MAX_LINE_CHARS) : raw;
    if (line.trim().length === 0) continue;
    if (TRACEBACK_HEADER.test(line)) {
      close();
      open = { frames: true, awaiting: true };
    } else if (FRAME.test(line)) {
      if (open) open.frames = true;
      else open = { frames: true, awaiting: false };
    } else if (COMPILER_LINE.test(line)) {
      close();
      evidence.compiler++;
    } else if (EXCEPTION_LINE.test(line)) {
      if (open?.awaiting) open.awaiting = false;
      else {
        close();
        open = { frames: false, awaiting: false };
      }
    } else if (ERROR_LINE.test(line) && !CODE_LINE_END.test(line)) {
      close();
      evidence.other++;
    } else if (!(open && /^\s/.test(line))) {
      // Indented lines inside a trace are its source lines and carets; anything else ends it.
      close();
    }
  }
  close();
  return evidence;
}

function describeErrors(e: ErrorEvidence): string {
  const n = (count: number, one: string, many: string) => (count === 1 ? one : `${count} ${many}`);
  if (e.traces > 0) return n(e.traces, 'a stack trace', 'stack traces');
  if (e.compiler > 0) return n(e.compiler, 'a compiler error', 'compiler errors');
  return n(e.other, 'an error message', 'error messages');
}

// ---------------------------------------------------------------------------------------------
// Intent of the instruction. Rules on the lower-cased prose (fenced code out, inline code and
// paths replaced by placeholders, so that `fix()` or `add.ts` decide nothing).

interface Rule {
  re: RegExp;
  /** How the reason names a match; the matched words when absent. */
  label?: string;
}

const r = (re: RegExp, label?: string): Rule => ({ re, label });

/** Format: a request to lay out code, not to change it. Checked first; its words are then blanked. */
const FORMAT_RULES: Rule[] = [
  r(/\b(?:re-?)?format(?:ting)?\s+(?:this|that|it|the|my|these|those|all|code|file|selection|function|class|method|json|sql|html|css|yaml)\b/),
  r(/^\W*(?:please\s+|can you\s+|could you\s+)?(?:re-?)?format\b/, 'format'),
  r(/\b(?:fix|correct|clean\s+up|tidy(?:\s+up)?|normali[sz]e|fix\s+up)\s+(?:the\s+|this\s+|my\s+|its\s+)?(?:indent\w*|formatting|whitespace|spacing|layout|line\s+breaks)\b/),
  r(/\b(?:re-?indent\w*|indent(?:ation)?|prettier|prettify|pretty[- ]print|beautify|rustfmt|gofmt|clang-format|autopep8|black\s+format\w*)\b/),
  r(/\b(?:bad|messy|wrong|broken|inconsistent|off)\s+(?:indent\w*|formatting|spacing)\b|\bthe\s+formatting\b/),
];

/** Debug, strong: a request to fix, or a report that something misbehaves. */
const DEBUG_RULES: Rule[] = [
  r(/\b(?:fix(?:es|ed|ing)?|debug(?:ging)?|repair|troubleshoot|diagnose)\b/),
  r(/\bresolve\s+(?:this|the|these|my)\s+(?:error|issue|problem|warning|exception|conflict)s?\b/, 'resolve the error'),
  r(/\bmake\s+(?:it|this|them)\s+work\b|\bget\s+(?:it|this)\s+(?:to\s+)?work(?:ing)?\b/, 'make it work'),
  r(/\b(?:doesn't|does not|don't|do not|isn't|is not|aren't|are not|won't|will not|can't|cannot|not|never)\s+(?:work|working|compile|compiling|run|running|build|building|load|loading|start|pass|passing)\b/, "doesn't work"),
  r(/\bwhy\b[^.?!\n]{0,80}?(?:\bnot\b|n't\b|\bnever\b)/, 'why … not'),
  r(/\bwhat(?:'s| is)\s+wrong\b/, "what's wrong"),
  r(/\b(?:bugs?|buggy|broken|breaks|fails?|failing|failed|failure|crash(?:es|ed|ing)?|throws|thrown|segfaults?|segmentation fault|panic(?:s|ked|king)?|hangs|freezes|deadlocks?|regression|flaky|wrong|incorrect|unexpected(?:ly)?)\b/),
];

const EXPLAIN_RULES: Rule[] = [
  r(/\bexplain\w*\b|\bexplanation\b/),
  r(/\bwhat\s+(?:does|do|did|is|are)\b[^.?!\n]{0,80}?\b(?:do|does|doing|mean|means|return|returns|for)\b/, 'what does … do'),
  r(/\bwhat(?:'s| is| are)\s+(?:this|that|these|those|it|going on|happening)\b/, 'what is this'),
  r(/\bhow\s+(?:does|do|did|is|are)\b[^.?!\n]{0,80}?\bwork(?:s|ing)?\b/, 'how does … work'),
  r(/\bwalk\s+(?:me\s+)?through\b/, 'walk me through'),
  r(/\b(?:help\s+me\s+)?understand\b|\bdescribe\b|\bsummar(?:y|i[sz]e)\b|\breview\b|\beli5\b/),
  r(/\btell\s+me\s+(?:about|what|how|why)\b|\b(?:purpose|meaning)\s+of\b|\bwhat\s+happens\b/),
  r(/\bwhy\s+(?:does|do|did|is|are|would|was)\b/, 'why does …'),
];

/** Generate, including refactoring: both ask for new or changed code and take the same edit path. */
const GENERATE_RULES: Rule[] = [
  r(/\b(?:write|implement|create|generate|scaffold|refactor|rewrite|re-write|convert|translate|migrate|optimi[sz]e|simplify|rename|stub)\b/),
  r(/\badd(?:ing)?\s+(?:a|an|the|some|more|new|support|error|logging|tests?|types?|type\s+hints|comments?|docs?|documentation|docstrings?|jsdoc|validation|handling|unit|retr(?:y|ies)|caching|methods?|functions?|fields?|buttons?|endpoints?|options?|parameters?|arguments?)\b/, 'add a …'),
  r(/\bmake\s+(?:a|an|me|it|this|the|that)\b/, 'make a …'),
  r(/\b(?:unit\s+)?tests?\s+for\b/, 'tests for'),
  r(/\b(?:complete|finish|extract|port|document)\s+(?:this|the|that|it|my)\b/),
  r(/\bspeed\s+up\b|\bclean\s+up\b|\bimprove\b|\b(?:update|change|modify)\s+(?:this|the|it|that)\b/),
  // Only as a request for changed code ("make it faster", "a faster version"): "which is faster, A or B?" is a question.
  r(/\b(?:make|be|run|get)\b[^.?!\n]{0,30}?\b(?:faster|quicker|more\s+(?:efficient|readable|idiomatic|performant|robust))\b|\b(?:faster|quicker|more\s+(?:efficient|readable|idiomatic|performant))\s+(?:version|variant|implementation|way)\b/, 'make it faster'),
  // An imperative that asks for behaviour ("throw an error if x is null", "handle the empty case").
  r(/^\W*(?:please\s+)?(?:throw|raise|return|log|print|handle|validate|sort|filter|parse|use|support|allow|accept|remove|delete|replace|move|split|merge|wrap|memoi[sz]e|cache)\b/),
];

/** Error words with no fix word: debug only when nothing else decides ("add error handling" is generate). */
const ERROR_WORD = r(/\b(?:errors?|exceptions?|warnings?|traceback|stack\s*traces?|stacktrace)\b/);

/** The instruction points at the editor. */
const DEICTIC =
  /\b(?:this|these|that|current|selected|highlighted|open)\s+(?:code|function|method|class|file|snippet|line|lines|block|component|module|selection|test|loop|query|script|type|interface|variable|regex|expression|statement|section|part|hook|struct|enum|program|implementation)s?\b|\bhere\b|\bthe\s+(?:selection|selected|highlighted|current\s+file|open\s+file|active\s+(?:file|editor))\b|\bselected\b|\b(?:at|under|near)\s+(?:the|my)\s+cursor\b|\b(?:this|these)\b(?!\s+(?:keyword|morning|afternoon|evening|week|year|month|time)\b)/;

/** Words that carry no request of their own ("help", "look at this", "thoughts?"). */
const FILLER = new Set(
  'help please pls plz look at this that these it here check see can could you me with any thoughts ideas ok okay hmm hm so and now again what ? the a on'.split(' '),
);

interface RuleMatch {
  at: number;
  label: string;
}

function firstMatch(rules: readonly Rule[], text: string): RuleMatch | undefined {
  let best: RuleMatch | undefined;
  for (const rule of rules) {
    const m = rule.re.exec(text);
    if (m && (!best || m.index < best.at)) best = { at: m.index, label: rule.label ?? m[0].trim() };
  }
  return best;
}

function blanked(rules: readonly Rule[], text: string): string {
  return rules.reduce((t, rule) => t.replace(new RegExp(rule.re.source, 'g'), (m) => ' '.repeat(m.length)), text);
}

/** The instruction's prose for the intent rules: lower case, code and paths out, head and tail only. */
function intentProse(instruction: string): string {
  const prose = headAndTail(splitFences(instruction).prose, INTENT_SCAN_CHARS)
    .replace(/`[^`\n]{0,500}`/g, ' code ')
    .replace(/#file:\S+|\bfile:\/\/\S+/g, ' file ')
    .replace(/[^\s()[\]"'<>,;]+/g, (token) => (pathOfToken(token) === undefined ? token : ' file '))
    .replace(/[\u2018\u2019]/g, "'");
  return prose.toLowerCase();
}

interface Intent {
  task: CommandTask;
  /** The evidence, for the reason: `the message says "fix"`. */
  why: string;
}

/**
 * The task the instruction asks for, or undefined when its words decide nothing. In order:
 * 1. fix or failure words → debug ("fix", "crashes", "doesn't work", "why … not"); format phrases
 *    are taken out first, so "fix the indentation" is not one;
 * 2. a quoted error (stack trace, compiler output) → debug, except an explain phrase with no
 *    generate word ("explain this error: …") → explain: the user wants the error understood, not
 *    the code changed;
 * 3. format, explain or generate words → whichever comes first ("write a comment explaining …" is
 *    generate, "explain, then refactor" is explain);
 * 4. an error word alone ("I get an error") → debug ("add error handling" was generate at 3).
 */
function intentOf(prose: string, quoted: ErrorEvidence): Intent | undefined {
  const says = (m: RuleMatch) => `the message says "${m.label}"`;
  const format = firstMatch(FORMAT_RULES, prose);
  const rest = format ? blanked(FORMAT_RULES, prose) : prose;
  const debug = firstMatch(DEBUG_RULES, rest);
  if (debug) return { task: 'debug', why: says(debug) };
  const explain = firstMatch(EXPLAIN_RULES, rest);
  const generate = firstMatch(GENERATE_RULES, rest);
  if (total(quoted) > 0) {
    if (explain && !generate) return { task: 'explain', why: `${says(explain)} and quotes ${describeErrors(quoted)}, but asks no fix` };
    return { task: 'debug', why: `the message quotes ${describeErrors(quoted)}` };
  }
  const candidates: Array<[CommandTask, RuleMatch | undefined]> = [
    ['format', format],
    ['explain', explain],
    ['generate', generate],
  ];
  let best: [CommandTask, RuleMatch] | undefined;
  for (const [task, m] of candidates) if (m && (!best || m.at < best[1].at)) best = [task, m];
  if (best) return { task: best[0], why: says(best[1]) };
  const errorWord = firstMatch([ERROR_WORD], rest);
  return errorWord ? { task: 'debug', why: says(errorWord) } : undefined;
}

/** Whether the prose is too thin to ask anything by itself ("this?", "help", "look at this"). */
function isVague(prose: string): boolean {
  const words = prose.replace(/[^\w'?]+/g, ' ').replace(/\?/g, ' ? ').split(/\s+/).filter((w) => w.length > 0 && w !== '?');
  return words.length <= 2 || words.every((w) => FILLER.has(w));
}

// ---------------------------------------------------------------------------------------------
// The active editor.

const collapsed = (text: string) => text.replace(/\s+/g, ' ');

/** Pieces of the selection, each at least {@link MIN_SELECTION_CHARS} non-space characters, line-aligned. */
function selectionPieces(selection: string): string[] {
  const pieces: string[] = [];
  let piece = '';
  for (const line of selection.split('\n')) {
    piece = piece ? `${piece}\n${line}` : line;
    if (piece.replace(/\s/g, '').length >= MIN_SELECTION_CHARS) {
      pieces.push(collapsed(piece).trim());
      piece = '';
      if (pieces.length >= MAX_SELECTION_PIECES) break;
    }
  }
  return pieces;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The user messages of the current turn, boilerplate out. */
interface TurnText {
  /** Their text and the content of their attachments. */
  text: string;
  /** Paths anywhere in them (attachments by their attributes). */
  paths: string[];
  /** Paths outside code: in their prose and their attachments' attributes (not in a pasted trace). */
  prosePaths: string[];
}

interface EditorEvidence {
  about: boolean;
  /** The instruction itself points at the editor (deictic, its file named, its selection quoted). */
  pointed: boolean;
}

/**
 * About the active editor: the turn's user messages name its file (a path or its file name as a
 * word), or carry a piece of its selection, or the instruction uses a deictic ("this function",
 * "here", "the selection") and names no other file.
 */
function editorEvidence(editor: ChatEditorContext, turn: TurnText, instruction: string, prose: string): EditorEvidence {
  const name = baseName(normalPath(editor.path));
  const nameAsWord = new RegExp(`(?<![\\w./\\\\-])${escapeRegExp(name)}(?![\\w/\\\\-]|\\.\\w)`);
  const names = (text: string, paths: readonly string[]) => paths.some((p) => namesFile(p, editor.path)) || (name.length > 0 && nameAsWord.test(text));
  const pieces = selectionPieces(editor.selectionText);
  const carries = (text: string) => {
    if (pieces.length === 0) return false;
    const flat = collapsed(text);
    return pieces.some((p) => flat.includes(p));
  };
  const otherFile = turn.prosePaths.some((p) => !namesFile(p, editor.path));
  const deictic = DEICTIC.test(prose) && !otherFile;
  const namedInTurn = names(turn.text, turn.paths);
  const carriedInTurn = carries(turn.text);
  const pointed = deictic || names(instruction, referencedPathsIn(instruction)) || carries(instruction);
  return { about: namedInTurn || carriedInTurn || deictic, pointed };
}

// ---------------------------------------------------------------------------------------------
// The classifier.

function roundsBucket(rounds: number): string {
  if (rounds <= 1) return String(rounds);
  return rounds <= 4 ? '2-4' : '5+';
}

function codeBucket(chars: number): string {
  if (chars === 0) return 'none';
  return chars < LARGE_CODE_CHARS ? 'small' : 'large';
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

interface Scanned {
  unwrapped: Unwrapped;
  /** What the user typed, for user messages (empty when the message carries only boilerplate or tool results). */
  request: string;
  codeChars: number;
  errors: ErrorEvidence;
  paths: string[];
}

const attachmentTag = (a: Attachment) => `<attachment ${a.attributes}>`;

function sumErrors(all: readonly ErrorEvidence[]): ErrorEvidence {
  return all.reduce((a, b) => ({ traces: a.traces + b.traces, compiler: a.compiler + b.compiler, other: a.other + b.other }), { traces: 0, compiler: 0, other: 0 });
}

/** Code, errors and paths a message carries (host boilerplate skipped), and the request it types. */
function scanMessage(message: ChatMessage): Scanned {
  const unwrapped = unwrap(message.content);
  const results = (message.toolResults ?? []).map((t) => t.content);
  const calls = (message.toolCalls ?? []).map((c) => JSON.stringify(c.input));
  let codeChars = splitFences(unwrapped.text).codeChars;
  for (const t of results) codeChars += splitFences(t).codeChars;
  for (const a of unwrapped.attachments) codeChars += attachmentCodeChars(a.inner);
  const errors = sumErrors([unwrapped.text, ...unwrapped.attachments.map((a) => a.inner), ...results].map(errorEvidence));
  const paths = [unwrapped.text, ...unwrapped.attachments.map(attachmentTag), ...calls, ...results].flatMap(referencedPathsIn);
  return { unwrapped, request: message.role === 'user' ? requestText(message.content, unwrapped) : '', codeChars, errors, paths };
}

function turnTextOf(scans: readonly Scanned[]): TurnText {
  const text = scans.map((s) => [s.unwrapped.text, ...s.unwrapped.attachments.map((a) => a.inner)].join('\n')).join('\n');
  const paths = withoutBareDuplicates(scans.flatMap((s) => [s.unwrapped.text, ...s.unwrapped.attachments.map(attachmentTag)].flatMap(referencedPathsIn)));
  const prosePaths = withoutBareDuplicates(
    scans.flatMap((s) => [splitFences(s.unwrapped.text).prose, ...s.unwrapped.attachments.map(attachmentTag)].flatMap(referencedPathsIn)),
  );
  return { text, paths, prosePaths };
}

/** Classifies a chat request (see the file comment); pure and deterministic. */
export function classifyChatRequest(input: ChatRequestInput): ChatClassification {
  const { messages, toolCount, editor } = input;
  const conversation = messages.filter((m) => m.role !== 'system');
  const scans = conversation.map(scanMessage);

  // The instruction: the last user message with text of its own (boilerplate and tool results aside).
  let instructionIndex = -1;
  let priorTurns = 0;
  scans.forEach((scan, i) => {
    if (scan.request.length === 0) return;
    if (instructionIndex !== -1) priorTurns++;
    instructionIndex = i;
  });
  const instruction = instructionIndex === -1 ? '' : scans[instructionIndex].request;
  // The turn: the instruction, the context-only user messages just before it, and all after it.
  let turnStart = Math.max(0, instructionIndex);
  while (turnStart > 0 && conversation[turnStart - 1].role === 'user') turnStart--;
  const fromInstruction = conversation.slice(Math.max(0, instructionIndex));
  const toolRounds = conversation.slice(instructionIndex + 1).filter((m) => m.role === 'assistant' && (m.toolCalls?.length ?? 0) > 0).length;
  const turnHasTools = fromInstruction.some((m) => (m.toolCalls?.length ?? 0) > 0 || (m.toolResults?.length ?? 0) > 0);

  const codeChars = scans.reduce((sum, s) => sum + s.codeChars, 0);
  const errorsMentioned = scans.reduce((sum, s) => sum + total(s.errors), 0);
  const referencedPaths = withoutBareDuplicates(scans.flatMap((s) => s.paths));

  const quoted = instructionIndex === -1 ? sumErrors([]) : scans[instructionIndex].errors;
  const prose = intentProse(instruction);
  const intent = intentOf(prose, quoted);

  let about: EditorEvidence = { about: false, pointed: false };
  if (editor) {
    const turnFrom = instructionIndex === -1 ? 0 : turnStart;
    const userTurn = scans.filter((_, i) => i >= turnFrom && conversation[i].role === 'user');
    about = editorEvidence(editor, turnTextOf(userTurn), instruction, prose);
  }

  let task: ChatTask;
  let reason: string;
  let fromEditor = false;
  // VS Code's chat offers tools with every request, in Ask mode too: a question ("explain …", or one
  // with no task words and not about the editor) stays a question, answered by the models for it, which
  // may still call the tools offered; the next round (with the results) is then an agent turn.
  const editorDecides = !intent && !!editor && about.about && (about.pointed || isVague(prose));
  const question = toolCount > 0 && !turnHasTools && (intent ? intent.task === 'explain' : !editorDecides);
  if (question) {
    task = intent ? intent.task : 'chat';
    reason = `${intent ? `${task}: ${intent.why}` : 'chat: a general question (no task words)'}; ${plural(toolCount, 'tool')} offered, but the message asks a question`;
  } else if (toolCount > 0 || turnHasTools) {
    task = 'agent';
    const offered = toolCount > 0 ? `${plural(toolCount, 'tool')} offered` : 'the turn carries tool calls or results';
    const parts = [`${offered}, ${plural(toolRounds, 'tool round')} so far`];
    if (errorsMentioned > 0) parts.push(`${plural(errorsMentioned, 'error')} in the messages`);
    if (intent) parts.push(`asks to ${intent.task} (${intent.why})`);
    reason = `agent: ${parts.join('; ')}`;
  } else if (intent) {
    task = intent.task;
    reason = `${task}: ${intent.why}`;
  } else if (editor && editorDecides) {
    const editorTask = editor.classification.task;
    task = (COMMAND_TASKS as readonly string[]).includes(editorTask) ? (editorTask as CommandTask) : 'explain';
    reason = `${task}: the message decides nothing; at the cursor: ${editor.classification.reason}`;
    fromEditor = true;
  } else {
    task = 'chat';
    reason = instruction.length === 0 ? 'chat: no instruction to read' : `chat: a general question (no task words${about.about ? '' : ', not about the active editor'})`;
  }
  if (task !== 'agent' && about.about && !fromEditor) reason += '; about the active editor';

  const score =
    BASE_DIFFICULTY[task] +
    CODE_WEIGHT * Math.min(1, Math.log10(1 + codeChars / 100) / CODE_FULL_LOG10) +
    ERROR_WEIGHT * soft(errorsMentioned / 2) +
    ROUND_WEIGHT * soft(toolRounds / 4) +
    TURN_WEIGHT * soft(priorTurns / 4);
  const blended = editor && about.about ? (1 - EDITOR_WEIGHT) * score + EDITOR_WEIGHT * editor.classification.difficulty : score;
  const difficulty = Math.round(Math.min(1, Math.max(0, blended)) * 100) / 100;

  return {
    task,
    difficulty,
    reason,
    instruction,
    toolRounds,
    codeChars,
    errorsMentioned,
    referencedPaths,
    aboutActiveEditor: about.about,
    features: [
      ['tools', toolCount > 0 ? 'yes' : 'no'],
      ['rounds', roundsBucket(toolRounds)],
      ['errors', errorsMentioned > 0 ? 'yes' : 'no'],
      ['code', codeBucket(codeChars)],
    ],
  };
}
