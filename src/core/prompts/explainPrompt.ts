import type { RequestContext } from '../context/requestContext';
import type { ChatMessage } from '../providers/chatProvider';
import type { ExplainTarget } from './explainTarget';
import { fencedBlock } from './fence';

/** Longest code sent for one explanation, in characters (about 6k tokens). */
export const MAX_EXPLAIN_CODE_CHARS = 24_000;

const SYSTEM_PROMPT =
  'You are a senior engineer explaining code to a colleague inside their editor. ' +
  'Explain what the code does, how, and anything surprising (edge cases, bugs, performance). ' +
  'Answer in concise Markdown. Quote code only in fenced blocks.';

export function buildExplainMessages(ctx: RequestContext, target: ExplainTarget): ChatMessage[] {
  let code = target.code;
  let note = '';
  if (code.length > MAX_EXPLAIN_CODE_CHARS) {
    code = code.slice(0, MAX_EXPLAIN_CODE_CHARS);
    note = `\n(The code was cut to its first ${MAX_EXPLAIN_CODE_CHARS} characters.)`;
  }
  const what =
    target.source === 'enclosing-unit'
      ? `the ${target.unitKind?.replace(/_/g, ' ') ?? 'unit'}${target.unitName ? ` \`${target.unitName}\`` : ''}`
      : target.source === 'selection'
        ? 'the selected code'
        : 'the code around the cursor';
  const user =
    `Explain ${what} from \`${ctx.path}\` (lines ${target.startLine + 1}-${target.endLine + 1}, ${ctx.languageId}).${note}\n\n` +
    fencedBlock(code, ctx.languageId);
  return [
    { role: 'system', content: SYSTEM_PROMPT },
    { role: 'user', content: user },
  ];
}
