import type { RouteDecision } from '../route/routeDecision';
import type { PrivacyClass } from './privacy';

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

export function privacyOf(directives: FileDirectives): PrivacyClass {
  return directives.localOnly ? 'local-only' : 'any';
}

/** Why the decision may not be carried out for this file, or undefined when it may. */
export function directiveRefusal(directives: FileDirectives, decision: RouteDecision): string | undefined {
  if (directives.noAi) return 'This file is marked `coderoute: no-ai`; nothing was sent.';
  if (directives.localOnly && !decision.chosen.model.tags.includes('local')) {
    return `This file is marked \`coderoute: local-only\`, but ${decision.task} is routed to ${decision.chosen.model.id}, which is not tagged local; nothing was sent.`;
  }
  return undefined;
}
