/**
 * Privacy directives a file can carry in a comment near its top:
 *   `coderoute: no-ai`       nothing from this file is sent to any model;
 *   `coderoute: local-only`  only models tagged `local` may see it.
 */
export interface FileDirectives {
  noAi: boolean;
  localOnly: boolean;
}

/** Directives are read from this many lines at the top of a file, like a license header. */
export const DIRECTIVE_HEADER_LINES = 30;

const DIRECTIVE = /\bcoderoute:\s*(no-ai|local-only)\b/g;

export function readFileDirectives(header: string): FileDirectives {
  const found = new Set([...header.matchAll(DIRECTIVE)].map((m) => m[1]));
  return { noAi: found.has('no-ai'), localOnly: found.has('local-only') };
}
