import * as assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import type { Classification } from '../../src/core/classify/classification';
import { parseSettings } from '../../src/core/config/settingsSchema';
import { mergePolicy } from '../../src/core/policy/policy';
import { RouteError } from '../../src/core/route/routeDecision';
import { RouteRefusal, route, type RouteInput } from '../../src/core/route/router';
import { REPO_ROOT } from './repoRoot';

/**
 * VS Code's notifications (showErrorMessage, showWarningMessage, showInformationMessage) show
 * their text as it is: a backtick there is a stray character, not code. Markdown is written only
 * by the files that build Markdown (the explanation and decision documents, the tooltips) and by
 * the prompts to models.
 */
const WRITES_MARKDOWN = new Set([
  'src/core/route/decisionRecord.ts',
  'src/core/spend/statusText.ts',
  'src/vscode/commands/explainSelection.ts',
  'src/vscode/complete/completionStatus.ts',
]);
const NOT_MESSAGES = ['src/core/prompts/', 'src/core/classify/'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sources(full) : entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Every string and template literal of a file holding a backtick, with its line. */
function literalsWithBackticks(file: string): { line: number; text: string }[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: { line: number; text: string }[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) && node.text.includes('`')) {
      found.push({ line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, text: node.text });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('messages shown in notifications', () => {
  it('hold no backticks: no string in the sources outside the Markdown builders and prompts has one', () => {
    const offenders: string[] = [];
    for (const file of sources(path.join(REPO_ROOT, 'src'))) {
      const relative = path.relative(REPO_ROOT, file).split(path.sep).join('/');
      if (WRITES_MARKDOWN.has(relative) || NOT_MESSAGES.some((prefix) => relative.startsWith(prefix))) continue;
      for (const { line, text } of literalsWithBackticks(file)) offenders.push(`${relative}:${line}: ${text}`);
    }
    assert.deepEqual(offenders, []);
  });

  const classification: Classification = { task: 'explain', difficulty: 0.2, confidence: 0.9, reason: 'test', features: {} } as unknown as Classification;
  const settings = parseSettings((key) =>
    ({
      providers: [{ id: 'cloud', kind: 'openai', baseUrl: 'https://api.example.com/v1' }],
      models: [{ id: 'mini', provider: 'cloud', name: 'mini-1', tags: ['cheap'], price: { inputPerMTok: 0.1, outputPerMTok: 0.4 } }],
      'tasks.explain': 'mini',
      'privacy.localOnly': ['secret/**'],
      'routing.rules': [{ id: 'nothing-here', when: { path: ['empty/**'] }, use: ['no-such-model'] }],
    })[key as string],
  ).settings;
  const input = (path: string): RouteInput => ({ requestId: 'r', task: 'explain', classification, languageId: 'typescript', path, policy: mergePolicy(settings), directives: { noAi: false, localOnly: false } });

  it('the router writes its refusals, errors and reasons without backticks (they reach notifications as they are)', () => {
    const thrown = (path: string) => {
      try {
        return route(input(path)).reason;
      } catch (error) {
        assert.ok(error instanceof RouteRefusal || error instanceof RouteError, String(error));
        return error.message;
      }
    };
    const local = thrown('secret/keys.ts');
    assert.match(local, /local-only path "secret\/\*\*"/);
    const rule = thrown('empty/a.ts');
    assert.match(rule, /no-such-model/);
    const reason = thrown('src/a.ts');
    for (const text of [local, rule, reason]) assert.doesNotMatch(text, /`/, text);
  });
});
