import { performance } from 'node:perf_hooks';
import { Learner } from '../../src/core/learn/learner';
import { seededRandom } from '../../src/core/learn/random';
import type { EstimateContext } from '../../src/core/route/estimates';
import type { Classification } from '../../src/core/classify/classification';
import { parseSettings, type SettingKey } from '../../src/core/config/settingsSchema';
import type { Task } from '../../src/core/context/requestContext';
import { mergePolicy } from '../../src/core/policy/policy';
import { route, type RouteInput } from '../../src/core/route/router';

/**
 * npm run bench:route — the routing decision alone (no classification, no provider call) with
 * 20 models and 50 rules, in each mode, over varied requests. Target (from the issue): p99 <= 0.2 ms.
 * Prices come from the pricing library as in the extension (the first lookup of each model warms
 * its cache, as the first request of a session would). Figures are for humans; exit code 0.
 */

const LANGUAGES = ['typescript', 'python', 'rust', 'go', 'java', 'cpp', 'ruby', 'shellscript'];
const NAMES = ['gpt-4.1-mini', 'gpt-4.1', 'gpt-4o', 'gpt-4o-mini', 'o4-mini', 'claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-1'];
const TAGS = [['cheap'], ['code', 'strong'], ['code'], ['cheap'], ['strong'], ['code', 'strong'], ['cheap'], ['strong']];

function settingsFor(mode: 'task' | 'performance' | 'hybrid') {
  const models = Array.from({ length: 20 }, (_, i) => ({
    id: `m${i}`,
    provider: i % 5 === 4 ? 'local' : i % 2 ? 'anthropic' : 'openai',
    name: i % 5 === 4 ? `qwen2.5-coder:${i}b` : NAMES[i % NAMES.length],
    tags: i % 5 === 4 ? ['cheap', 'local'] : TAGS[i % TAGS.length],
    ...(i % 7 === 3 ? { price: { inputPerMTok: 1 + i, outputPerMTok: 4 + i } } : {}),
  }));
  const rules = Array.from({ length: 50 }, (_, i) => ({
    id: `rule-${i}`,
    when: {
      ...(i % 2 ? { task: [(['format', 'explain', 'generate', 'debug', 'complete-block'] as const)[i % 5]] } : {}),
      ...(i % 3 ? { language: [LANGUAGES[i % LANGUAGES.length]] } : {}),
      ...(i % 4 === 0 ? { path: [`src/module${i}/**`, `**/*.gen${i}.ts`] } : {}),
      ...(i % 5 === 0 ? { difficulty: [0.5 + (i % 10) / 20, 1] as [number, number] } : {}),
    },
    use: [`m${i % 20}`, `m${(i * 7) % 20}`, i % 2 ? 'cheap' : 'code'],
  }));
  const raw: Partial<Record<SettingKey, unknown>> = {
    providers: [
      { id: 'openai', kind: 'openai', baseUrl: 'https://api.openai.com/v1' },
      { id: 'anthropic', kind: 'anthropic', baseUrl: 'https://api.anthropic.com' },
      { id: 'local', kind: 'openai', baseUrl: 'http://127.0.0.1:11434/v1', auth: 'none' },
    ],
    models,
    'routing.rules': rules,
    'routing.mode': mode,
    'privacy.localOnly': ['secrets/**', '**/*.pem'],
    'privacy.noAi': ['**/.env'],
    'budget.dailyUsd': 5,
    'tasks.explain': ['cheap', 'code'],
    'tasks.debug': ['code', 'strong'],
  };
  const { settings, issues } = parseSettings((key) => raw[key]);
  if (issues.length) throw new Error(`bench settings: ${JSON.stringify(issues)}`);
  return mergePolicy(settings, { policy: { deny: { models: ['m13'] }, tasks: { format: 'cheap' } }, hash: 'bench' });
}

function requests(count: number): Omit<RouteInput, 'policy'>[] {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const tasks: Task[] = ['format', 'explain', 'generate', 'debug', 'complete'];
  return Array.from({ length: count }, (_, i) => {
    const task = tasks[Math.floor(random() * tasks.length)];
    const kind = task === 'complete' ? (['complete-line', 'complete-block', 'complete-comment'] as const)[i % 3] : task;
    const classification = {
      task: kind,
      difficulty: random(),
      language: LANGUAGES[i % LANGUAGES.length],
      features: { unit: { kind: 'function_declaration', name: `f${i}`, lines: 5 + (i % 80), tokens: 200, startLine: 0, endLine: 10 }, syntaxErrors: i % 4 === 0 ? 2 : 0, diagnosticErrors: 0 },
    } as unknown as Classification;
    return {
      requestId: `r${i}`,
      task,
      classification,
      languageId: classification.language,
      path: i % 10 === 0 ? `secrets/key${i}.ts` : `src/module${i % 60}/file${i}.ts`,
      budget: { spentTodayUsd: random() * 4, spentMonthUsd: random() * 40, dayElapsed: random(), monthElapsed: random(), source: 'bench' },
      tokens: { input: 500 + Math.floor(random() * 4000), output: 300 },
    };
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * Decisions each right after a new signal on another request (the fit brought up to date first
 * when `refreshed`, as the extension's LearningStore does); their times in ms.
 */
function afterSignals(learner: Learner, inputs: Omit<RouteInput, 'policy'>[], refreshed: boolean, pass: number, policy: ReturnType<typeof settingsFor>, attemptsLeft: number): number[] {
  const times: number[] = [];
  inputs.slice(0, 1000).forEach((input, i) => {
    const id = `after-signal-${refreshed}-${attemptsLeft}-${pass}-${i}`;
    learner.record(id, 'm1', { task: 'debug', language: LANGUAGES[i % LANGUAGES.length], difficulty: 0.5 });
    learner.observe(id, i % 2 ? 'accepted' : 'discarded');
    // As the extension does (LearningStore), right after the signal and off the decision's path.
    if (refreshed) learner.refresh();
    const started = performance.now();
    route({ ...input, policy, estimator: learner, attemptsLeft });
    times.push(performance.now() - started);
  });
  return times;
}

function main(): void {
  console.log('bench:route — one routing decision (no classification, no provider call), 20 models and 50 rules, target p99 <= 0.2 ms');
  const inputs = requests(5000);
  // The learned row: a learner with evidence in many buckets, Thompson draws, and a lookahead of one retry.
  const learner = new Learner({ random: seededRandom(11) });
  inputs.forEach((input, i) => {
    const decision = route({ ...input, policy: settingsFor('performance'), estimator: learner, explore: false });
    learner.record(input.requestId, decision.chosen.model.id, decision.estimateContext as EstimateContext);
    learner.observe(input.requestId, i % 3 === 0 ? 'discarded' : 'accepted');
  });
  const rows = [
    ...(['task', 'hybrid', 'performance'] as const).map((mode) => ({ mode: mode as string, policy: settingsFor(mode), extra: {} })),
    { mode: 'learned', policy: settingsFor('performance'), extra: { estimator: learner } },
    { mode: 'lookahead', policy: settingsFor('performance'), extra: { estimator: learner, attemptsLeft: 2 } },
  ];
  // A decision right after a user's signal: as the extension runs it (the learner's fit brought up
  // to date off the decision's path), and with the decision paying for that itself.
  // An editor action looks one retry ahead: the same, with the lookahead.
  for (const [refreshed, attemptsLeft] of [[true, 1], [false, 1], [true, 2]] as const) {
    const policy = settingsFor('performance');
    let times: number[] = [];
    // The first pass warms the JIT on this path, as the rows below do; the second is measured.
    // On a copy of the trained learner: each row starts from the same state, and the rows below are measured on it unchanged.
    const copy = new Learner({ random: seededRandom(13) });
    copy.load(learner.toJSON());
    for (const pass of [0, 1]) times = afterSignals(copy, inputs, refreshed, pass, policy, attemptsLeft);
    times.sort((a, b) => a - b);
    const fmt = (x: number) => `${(x * 1000).toFixed(1)} µs`;
    const how = `${refreshed ? 'fit refreshed after the signal, as the extension does' : 'the decision brings the fit up to date'}${attemptsLeft > 1 ? ', with the lookahead' : ''}`;
    const p99 = percentile(times, 99);
    // The extension's own path is held to the target; the other shows what skipping the refresh would cost.
    const verdict = refreshed ? ` — ${p99 <= 0.2 ? 'PASS' : 'FAIL'}` : '';
    console.log(`after a signal ${times.length} decisions, each right after a new signal (${how}): p50 ${fmt(percentile(times, 50))}, p95 ${fmt(percentile(times, 95))}, p99 ${fmt(p99)}${verdict}`);
  }
  for (const { mode, policy, extra } of rows) {
    let refused = 0;
    const run = () => {
      const times: number[] = [];
      for (const input of inputs) {
        const started = performance.now();
        try {
          route({ ...input, policy, ...extra });
        } catch {
          refused++;
        }
        times.push(performance.now() - started);
      }
      return times;
    };
    run(); // warm-up: JIT and the price cache
    refused = 0;
    const times = run().sort((a, b) => a - b);
    const fmt = (x: number) => `${(x * 1000).toFixed(1)} µs`;
    const p99 = percentile(times, 99);
    console.log(
      `${mode.padEnd(11)} ${inputs.length} decisions: p50 ${fmt(percentile(times, 50))}, p95 ${fmt(percentile(times, 95))}, p99 ${fmt(p99)}, max ${fmt(times[times.length - 1])}; ${refused} refused (local-only paths with no local model allowed) — ${p99 <= 0.2 ? 'PASS' : 'FAIL'}`,
    );
  }
}

main();
