/** A backtick fence longer than any backtick run in `code`, so the code cannot close it early. */
export function fence(code: string): string {
  const longestRun = Math.max(0, ...(code.match(/`+/g) ?? []).map((run) => run.length));
  return '`'.repeat(Math.max(3, longestRun + 1));
}

/** `code` as a fenced Markdown block tagged with `info` (usually the language id). */
export function fencedBlock(code: string, info: string): string {
  const marks = fence(code);
  return `${marks}${info}\n${code}\n${marks}`;
}
