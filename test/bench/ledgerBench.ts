/**
 * bench:spend, ledger part: the cost of appending a record (a reservation, a settlement: lock,
 * read what others wrote, one write, fsync) and of the status bar's update, on a ledger that
 * already holds 100,000 records; and how long opening such a ledger takes.
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { LEDGER_FILE, Ledger, NO_LIMITS } from '../../src/core/spend/ledger';
import { statusView } from '../../src/core/spend/statusText';
import { generateLedger } from '../support/spendLedger';

const RECORDS = 100_000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summary(label: string, times: number[], targetMs: number, at: number): string {
  const sorted = [...times].sort((a, b) => a - b);
  const v = percentile(sorted, at);
  return `${label.padEnd(34)} p50 ${percentile(sorted, 50).toFixed(3)} ms, p95 ${percentile(sorted, 95).toFixed(3)} ms, max ${sorted[sorted.length - 1].toFixed(3)} ms — target p${at} <= ${targetMs} ms: ${v <= targetMs ? 'PASS' : 'FAIL'}`;
}

export async function ledgerRows(): Promise<string[]> {
  const out: string[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coderoute-bench-ledger-'));
  try {
    const now = Date.now();
    const { settled, outcomes } = generateLedger({ records: RECORDS, days: 90, now });
    const lines = [...settled, ...outcomes].sort((a, b) => a.at - b.at);
    writeFileSync(path.join(dir, LEDGER_FILE), lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    const limits = () => ({ ...NO_LIMITS, dailyUsd: 1e6, monthlyUsd: 1e7, perTaskDailyUsd: { debug: 1e5 } });
    // The longest stretch the event loop is kept from other work while the window opens the ledger.
    let longest = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const t = performance.now();
      longest = Math.max(longest, t - last);
      last = t;
    }, 1);
    const openStarted = performance.now();
    const ledger = await Ledger.open({ dir, limits });
    const openMs = performance.now() - openStarted;
    clearInterval(ticker);
    out.push(`open a ledger of ${ledger.settled().length.toLocaleString('en')} settled records: ${openMs.toFixed(0)} ms in the background, longest event-loop stall ${longest.toFixed(0)} ms`);

    const reserve: number[] = [];
    const settle: number[] = [];
    for (let i = 0; i < 400; i++) {
      const requestId = `bench-${i}`;
      let t = performance.now();
      await ledger.reserve({ requestId, task: 'debug', usd: 0.01 });
      reserve.push(performance.now() - t);
      t = performance.now();
      await ledger.settle({
        requestId, at: Date.now(), task: 'debug', language: 'typescript', model: 'bench-model', provider: 'p', tokensIn: 1200, tokensOut: 300,
        estimated: false, usd: 0.004, counterfactualUsd: 0.02, latencyMs: 900, attempts: 1, fallbackUsed: false, status: 'ok', tags: ['cheap'],
      });
      settle.push(performance.now() - t);
    }
    // The floor on this disk, in the same process: one line appended and fsynced, nothing else.
    const raw: number[] = [];
    const rawFile = path.join(dir, 'raw.jsonl');
    const sample = `${JSON.stringify(lines[lines.length - 1])}\n`;
    for (let i = 0; i < 400; i++) {
      const t = performance.now();
      const fd = openSync(rawFile, 'a');
      writeSync(fd, sample);
      fsyncSync(fd);
      closeSync(fd);
      raw.push(performance.now() - t);
    }
    const p95 = (times: number[]) => percentile([...times].sort((a, b) => a - b), 95);
    out.push(summary('append a reservation (lock+fsync)', reserve, 1, 95));
    out.push(summary('append a settlement (lock+fsync)', settle, 1, 95));
    out.push(`${'baseline: append + fsync of one line'.padEnd(34)} p95 ${p95(raw).toFixed(3)} ms — the ledger costs ${(p95(reserve) / p95(raw)).toFixed(1)}× (reserve) and ${(p95(settle) / p95(raw)).toFixed(1)}× (settle) that`);

    const status: number[] = [];
    const warnAt = [0.5, 0.75, 0.9];
    for (let i = 0; i < 2000; i++) {
      const t = performance.now();
      const at = Date.now();
      statusView(ledger.today(at), ledger.budgets(at), warnAt);
      status.push(performance.now() - t);
    }
    out.push(summary('status bar update (text, tooltip)', status, 0.5, 95));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

