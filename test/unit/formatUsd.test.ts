import * as assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { footerFor } from '../../src/core/actions/answerFooter';
import type { Attempt } from '../../src/core/actions/runChatAttempt';
import { parseSettings } from '../../src/core/config/settingsSchema';
import { formatUsd } from '../../src/core/format/formatUsd';
import { decisionMarkdown, decisionRecord } from '../../src/core/route/decisionRecord';
import { routeByTask } from '../../src/core/route/routeDecision';
import { statusView } from '../../src/core/spend/statusText';
import { REPO_ROOT } from './repoRoot';

describe('dollars: one format everywhere', () => {
  it('shows cents from a cent up and two significant digits below, never $0.0000 for a real charge', () => {
    assert.equal(formatUsd(0.000028), '$0.000028');
    assert.equal(formatUsd(0.00042), '$0.00042');
    assert.equal(formatUsd(0.0042), '$0.0042');
    assert.equal(formatUsd(0.00005), '$0.00005');
    assert.equal(formatUsd(0.0000000004), '< $0.000001');
    assert.equal(formatUsd(0.00999), '$0.01');
    assert.equal(formatUsd(0.01), '$0.01');
    assert.equal(formatUsd(1), '$1.00');
    assert.equal(formatUsd(1234.5), '$1,234.50');
    assert.equal(formatUsd(-0.5), '-$0.50');
    assert.equal(formatUsd(-0.000031), '-$0.000031');
    assert.equal(formatUsd(0), '$0.00');
    assert.equal(formatUsd(undefined), 'price unknown');
    assert.equal(formatUsd(null, 'unknown'), 'unknown');
    assert.equal(formatUsd(Number.NaN, 'unknown'), 'unknown');
    // Axis ticks a few millionths apart stay apart.
    assert.equal(new Set([0, 0.00001, 0.00002, 0.00003].map((v) => formatUsd(v))).size, 4);
  });

  const settings = parseSettings((key) =>
    ({
      providers: [{ id: 'cloud', kind: 'openai', baseUrl: 'https://api.example.com/v1' }],
      models: [{ id: 'mini', provider: 'cloud', name: 'mini-1', tags: ['cheap'], price: { inputPerMTok: 0.1, outputPerMTok: 0.4 } }],
      'tasks.explain': 'mini',
    })[key as string],
  ).settings;

  it('the answer footer shows a $0.000028 charge as such', () => {
    const decision = routeByTask('r1', 'explain', settings);
    const attempt: Attempt = { requestId: 'r1', task: 'explain', modelId: 'mini', providerId: 'cloud', status: 'ok', inputTokens: 120, outputTokens: 40, usageEstimated: false, latencyMs: 800 };
    const footer = footerFor(attempt, decision, 0.000028);
    assert.match(footer, / · \$0\.000028 · 0\.8 s_/);
    assert.doesNotMatch(footer, /\$0\.0000\b/);
  });

  it('the status bar shows a $0.000028 day as such, and a $2 budget as $2.00', () => {
    const view = statusView({ usd: 0.000028, requests: 1, cheap: 1, byTask: new Map([['explain', 0.000028]]), byModel: new Map([['mini', 0.000028]]) }, [
      { id: 'daily', label: 'Daily', limitUsd: 2, spentUsd: 0.000028, reservedUsd: 0, share: 0.000014, level: 0, onLimit: 'stop' },
    ], [50, 75, 90]);
    assert.match(view.text, /\$0\.000028 \/ \$2\.00/);
    assert.match(view.tooltip, /\| explain \| \$0\.000028 \|/);
  });

  it('Why This Model? writes $1.00 like the rest, not $1.000', () => {
    const record = decisionRecord({ ...routeByTask('r2', 'explain', settings), estimatedCostUsd: 1 });
    const md = decisionMarkdown(record, 'explain in a.ts');
    assert.match(md, /est\. \$1\.00(?!\d)/);
    assert.doesNotMatch(md, /\$\d+\.\d{3}\b/);
  });

  it('no other dollar formatter: no toFixed next to a "$" in the sources', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (entry.name.endsWith('.ts')) {
          readFileSync(full, 'utf8').split('\n').forEach((line, i) => {
            if (/\$\$\{[^}]*toFixed\(|style: 'currency'/.test(line)) offenders.push(`${path.relative(REPO_ROOT, full)}:${i + 1}`);
          });
        }
      }
    };
    walk(path.join(REPO_ROOT, 'src'));
    assert.deepEqual(offenders, []);
  });
});
