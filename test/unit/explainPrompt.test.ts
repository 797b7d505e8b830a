import * as assert from 'node:assert/strict';
import type { RequestContext } from '../../src/core/context/requestContext';
import { MAX_EXPLAIN_CODE_CHARS, buildExplainMessages } from '../../src/core/prompts/explainPrompt';
import type { ExplainTarget } from '../../src/core/prompts/explainTarget';

const ctx = { languageId: 'typescript', path: 'src/math.ts' } as RequestContext;

function target(code: string, extra: Partial<ExplainTarget> = {}): ExplainTarget {
  return { code, startLine: 9, endLine: 11, source: 'selection', ...extra };
}

describe('explain prompt', () => {
  it('names the file, lines, language and the unit, and fences the code', () => {
    const [system, user] = buildExplainMessages(ctx, target('return a + b;', { source: 'enclosing-unit', unitKind: 'function_declaration', unitName: 'add' }));
    assert.equal(system.role, 'system');
    assert.equal(user.role, 'user');
    assert.match(user.content, /^Explain the function declaration `add` from `src\/math\.ts` \(lines 10-12, typescript\)\./);
    assert.ok(user.content.endsWith('```typescript\nreturn a + b;\n```'));
  });

  it('uses a fence longer than any backtick run inside the code', () => {
    const [, user] = buildExplainMessages(ctx, target('const md = "````";'));
    assert.ok(user.content.includes('`````typescript\nconst md = "````";\n`````'));
  });

  it('cuts very long code and tells the model it was cut', () => {
    const [, user] = buildExplainMessages(ctx, target('x'.repeat(MAX_EXPLAIN_CODE_CHARS + 500)));
    assert.match(user.content, /cut to its first 24000 characters/);
    assert.ok(user.content.length < MAX_EXPLAIN_CODE_CHARS + 500);
  });
});
