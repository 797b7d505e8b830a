import type { ClassifiedTask, ClassifyMode, Features } from './classification';

export interface Decision {
  task: ClassifiedTask;
  confidence: number;
  /** What decided, in a few words (the classifier adds the context). */
  why: string;
}

/** Share of irregular lines above which a well-formed selection is taken as a request to tidy it. */
export const FORMAT_IRREGULARITY_THRESHOLD = 0.4;

function describeErrors(f: Features): string {
  const parts: string[] = [];
  if (f.syntaxErrors) parts.push(`${f.syntaxErrors} syntax error${f.syntaxErrors > 1 ? 's' : ''}`);
  if (f.diagnosticErrors) parts.push(`${f.diagnosticErrors} error diagnostic${f.diagnosticErrors > 1 ? 's' : ''}`);
  return parts.join(' and ');
}

/** The automatic action: which command the context asks for. */
function decideCommand(f: Features, hasSelection: boolean): Decision {
  if (f.binary) return { task: 'explain', confidence: 0.2, why: 'binary content; nothing to infer' };
  // Before diagnostics: a body still to write is an error to a type checker ("must return a
  // value"), not to the user. A syntax error the missing body does not explain still comes first.
  if (!hasSelection && f.unfinished && f.syntaxErrors === 0) return { task: 'generate', confidence: 0.85, why: f.unfinished };
  if (f.syntaxErrors > 0 || f.diagnosticErrors > 0) {
    return { task: 'debug', confidence: f.syntaxErrors > 0 ? 0.9 : 0.85, why: `${describeErrors(f)} in range` };
  }
  if (!hasSelection) {
    if (f.emptyBlock) return { task: 'generate', confidence: 0.85, why: 'cursor in an empty body' };
    if (f.cursorLineBlank && f.commentAbove && !f.inComment) {
      return { task: 'generate', confidence: 0.75, why: 'blank line under a describing comment' };
    }
    return { task: 'explain', confidence: 0.55, why: 'no selection and nothing to fix or fill: explain the code around the cursor' };
  }
  if (f.formatIrregularity >= FORMAT_IRREGULARITY_THRESHOLD) {
    const confidence = Math.min(0.95, 0.6 + f.formatIrregularity / 2);
    return { task: 'format', confidence, why: `${Math.round(f.formatIrregularity * 100)}% of the selected lines break the layout around them` };
  }
  return {
    task: 'explain',
    confidence: f.wholeNodeSelection ? 0.85 : 0.7,
    why: f.wholeNodeSelection ? 'a whole, well-formed construct is selected' : 'well-formed code is selected',
  };
}

/** Inline completions: what kind of completion, or none. */
function decideInline(f: Features): Decision {
  if (f.binary) return { task: 'none', confidence: 0.95, why: 'binary content' };
  if (f.minified) return { task: 'none', confidence: 0.9, why: 'minified code (very long lines)' };
  if (f.generated) return { task: 'none', confidence: 0.85, why: 'the file says it is generated' };
  if (f.inString) return { task: 'none', confidence: 0.8, why: 'inside a string literal' };
  // Before comments: at the end of a placeholder comment (`// TODO|`) the user wants the body, not
  // more comment (mid-comment, with text after the cursor, nothing is unfinished).
  if (f.unfinished) return { task: 'complete-block', confidence: 0.85, why: f.unfinished };
  if (f.inComment) return { task: 'complete-comment', confidence: 0.9, why: 'inside a comment or docstring' };
  if (f.emptyBlock) return { task: 'complete-block', confidence: 0.85, why: 'cursor in an empty body' };
  if (f.cursorLineBlank && f.commentAbove) return { task: 'complete-block', confidence: 0.75, why: 'blank line under a describing comment' };
  return { task: 'complete-line', confidence: f.textAfterCursor ? 0.7 : 0.8, why: 'mid-statement' };
}

export function decide(mode: ClassifyMode, f: Features, hasSelection: boolean): Decision {
  if (mode === 'inline') return decideInline(f);
  if (mode === 'auto') return decideCommand(f, hasSelection);
  return { task: mode, confidence: 1, why: `the ${mode} command was invoked` };
}

/** x / (1 + x): grows with x, never reaches 1. */
const soft = (x: number) => x / (1 + x);

const BASE_DIFFICULTY: Record<ClassifiedTask, number> = {
  format: 0.1,
  explain: 0.2,
  generate: 0.35,
  debug: 0.35,
  'complete-line': 0.05,
  'complete-block': 0.25,
  'complete-comment': 0.05,
  none: 0,
};

/**
 * Difficulty in [0, 1] from the code the request is about: the size of the enclosing unit (or the
 * selection), nesting, branching, vocabulary and errors. Not from the file's size.
 */
export function difficultyOf(task: ClassifiedTask, f: Features): number {
  if (task === 'none') return 0;
  const tokens = f.unit?.tokens ?? 0;
  const score =
    BASE_DIFFICULTY[task] +
    0.25 * soft(tokens / 300) +
    0.15 * soft(f.nestingDepth / 4) +
    0.15 * soft(f.branchCount / 6) +
    0.1 * soft(f.identifiers / 40) +
    0.1 * soft((f.syntaxErrors + f.diagnosticErrors) / 2);
  return Math.round(Math.min(1, Math.max(0, score)) * 100) / 100;
}
