import type { Classification } from '../classify/classification';
import type { DiagnosticInfo, RequestContext } from '../context/requestContext';
import { estimateMessagesTokens, type ChatMessage } from '../providers/chatProvider';
import { inputTokensFrom, messageTexts, type TokenCounter } from '../tokens/tokenCounter';
import { commonIndent } from './codeExtraction';
import { importsOf, type EditTarget, type EditTask } from './editTarget';
import { fencedBlock } from './fence';

export interface EditPromptInput {
  task: EditTask;
  ctx: RequestContext;
  classification: Classification;
  target: EditTarget;
  /** Generate: what the user typed; without it the instruction comment in or above the target is used. */
  instruction?: string;
  /** The model's context window in tokens; without it nothing is trimmed. */
  contextWindow?: number;
  maxOutputTokens: number;
  /** The real tokenizer; without it tokens are estimated from characters (about 4 a token). */
  tokens?: TokenCounter;
}

export interface EditPrompt {
  messages: ChatMessage[];
  /** Input tokens of `messages` as `tokens` counted them; absent when no counter was given. */
  inputTokens?: number;
  /** What was left out to fit the context window, in the order it was dropped; empty when nothing was. */
  trimmed: string[];
  /**
   * The lines the answer replaces: `input.target`, or its first lines when the code had to be cut
   * to fit (Accept must then replace only these).
   */
  target: EditTarget;
}

/** The request cannot fit the model's context window even with the code cut to one line. */
export class PromptTooLargeError extends Error {
  constructor(readonly neededTokens: number, readonly contextWindow: number) {
    super(`The code is too large for the model's context window (${neededTokens} tokens needed, ${contextWindow} available). Select less code.`);
    this.name = 'PromptTooLargeError';
  }
}

/** Lines shown before and after the target so the model sees what the code sits in. */
export const SURROUNDING_LINES = 30;
/** Diagnostics listed for Debug, most relevant (errors, earliest) first. */
const MAX_DIAGNOSTICS = 30;

const ANSWER_RULES =
  'Answer with exactly one fenced code block holding the full replacement for the lines to rewrite, and nothing else: ' +
  'no explanation before or after it. Keep their indentation. Imports and surrounding code are shown for reference ' +
  'only; do not repeat them.';

const SYSTEM_PROMPTS: Record<EditTask, string> = {
  format:
    'You tidy code inside a developer\'s editor: consistent formatting and style, clear names for local variables, ' +
    'type annotations and doc comments where the language uses them. Do not change what the code does, do not rename ' +
    'anything used outside these lines, and change nothing else. ' +
    ANSWER_RULES,
  generate:
    'You write code inside a developer\'s editor. Write what the instruction asks for, in the language and style of the ' +
    'file, using the imports already there where they fit. If the lines start with an instruction comment, keep it as it ' +
    'is and put the code after it. ' +
    ANSWER_RULES,
  debug:
    'You fix bugs inside a developer\'s editor. Use the diagnostics and syntax errors given to find the cause and fix it ' +
    'with the smallest change; keep the rest of the code as it is. ' +
    ANSWER_RULES,
};

/** Which parts of the user message to include. */
interface Parts {
  imports: boolean;
  surrounding: boolean;
  /** Lines of the target to show (and rewrite). */
  targetLines: number;
}

function relevantDiagnostics(diagnostics: readonly DiagnosticInfo[], target: EditTarget): DiagnosticInfo[] {
  const rank = { error: 0, warning: 1, info: 2, hint: 3 };
  return diagnostics
    .filter((d) => (d.severity === 'error' || d.severity === 'warning') && d.range.start.line <= target.endLine && d.range.end.line >= target.startLine)
    .sort((a, b) => rank[a.severity] - rank[b.severity] || a.range.start.line - b.range.start.line)
    .slice(0, MAX_DIAGNOSTICS)
    .sort((a, b) => a.range.start.line - b.range.start.line);
}

function diagnosticsSection(ctx: RequestContext, classification: Classification, target: EditTarget): string {
  const listed = relevantDiagnostics(ctx.diagnostics, target).map((d) => {
    const line = Math.max(1, d.range.start.line - target.startLine + 1);
    // Messages are one line each so a multi-line message cannot pass for prompt structure.
    return `- line ${line}: ${d.severity}${d.source ? ` (${d.source})` : ''}: ${d.message.replace(/\s*\n\s*/g, ' ')}`;
  });
  const errors = classification.features.syntaxErrors;
  return (
    (listed.length > 0
      ? `Diagnostics in these lines (line numbers count from 1 at the first line to rewrite):\n${listed.join('\n')}\n`
      : 'The editor reports no diagnostics in these lines.\n') +
    `The parser found ${errors} syntax error${errors === 1 ? '' : 's'} in this region.`
  );
}

/** The window's lines [first, last] (document lines, clamped to the window), or '' when none. */
function windowText(ctx: RequestContext, first: number, last: number): string {
  const lines = ctx.text.split('\n');
  const from = Math.max(0, first - ctx.textStartLine);
  const to = Math.min(lines.length - 1, last - ctx.textStartLine);
  return from <= to ? lines.slice(from, to + 1).join('\n') : '';
}

/** The target cut to its first `count` lines. */
function cutTarget(target: EditTarget, count: number): EditTarget {
  const lines = target.code.split('\n');
  if (count >= lines.length) return target;
  const code = lines.slice(0, count).join('\n');
  return { ...target, code, endLine: target.startLine + count - 1, indent: commonIndent(code) };
}

function userMessage(input: EditPromptInput, parts: Parts, imports: readonly string[]): { content: string; target: EditTarget } {
  const { ctx, task } = input;
  const full = input.target;
  const target = cutTarget(full, parts.targetLines);
  const sections: string[] = [
    `File \`${ctx.path}\` (${ctx.languageId}). Rewrite lines ${target.startLine + 1}-${target.endLine + 1}.`,
  ];
  // Surrounding code that reaches the top of the file already shows the imports.
  const showsTop = parts.surrounding && ctx.textStartLine === 0 && full.startLine - SURROUNDING_LINES <= 0;
  if (parts.imports && imports.length > 0 && !showsTop) {
    sections.push(`Imports at the top of the file:\n${fencedBlock(imports.join('\n'), ctx.languageId)}`);
  }
  const before = parts.surrounding ? windowText(ctx, full.startLine - SURROUNDING_LINES, full.startLine - 1) : '';
  if (before.trim()) sections.push(`Code just before the lines to rewrite:\n${fencedBlock(before, ctx.languageId)}`);
  if (task === 'debug') sections.push(diagnosticsSection(ctx, input.classification, target));
  if (task === 'generate') {
    const instruction = input.instruction?.trim() || target.instructionComment;
    if (instruction) sections.push(`Instruction:\n${instruction}`);
    if (target.source === 'enclosing-unit') sections.push('Write the body of this signature.');
    else if (target.source === 'cursor-line') sections.push('The cursor is on the last of the lines to rewrite; the new code goes there.');
  }
  const cutNote =
    target === full ? '' : ` (cut to its first ${target.endLine - target.startLine + 1} of ${full.endLine - full.startLine + 1} lines to fit; rewrite only these)`;
  sections.push(`The lines to rewrite${cutNote}:\n${fencedBlock(target.code, ctx.languageId)}`);
  const after = parts.surrounding && target === full ? windowText(ctx, full.endLine + 1, full.endLine + SURROUNDING_LINES) : '';
  if (after.trim()) sections.push(`Code just after the lines to rewrite:\n${fencedBlock(after.trimEnd(), ctx.languageId)}`);
  return { content: sections.join('\n\n'), target };
}

/**
 * The chat messages for Format, Generate or Debug: a system prompt for the task and a user message
 * with the file's language, path, imports, the code around the target, the target in a safe fence,
 * and the task's own context (diagnostics for Debug, the instruction for Generate). When the
 * request would not fit `contextWindow` with room for `maxOutputTokens`, the imports go first,
 * then the surrounding code, then the target is cut to its first lines; `trimmed` says which.
 */
export async function buildEditMessages(input: EditPromptInput): Promise<EditPrompt> {
  const imports = importsOf(input.ctx);
  const targetLines = input.target.code.split('\n').length;
  const build = (parts: Parts) => {
    const user = userMessage(input, parts, imports);
    const messages: ChatMessage[] = [
      { role: 'system', content: SYSTEM_PROMPTS[input.task] },
      { role: 'user', content: user.content },
    ];
    return { messages, target: user.target };
  };
  const measure = async (messages: ChatMessage[]) =>
    input.tokens ? inputTokensFrom(await input.tokens.count(messageTexts(messages))) : estimateMessagesTokens(messages);
  const budget = input.contextWindow === undefined ? Infinity : input.contextWindow - input.maxOutputTokens;
  const attempt = async (parts: Parts) => {
    const built = build(parts);
    const tokens = await measure(built.messages);
    return { ...built, tokens, fits: tokens <= budget };
  };
  const done = (result: { messages: ChatMessage[]; target: EditTarget; tokens: number }, trimmed: string[]): EditPrompt => ({
    messages: result.messages,
    target: result.target,
    trimmed,
    ...(input.tokens ? { inputTokens: result.tokens } : {}),
  });

  const trimmed: string[] = [];
  let parts: Parts = { imports: true, surrounding: true, targetLines };
  let result = await attempt(parts);
  if (result.fits) return done(result, trimmed);
  // A part counts as dropped only when leaving it out changes the message.
  const shows = (part: 'imports' | 'surrounding') =>
    build(parts).messages[1].content !== build({ ...parts, [part]: false }).messages[1].content;
  if (shows('imports')) {
    parts = { ...parts, imports: false };
    trimmed.push(`imports (${imports.length} lines)`);
    result = await attempt(parts);
    if (result.fits) return done(result, trimmed);
  }
  if (shows('surrounding')) {
    parts = { ...parts, surrounding: false };
    trimmed.push('surrounding code');
    result = await attempt(parts);
    if (result.fits) return done(result, trimmed);
  }
  // The most lines of the target that fit, by bisection: each try is one count.
  let lo = 0;
  let hi = targetLines - 1;
  let best: typeof result | undefined;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const tried = await attempt({ ...parts, targetLines: mid });
    if (tried.fits) {
      best = tried;
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  if (!best) throw new PromptTooLargeError(result.tokens + input.maxOutputTokens, input.contextWindow ?? 0);
  trimmed.push(`target code (first ${lo} of ${targetLines} lines kept)`);
  return done(best, trimmed);
}
