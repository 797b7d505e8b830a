import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseCsv } from '../../../src/core/replay/outcomeMatrix';
import type { ExplainCommandResult } from '../../../src/vscode/commands/explainSelection';
import { MockLlmServer } from '../../mock/mockLlmServer';
import { MockOtlpCollector } from '../../mock/mockOtlpCollector';
import { openFixture, select, sleep, userSettings } from '../vscodeHelpers';

const KEYS = ['providers', 'models', 'tasks.explain', 'routing.mode', 'telemetry.otlpEndpoint'] as const;

interface Span {
  name: string;
  traceId: string;
  spanId: string;
  attributes: { key: string; value: Record<string, unknown> }[];
}

function spansIn(collector: MockOtlpCollector): Span[] {
  return collector
    .to('/v1/traces')
    .flatMap((r) => (r.body as { resourceSpans: { scopeSpans: { spans: Span[] }[] }[] }).resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((s) => s.spans)));
}

const attribute = (span: Span, key: string) => Object.values(span.attributes.find((a) => a.key === key)?.value ?? {})[0];

describe('Spend export: CSV and OpenTelemetry in a real VS Code', () => {
  let server: MockLlmServer;
  let collector: MockOtlpCollector;
  let settings: ReturnType<typeof userSettings>;
  let dir: string;

  before(async () => {
    server = await MockLlmServer.start();
    collector = await MockOtlpCollector.start();
    dir = mkdtempSync(path.join(os.tmpdir(), 'coderoute-spend-export-'));
    settings = userSettings(KEYS);
    await settings.set('providers', [{ id: 'export', kind: 'openai', baseUrl: server.baseUrl, auth: 'none' }]);
    await settings.set('models', [{ id: 'export-model', provider: 'export', name: 'export-v1', tags: ['cheap'], price: { inputPerMTok: 1, outputPerMTok: 2 } }]);
    await settings.set('tasks.explain', ['export-model']);
    await settings.set('routing.mode', 'task');
  });

  after(async () => {
    await vscode.commands.executeCommand('coderoute.clearOtlpToken');
    await settings.restore();
    await server.close();
    await collector.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const explain = async () => {
    const editor = await openFixture('src/greeter.ts');
    select(editor, 'const out: string[] = [];');
    const result = await vscode.commands.executeCommand<ExplainCommandResult>('coderoute.explainSelection');
    assert.equal(result.status, 'ok', JSON.stringify(result));
  };

  it('sends a span per settled request to the collector, with the token and without any code', async () => {
    assert.equal(await vscode.commands.executeCommand('coderoute.setOtlpToken', 'integration-token'), true);
    await settings.set('telemetry.otlpEndpoint', collector.url);
    await sleep(200);
    await explain();
    // The exporter sends every 5 s.
    await collector.waitFor(1, 15_000);
    const span = spansIn(collector).find((s) => attribute(s, 'gen_ai.request.model') === 'export-model');
    assert.ok(span, 'a span for the request');
    assert.equal(span.name, 'chat export-model');
    assert.match(span.traceId, /^[0-9a-f]{32}$/);
    assert.match(span.spanId, /^[0-9a-f]{16}$/);
    assert.equal(attribute(span, 'coderoute.task'), 'explain');
    assert.equal(attribute(span, 'coderoute.language'), 'typescript');
    for (const request of collector.requests) {
      assert.equal(request.headers.authorization, 'Bearer integration-token');
      assert.doesNotMatch(request.raw, /const out|greeter/, 'no code and no path');
    }
  });

  it('sends nothing once the endpoint is cleared', async () => {
    await settings.set('telemetry.otlpEndpoint', '');
    await sleep(200);
    const before = collector.requests.length;
    await explain();
    await sleep(6000);
    assert.equal(collector.requests.length, before);
  });

  it('exports the ledger to a CSV file given as a Uri, without a dialog', async () => {
    const target = vscode.Uri.file(path.join(dir, 'spend.csv'));
    const written = await vscode.commands.executeCommand<vscode.Uri | undefined>('coderoute.exportSpend', target);
    assert.equal(written?.fsPath, target.fsPath);
    const rows = parseCsv(readFileSync(target.fsPath, 'utf8'));
    assert.equal(rows[0][0], 'time_utc');
    const model = rows[0].indexOf('model');
    const mine = rows.slice(1).filter((r) => r[model] === 'export-model');
    assert.ok(mine.length >= 2, `the two requests of this suite are in the file (${mine.length})`);
    for (const row of mine) assert.equal(row.length, rows[0].length);
  });
});
