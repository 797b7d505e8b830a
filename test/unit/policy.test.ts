import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { defaultSettings, parseSettings, type Settings } from '../../src/core/config/settingsSchema';
import { mergePolicy, parseRepoPolicy, repoPolicyJsonSchema, type RepoPolicy } from '../../src/core/policy/policy';
import { REPO_ROOT } from './repoRoot';

/** Two providers and three models, one of them deployed on both providers. */
function userSettings(overrides: { dailyUsd?: number; monthlyUsd?: number; localOnly?: string[] } = {}): Settings {
  const { settings, issues } = parseSettings((key) => {
    switch (key) {
      case 'providers':
        return [
          { id: 'cloud', kind: 'openai', baseUrl: 'https://cloud.example/v1' },
          { id: 'local', kind: 'openai', baseUrl: 'http://127.0.0.1:11434/v1', auth: 'none' },
        ];
      case 'models':
        return [
          { id: 'small', provider: 'cloud', name: 'small-v1', tags: ['cheap'] },
          { id: 'big', provider: 'cloud', name: 'big-v1', tags: ['code', 'strong'] },
          { id: 'coder', provider: 'local', name: 'coder:7b', tags: ['local', 'code'], deployments: [{ provider: 'cloud' }] },
        ];
      case 'budget.dailyUsd':
        return overrides.dailyUsd;
      case 'budget.monthlyUsd':
        return overrides.monthlyUsd;
      case 'privacy.localOnly':
        return overrides.localOnly;
      default:
        return undefined;
    }
  });
  assert.deepEqual(issues, []);
  return settings;
}

function merge(settings: Settings, policy: RepoPolicy) {
  return mergePolicy(settings, { policy, hash: 'abc123' });
}

/** Parses text that must be a valid policy. */
function valid(text: string): RepoPolicy {
  const { policy, problems } = parseRepoPolicy(text);
  assert.deepEqual(problems, []);
  assert.ok(policy);
  return policy;
}

/** Parses text that must be refused; returns its problems with the text each points at. */
function refused(text: string) {
  const { policy, problems } = parseRepoPolicy(text);
  assert.equal(policy, undefined, 'a malformed policy does not apply at all');
  assert.ok(problems.length > 0);
  return problems.map((p) => ({ ...p, at: text.slice(p.offset, p.offset + p.length) }));
}

describe('repository policy: merge (tighten-only)', () => {
  it('without a repository policy, the user settings apply unchanged', () => {
    const settings = userSettings({ dailyUsd: 5, localOnly: ['secrets/**'] });
    const policy = mergePolicy(settings);
    assert.equal(policy.repo, undefined);
    assert.deepEqual(policy.notes, []);
    assert.deepEqual(policy.budget, settings.budget);
    assert.deepEqual(policy.models, settings.models);
    assert.deepEqual(policy.providers, settings.providers);
    assert.deepEqual(policy.tasks, settings.tasks);
    assert.deepEqual(policy.privacy, settings.privacy);
    assert.deepEqual(policy.taskTiers, {});
    assert.equal(policy.mode, settings.routing.mode);
  });

  it('applies a lower budget and says so', () => {
    const policy = merge(userSettings({ dailyUsd: 5, monthlyUsd: 100 }), { budget: { dailyUsd: 2 } });
    assert.deepEqual([policy.budget.dailyUsd, policy.budget.monthlyUsd], [2, 100]);
    assert.deepEqual(policy.repo, { hash: 'abc123' });
    assert.ok(policy.notes.some((n) => /lowers budget\.dailyUsd to \$2/.test(n)), policy.notes.join('\n'));
  });

  it('refuses a higher budget with a note, and the user budget stands', () => {
    const policy = merge(userSettings({ dailyUsd: 5 }), { budget: { dailyUsd: 50 } });
    assert.equal(policy.budget.dailyUsd, 5);
    assert.ok(policy.notes.some((n) => /asked for budget\.dailyUsd \$50, above yours \(\$5\); yours applies/.test(n)), policy.notes.join('\n'));
  });

  it('applies the repository budget where the user has none (0)', () => {
    const policy = merge(userSettings(), { budget: { monthlyUsd: 30 } });
    assert.deepEqual([policy.budget.dailyUsd, policy.budget.monthlyUsd], [0, 30]);
  });

  it('lowers (or adds) a per-task daily budget, and never raises one', () => {
    const policy = merge(userSettings(), { budget: { perTaskDailyUsd: { debug: 1, explain: 9 } } });
    assert.deepEqual(policy.budget.perTaskDailyUsd, { debug: 1, explain: 9 });
    const tighter = mergePolicy({ ...defaultSettings(), budget: { ...defaultSettings().budget, perTaskDailyUsd: { debug: 0.5, explain: 3 } } }, { policy: { budget: { perTaskDailyUsd: { debug: 1, explain: 2 } } }, hash: 'h' });
    assert.deepEqual(tighter.budget.perTaskDailyUsd, { debug: 0.5, explain: 2 });
    assert.ok(tighter.notes.some((n) => /lowers the daily explain budget to \$2/.test(n)), tighter.notes.join('\n'));
  });

  it('removes denied models, and the models and deployments of denied providers', () => {
    const settings = userSettings();
    const byModel = merge(settings, { deny: { models: ['big'] } });
    assert.deepEqual(byModel.models.map((m) => m.id), ['small', 'coder']);
    assert.ok(byModel.notes.some((n) => /denies 1 model\(s\): big/.test(n)));

    const byProvider = merge(settings, { deny: { providers: ['cloud'] } });
    assert.deepEqual(byProvider.providers.map((p) => p.id), ['local']);
    assert.deepEqual(byProvider.models.map((m) => m.id), ['coder']);
    assert.deepEqual(byProvider.models[0].deployments, [], 'no request may reach the denied provider through a deployment');
    assert.equal(settings.models[2].deployments?.length, 1, "the user's settings are not modified");
  });

  it('notes a denied model the user does not have', () => {
    const policy = merge(userSettings(), { deny: { models: ['gpt-5'] } });
    assert.equal(policy.models.length, 3);
    assert.ok(policy.notes.some((n) => /"gpt-5", which is not configured/.test(n)));
  });

  it('records task pins to a tier', () => {
    const policy = merge(userSettings(), { tasks: { explain: 'cheap', generate: 'local' } });
    assert.deepEqual(policy.taskTiers, { explain: 'cheap', generate: 'local' });
    assert.ok(policy.notes.some((n) => n === 'The repository policy pins explain to cheap models.'), policy.notes.join('\n'));
    // None of these models has a `local` tag.
    const cloudOnly = userSettings();
    cloudOnly.models = cloudOnly.models.filter((m) => !m.tags.includes('local'));
    const orphan = merge(cloudOnly, { tasks: { debug: 'local' } });
    assert.ok(orphan.notes.some((n) => /pins debug to local models, but none of your models is tagged local/.test(n)), orphan.notes.join('\n'));
  });

  it('adds privacy globs to the user ones (a union, without repeats)', () => {
    const policy = merge(userSettings({ localOnly: ['secrets/**'] }), { privacy: { localOnly: ['secrets/**', 'billing/**'], noAi: ['keys/**'] } });
    assert.deepEqual(policy.privacy, { localOnly: ['secrets/**', 'billing/**'], noAi: ['keys/**'] });
  });

  it('takes routing mode, rules and weights from the user only', () => {
    const settings = userSettings();
    const policy = merge(settings, { budget: { dailyUsd: 1 } });
    assert.equal(policy.mode, settings.routing.mode);
    assert.deepEqual(policy.rules, settings.routing.rules);
    assert.deepEqual(policy.tasks, settings.tasks);
  });
});

describe('repository policy: parsing .vscode/coderoute.json', () => {
  it('accepts comments and trailing commas', () => {
    const policy = valid(`// tighten for this repo
{
  "$schema": "../node_modules/coderoute/media/coderoute-policy.schema.json",
  /* cheaper */ "budget": { "dailyUsd": 1.5, },
  "deny": { "models": ["big",], },
  "tasks": { "format": "cheap" },
  "privacy": { "noAi": ["secrets/**"] },
}`);
    assert.deepEqual(policy.budget, { dailyUsd: 1.5 });
    assert.deepEqual(policy.deny, { models: ['big'] });
    assert.deepEqual(policy.tasks, { format: 'cheap' });
  });

  for (const [key, value] of [
    ['providers', '[{ "id": "evil", "kind": "openai", "baseUrl": "https://evil.example/v1" }]'],
    ['models', '[{ "id": "m", "provider": "evil", "name": "m" }]'],
    ['baseUrl', '"https://evil.example/v1"'],
    ['routing', '{ "mode": "performance" }'],
    ['apiKey', '"sk-123"'],
  ] as const) {
    it(`refuses "${key}" (it would loosen the policy) and points at the key`, () => {
      const text = `{\n  "budget": { "dailyUsd": 1 },\n  "${key}": ${value}\n}`;
      const problems = refused(text);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.deepEqual(problems[0].path, [key]);
      assert.equal(problems[0].at, `"${key}"`);
      assert.match(problems[0].message, new RegExp(`"${key}" is not allowed: a repository policy can only tighten`));
    });
  }

  it('refuses unknown keys inside a section, naming the section', () => {
    const problems = refused('{ "deny": { "models": ["a"], "allow": ["b"] } }');
    assert.deepEqual(problems.map((p) => [p.path, p.at, p.message]), [[['deny', 'allow'], '"allow"', '"allow" is not allowed in deny.']]);
  });

  it('refuses a budget of 0 (it means no budget) and values of the wrong type, pointing at the value', () => {
    const problems = refused('{ "budget": { "dailyUsd": 0, "monthlyUsd": "10" }, "tasks": { "explain": "premium" } }');
    const byPath = new Map(problems.map((p) => [p.path.join('.'), p]));
    assert.match(byPath.get('budget.dailyUsd')!.message, /above 0/);
    assert.equal(byPath.get('budget.dailyUsd')!.at, '0');
    assert.equal(byPath.get('budget.monthlyUsd')!.at, '"10"');
    assert.equal(byPath.get('tasks.explain')!.at, '"premium"');
  });

  it('refuses a task it does not know', () => {
    const problems = refused('{ "tasks": { "deploy": "cheap" } }');
    assert.deepEqual(problems.map((p) => [p.path, p.at]), [[['tasks', 'deploy'], '"deploy"']]);
  });

  it('reports syntax errors with their offsets', () => {
    const text = '{ "budget": { "dailyUsd": 1 }\n  "deny": {} }';
    const problems = refused(text);
    assert.equal(problems[0].offset, text.indexOf('"deny"'));
    assert.match(problems[0].message, /^Not valid JSON: CommaExpected/);
    const unclosed = refused('{ "budget": { "dailyUsd": 1 }');
    assert.match(unclosed[0].message, /Not valid JSON/);
    assert.ok(unclosed[0].length >= 1);
  });

  it('refuses an empty file and a file that is not an object', () => {
    assert.match(refused('')[0].message, /Not valid JSON/);
    const array = refused('[]');
    assert.deepEqual(array[0].path, []);
    assert.equal(array[0].at, '[]');
  });
});

describe('repository policy: JSON schema for the editor', () => {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    contributes: { jsonValidation: { fileMatch: string; url: string }[] };
  };
  const contribution = pkg.contributes.jsonValidation.find((v) => v.fileMatch === '.vscode/coderoute.json');

  it('is contributed for .vscode/coderoute.json', () => {
    assert.ok(contribution, 'package.json contributes jsonValidation for .vscode/coderoute.json');
    assert.match(contribution.url, /^\.\/media\//, 'media/** is packaged');
  });

  it('is the committed file generated from the zod schema (npm run schema:policy rewrites it)', () => {
    const committed: unknown = JSON.parse(readFileSync(path.join(REPO_ROOT, contribution!.url), 'utf8'));
    assert.deepEqual(committed, repoPolicyJsonSchema());
  });

  it('refuses unknown keys and allows the comments the parser accepts', () => {
    const schema = repoPolicyJsonSchema() as { additionalProperties: unknown; allowComments: unknown; allowTrailingCommas: unknown; properties: Record<string, unknown> };
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(Object.keys(schema.properties).sort(), ['$schema', 'budget', 'deny', 'privacy', 'tasks']);
    assert.equal(schema.allowComments, true);
    assert.equal(schema.allowTrailingCommas, true);
  });
});
