import * as assert from 'node:assert/strict';
import type { Classification, Features } from '../../src/core/classify/classification';
import { CompletionEscalation, ESCALATION_TIERS } from '../../src/core/complete/escalation';
import { parseSettings, type ModelConfig, type SettingKey, type Settings } from '../../src/core/config/settingsSchema';
import { mergePolicy } from '../../src/core/policy/policy';
import { route, type RouteInput } from '../../src/core/route/router';

type Unit = Features['unit'];

/** Features with only what the context key and the router look at set. */
function features(unit: Unit): Features {
  return {
    nodeKind: 'identifier',
    ancestorKinds: [],
    unit,
    inComment: false,
    inString: false,
    emptyBlock: false,
    commentAbove: false,
    cursorLineBlank: false,
    textAfterCursor: false,
    selectionLines: 0,
    wholeNodeSelection: false,
    syntaxErrors: 0,
    diagnosticErrors: 0,
    nestingDepth: 1,
    branchCount: 0,
    identifiers: 5,
    formatIrregularity: 0,
    generated: false,
    minified: false,
    binary: false,
  } as Features;
}

function unit(kind: string, name: string | undefined, startLine: number, lines = 10): NonNullable<Unit> {
  return { kind, name, startLine, endLine: startLine + lines - 1, lines, tokens: 60 } as NonNullable<Unit>;
}

function classified(task: Classification['task'], u: Unit): Pick<Classification, 'task' | 'features'> {
  return { task, features: features(u) };
}

const T0 = 1_700_000_000_000;

describe('completion escalation: where cheap completions keep being rejected', () => {
  const key = 'src/a.ts\u0000function_declaration:total\u0000complete-line';

  it('leaves a model out after two rejections in a row in a context, not after one', () => {
    const escalation = new CompletionEscalation();
    escalation.reject(key, 'cheap', T0);
    assert.deepEqual(escalation.rejectedIn(key, T0 + 1), []);
    escalation.reject(key, 'cheap', T0 + 2);
    assert.deepEqual(escalation.rejectedIn(key, T0 + 3), ['cheap']);
    escalation.reject(key, 'cheap', T0 + 4);
    assert.deepEqual(escalation.rejectedIn(key, T0 + 5), ['cheap'], 'listed once, however many rejections');
  });

  it('counts per model: only the models rejected often enough are left out', () => {
    const escalation = new CompletionEscalation();
    escalation.reject(key, 'cheap', T0);
    escalation.reject(key, 'other', T0);
    escalation.reject(key, 'cheap', T0);
    assert.deepEqual(escalation.rejectedIn(key, T0), ['cheap']);
    escalation.reject(key, 'other', T0);
    assert.deepEqual(escalation.rejectedIn(key, T0).sort(), ['cheap', 'other']);
  });

  it('an acceptance clears the model\u2019s rejections there: two more are needed again', () => {
    const escalation = new CompletionEscalation();
    escalation.reject(key, 'cheap', T0);
    escalation.reject(key, 'cheap', T0);
    escalation.accept(key, 'cheap', T0 + 1);
    assert.deepEqual(escalation.rejectedIn(key, T0 + 1), []);
    escalation.reject(key, 'cheap', T0 + 2);
    assert.deepEqual(escalation.rejectedIn(key, T0 + 2), [], 'in a row: the rejection before the acceptance does not count');
    escalation.reject(key, 'cheap', T0 + 3);
    assert.deepEqual(escalation.rejectedIn(key, T0 + 3), ['cheap']);
  });

  it('an acceptance between two rejections breaks the run', () => {
    const escalation = new CompletionEscalation();
    escalation.reject(key, 'cheap', T0);
    escalation.accept(key, 'cheap', T0 + 1);
    escalation.reject(key, 'cheap', T0 + 2);
    assert.deepEqual(escalation.rejectedIn(key, T0 + 2), []);
  });

  it('another model\u2019s acceptance does not clear a rejected model', () => {
    const escalation = new CompletionEscalation();
    escalation.reject(key, 'cheap', T0);
    escalation.reject(key, 'cheap', T0);
    escalation.accept(key, 'coder', T0 + 1);
    assert.deepEqual(escalation.rejectedIn(key, T0 + 1), ['cheap']);
  });

  it('the threshold can be set, and is at least one', () => {
    const three = new CompletionEscalation({ threshold: 3 });
    three.reject(key, 'cheap', T0);
    three.reject(key, 'cheap', T0);
    assert.deepEqual(three.rejectedIn(key, T0), []);
    three.reject(key, 'cheap', T0);
    assert.deepEqual(three.rejectedIn(key, T0), ['cheap']);

    const zero = new CompletionEscalation({ threshold: 0 });
    assert.deepEqual(zero.rejectedIn(key, T0), []);
    zero.reject(key, 'cheap', T0);
    assert.deepEqual(zero.rejectedIn(key, T0), ['cheap']);
  });

  it('forgets a context nobody rejected anything in for forgetAfterMs', () => {
    const escalation = new CompletionEscalation({ forgetAfterMs: 1000 });
    escalation.reject(key, 'cheap', T0);
    escalation.reject(key, 'cheap', T0 + 500);
    assert.deepEqual(escalation.rejectedIn(key, T0 + 1500), ['cheap'], 'counted from the last rejection');
    assert.deepEqual(escalation.rejectedIn(key, T0 + 1501), [], 'then forgotten');
    assert.deepEqual(escalation.rejectedIn(key, T0 + 1502), [], 'and stays forgotten');
  });

  it('a rejection after forgetAfterMs starts a new run', () => {
    const escalation = new CompletionEscalation({ forgetAfterMs: 1000 });
    escalation.reject(key, 'cheap', T0);
    escalation.reject(key, 'cheap', T0 + 2000);
    assert.deepEqual(escalation.rejectedIn(key, T0 + 2000), [], 'the old rejection was forgotten');
    escalation.reject(key, 'cheap', T0 + 2100);
    assert.deepEqual(escalation.rejectedIn(key, T0 + 2100), ['cheap']);
  });

  it('the default memory is 15 minutes', () => {
    const escalation = new CompletionEscalation();
    escalation.reject(key, 'cheap', T0);
    escalation.reject(key, 'cheap', T0);
    assert.deepEqual(escalation.rejectedIn(key, T0 + 15 * 60_000), ['cheap']);
    assert.deepEqual(escalation.rejectedIn(key, T0 + 15 * 60_000 + 1), []);
  });

  it('keeps at most `capacity` contexts, forgetting the least recently touched first', () => {
    const escalation = new CompletionEscalation({ capacity: 2 });
    const twice = (k: string, at: number) => {
      escalation.reject(k, 'cheap', at);
      escalation.reject(k, 'cheap', at);
    };
    twice('a', T0);
    twice('b', T0 + 1);
    // Touching `a` again makes `b` the least recently touched.
    escalation.reject('a', 'cheap', T0 + 2);
    twice('c', T0 + 3);
    assert.deepEqual(escalation.rejectedIn('a', T0 + 4), ['cheap']);
    assert.deepEqual(escalation.rejectedIn('b', T0 + 4), [], 'evicted');
    assert.deepEqual(escalation.rejectedIn('c', T0 + 4), ['cheap']);
  });

  it('clear forgets everything', () => {
    const escalation = new CompletionEscalation();
    escalation.reject(key, 'cheap', T0);
    escalation.reject(key, 'cheap', T0);
    escalation.clear();
    assert.deepEqual(escalation.rejectedIn(key, T0), []);
  });

  describe('contextKey', () => {
    it('names the file, the unit by kind and name, and the kind of completion', () => {
      const k = CompletionEscalation.contextKey('src/a.ts', classified('complete-line', unit('function_declaration', 'total', 4)), 6);
      assert.equal(k, 'src/a.ts\u0000function_declaration:total\u0000complete-line');
    });

    it('is stable when lines are added above the unit, or the cursor moves within it', () => {
      const before = CompletionEscalation.contextKey('src/a.ts', classified('complete-line', unit('function_declaration', 'total', 4)), 6);
      const after = CompletionEscalation.contextKey('src/a.ts', classified('complete-line', unit('function_declaration', 'total', 24, 12)), 31);
      assert.equal(after, before);
    });

    it('differs between kinds of completion, units, and files', () => {
      const line = CompletionEscalation.contextKey('src/a.ts', classified('complete-line', unit('function_declaration', 'total', 4)), 6);
      const block = CompletionEscalation.contextKey('src/a.ts', classified('complete-block', unit('function_declaration', 'total', 4)), 6);
      const comment = CompletionEscalation.contextKey('src/a.ts', classified('complete-comment', unit('function_declaration', 'total', 4)), 6);
      const otherFunction = CompletionEscalation.contextKey('src/a.ts', classified('complete-line', unit('function_declaration', 'average', 4)), 6);
      const otherKind = CompletionEscalation.contextKey('src/a.ts', classified('complete-line', unit('method_definition', 'total', 4)), 6);
      const otherFile = CompletionEscalation.contextKey('src/b.ts', classified('complete-line', unit('function_declaration', 'total', 4)), 6);
      assert.equal(new Set([line, block, comment, otherFunction, otherKind, otherFile]).size, 6);

      const escalation = new CompletionEscalation();
      escalation.reject(line, 'cheap', T0);
      escalation.reject(line, 'cheap', T0);
      assert.deepEqual(escalation.rejectedIn(line, T0), ['cheap']);
      assert.deepEqual(escalation.rejectedIn(block, T0), [], 'rejections of line completions do not escalate block completions');
      escalation.reject(block, 'cheap', T0);
      assert.deepEqual(escalation.rejectedIn(block, T0), [], 'nor count towards them');
    });

    it('a unit without a name is known by its start line; outside any unit, by a 40-line band of the cursor', () => {
      const anonymous = CompletionEscalation.contextKey('src/a.ts', classified('complete-line', unit('arrow_function', undefined, 12)), 14);
      assert.equal(anonymous, 'src/a.ts\u0000arrow_function:@12\u0000complete-line');
      const top = (line: number) => CompletionEscalation.contextKey('src/a.ts', classified('complete-line', undefined), line);
      assert.equal(top(0), top(39));
      assert.notEqual(top(39), top(40));
      assert.equal(top(45), 'src/a.ts\u0000top:1\u0000complete-line');
    });
  });

  it('escalates to code and strong models', () => {
    assert.deepEqual([...ESCALATION_TIERS], ['code', 'strong']);
  });
});

// ---------------------------------------------------------------------------------------------
// The router's `widen` input

const raw: Partial<Record<SettingKey, unknown>> = {
  providers: [
    { id: 'cloud', kind: 'openai', baseUrl: 'https://api.example.com/v1' },
    { id: 'local', kind: 'openai', baseUrl: 'http://127.0.0.1:11434/v1', auth: 'none' },
  ],
  models: [
    { id: 'mini', provider: 'cloud', name: 'mini-1', tags: ['cheap'], capabilities: ['chat', 'fim'], price: { inputPerMTok: 0.4, outputPerMTok: 1.6 } },
    { id: 'coder', provider: 'cloud', name: 'coder-2', tags: ['code'], capabilities: ['chat', 'fim'], price: { inputPerMTok: 2, outputPerMTok: 8 } },
    { id: 'big', provider: 'cloud', name: 'big-3', tags: ['strong'], price: { inputPerMTok: 15, outputPerMTok: 75 } },
    { id: 'small-local', provider: 'local', name: 'qwen2.5-coder:1.5b', tags: ['cheap', 'local'], capabilities: ['fim'], price: { inputPerMTok: 0, outputPerMTok: 0 } },
  ],
};

function settingsWith(overrides: Partial<Record<SettingKey, unknown>> = {}): Settings {
  const { settings, issues } = parseSettings((k) => (k in overrides ? overrides[k] : raw[k]));
  assert.deepEqual(issues, []);
  return settings;
}

function lineCompletion(settings: Settings, overrides: Partial<RouteInput> = {}): RouteInput {
  return {
    requestId: 'r1',
    task: 'complete',
    classification: { ...classified('complete-line', unit('function_declaration', 'total', 0)), difficulty: 0.2, language: 'typescript' },
    languageId: 'typescript',
    path: 'src/app.ts',
    policy: mergePolicy(settings),
    ...overrides,
  };
}

const considered = (decision: { candidates: { modelId: string }[] }) => decision.candidates.map((c) => c.modelId);
const chain = (d: { chosen: { model: ModelConfig }; fallbacks: { model: ModelConfig }[] }) => [d.chosen, ...d.fallbacks].map((r) => r.model.id);

describe('router: widening the candidates for an escalated completion', () => {
  it('without widen, a line completion considers the task setting\u2019s tier only', () => {
    const decision = route(lineCompletion(settingsWith()));
    assert.deepEqual(considered(decision), ['mini', 'small-local']);
    assert.doesNotMatch(decision.reason, /widened/);
  });

  it('hybrid: the widened tiers join the candidates, and the reason says so', () => {
    const decision = route(lineCompletion(settingsWith(), { rejected: ['mini', 'small-local'], widen: ESCALATION_TIERS }));
    assert.deepEqual(considered(decision), ['mini', 'small-local', 'coder', 'big']);
    assert.ok(['coder', 'big'].includes(decision.chosen.model.id), decision.reason);
    assert.match(decision.reason, /coderoute\.tasks\.complete, widened to code, strong after rejections here/);
    assert.match(decision.reason, /after mini, small-local were rejected/);
    assert.deepEqual(decision.rejected, ['mini', 'small-local']);
  });

  it('task mode: the widened tiers follow the setting\u2019s own entries, in order', () => {
    const decision = route(lineCompletion(settingsWith({ 'routing.mode': 'task' }), { rejected: ['mini'], widen: ESCALATION_TIERS }));
    assert.deepEqual(chain(decision), ['small-local', 'coder', 'big']);
    assert.equal(decision.reason, 'complete-line in a 10-line typescript function declaration → small-local: coderoute.tasks.complete, widened to code, strong after rejections here, after mini was rejected, est. $0.00.');
  });

  it('performance mode already considers every model: widen changes nothing and is not mentioned', () => {
    const settings = settingsWith({ 'routing.mode': 'performance' });
    const plain = route(lineCompletion(settings, { rejected: ['mini'], explore: false }));
    const widened = route(lineCompletion(settings, { rejected: ['mini'], widen: ESCALATION_TIERS, explore: false }));
    assert.deepEqual(considered(widened), considered(plain));
    assert.equal(widened.chosen.model.id, plain.chosen.model.id);
    assert.doesNotMatch(widened.reason, /widened/);
  });

  it('only adds what the entries lack: a tier already there is not named again', () => {
    const settings = settingsWith({ 'tasks.complete': ['cheap', 'code'] });
    const decision = route(lineCompletion(settings, { rejected: ['mini'], widen: ESCALATION_TIERS }));
    assert.deepEqual(considered(decision), ['mini', 'small-local', 'coder', 'big']);
    assert.match(decision.reason, /widened to strong after rejections here/);
    assert.doesNotMatch(decision.reason, /widened to code/);

    const already = route(lineCompletion(settingsWith({ 'tasks.complete': ['cheap', 'code', 'strong'] }), { widen: ESCALATION_TIERS }));
    assert.doesNotMatch(already.reason, /widened/);
  });

  it('widens by model id as well as by tier', () => {
    const decision = route(lineCompletion(settingsWith({ 'routing.mode': 'task' }), { rejected: ['mini', 'small-local'], widen: ['coder'] }));
    assert.deepEqual(chain(decision), ['coder']);
    assert.match(decision.reason, /widened to coder after rejections here/);
  });

  it('widens a matching rule\u2019s list too', () => {
    const settings = settingsWith({ 'routing.mode': 'task', 'routing.rules': [{ id: 'ts-lines', when: { task: ['complete-line'], language: ['typescript'] }, use: ['small-local'] }] });
    const decision = route(lineCompletion(settings, { rejected: ['small-local'], widen: ESCALATION_TIERS }));
    assert.equal(decision.rule, 'ts-lines');
    assert.deepEqual(chain(decision), ['coder', 'big']);
    assert.match(decision.reason, /rule "ts-lines", widened to code, strong after rejections here/);
  });

  it('widens the block default (code models only) with what it lacks', () => {
    const decision = route(
      lineCompletion(settingsWith({ 'routing.mode': 'task' }), {
        classification: { ...classified('complete-block', unit('function_declaration', 'total', 0)), difficulty: 0.3, language: 'typescript' },
        rejected: ['coder'],
        widen: ESCALATION_TIERS,
      }),
    );
    assert.deepEqual(chain(decision), ['big']);
    assert.match(decision.reason, /default "complete-block" \(code models for blocks\), widened to strong after rejections here/);
  });

  it('privacy still decides: a local-only file never reaches a widened cloud model', () => {
    const decision = route(lineCompletion(settingsWith(), { rejected: ['mini'], widen: ESCALATION_TIERS, directives: { noAi: false, localOnly: true } }));
    assert.equal(decision.chosen.model.id, 'small-local');
    assert.deepEqual(decision.fallbacks, []);
    const excluded = decision.candidates.filter((c) => c.excluded).map((c) => c.modelId);
    assert.deepEqual(excluded.sort(), ['big', 'coder', 'mini']);
  });
});
