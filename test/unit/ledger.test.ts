import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as nodeFs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { LEDGER_FILE, Ledger, NO_LIMITS, QUARANTINE_FILE, type BudgetLimits, type LedgerFs } from '../../src/core/spend/ledger';
import { dayKey, monthKey } from '../../src/core/spend/periods';
import { ledgerLineSchema, type SettleLine } from '../../src/core/spend/spendRecord';
import { REPO_ROOT } from './repoRoot';

const limits = (overrides: Partial<BudgetLimits> = {}): (() => BudgetLimits) => () => ({ ...NO_LIMITS, ...overrides });
const settleOf = (requestId: string, usd: number, extra: Partial<SettleLine> = {}): Omit<SettleLine, 'type'> => ({
  requestId, at: Date.now(), task: 'debug', language: 'typescript', model: 'm', provider: 'p', tokensIn: 100, tokensOut: 50,
  estimated: false, usd, latencyMs: 10, attempts: 1, fallbackUsed: false, status: 'ok', tags: ['cheap'], ...extra,
});
const linesOf = (dir: string) =>
  readFileSync(path.join(dir, LEDGER_FILE), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => ledgerLineSchema.parse(JSON.parse(l)));

describe('spend ledger', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'coderoute-ledger-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reserves, settles with the real cost, and releases; every line is on disk', async () => {
    const ledger = await Ledger.open({ dir, limits: limits({ dailyUsd: 1 }) });
    assert.deepEqual(await ledger.reserve({ requestId: 'a', task: 'debug', usd: 0.3 }), { ok: true });
    assert.equal(ledger.budgets()[0].reservedUsd, 0.3);
    await ledger.settle(settleOf('a', 0.12));
    await ledger.reserve({ requestId: 'b', task: 'debug', usd: 0.3 });
    await ledger.release('b');
    const daily = ledger.budgets()[0];
    assert.equal(daily.spentUsd, 0.12);
    assert.equal(daily.reservedUsd, 0);
    assert.deepEqual(linesOf(dir).map((l) => `${l.type}:${l.requestId}`), ['reserve:a', 'settle:a', 'reserve:b', 'release:b']);
    const reopened = await Ledger.open({ dir, limits: limits({ dailyUsd: 1 }) });
    assert.equal(reopened.budgets()[0].spentUsd, 0.12, 'another window reads the same');
  });

  it('refuses a reservation that would pass a budget, naming it and what it does at the limit', async () => {
    const ledger = await Ledger.open({ dir, limits: limits({ dailyUsd: 1, perTaskDailyUsd: { debug: 0.5 }, onLimit: { daily: 'stop', monthly: 'stop', task: 'step-down' } }) });
    assert.equal((await ledger.reserve({ requestId: 'a', task: 'debug', usd: 0.4 })).ok, true);
    const refused = await ledger.reserve({ requestId: 'b', task: 'debug', usd: 0.2 });
    assert.ok(!refused.ok);
    assert.equal(refused.refusal.budget?.id, 'task:debug');
    assert.equal(refused.refusal.onLimit, 'step-down');
    assert.ok(Math.abs(refused.refusal.remainingUsd - 0.1) < 1e-9);
    assert.equal((await ledger.reserve({ requestId: 'c', task: 'explain', usd: 0.5 })).ok, true, 'another task is not held by the debug budget');
    const daily = await ledger.reserve({ requestId: 'd', task: 'explain', usd: 0.2 });
    assert.ok(!daily.ok && daily.refusal.budget?.id === 'daily' && daily.refusal.onLimit === 'stop');
    assert.match(daily.refusal.message, /Daily budget: \$0.90 of \$1\.00 is spent or held/);
  });

  it('writes exactly one final record per request', async () => {
    const ledger = await Ledger.open({ dir, limits: limits() });
    await ledger.reserve({ requestId: 'a', task: 'debug', usd: 0.3 });
    await ledger.settle(settleOf('a', 0.1));
    await ledger.settle(settleOf('a', 0.2));
    await ledger.release('a');
    assert.deepEqual(linesOf(dir).map((l) => l.type), ['reserve', 'settle']);
    assert.equal(ledger.settled().length, 1);
  });

  it('warns once at each threshold as settled spend crosses it', async () => {
    const ledger = await Ledger.open({ dir, limits: limits({ dailyUsd: 1 }) });
    const warnings: number[] = [];
    ledger.onWarning((w) => warnings.push(w.threshold));
    for (const [id, usd] of [['a', 0.3], ['b', 0.25], ['c', 0.1], ['d', 0.1], ['e', 0.2]] as const) {
      await ledger.reserve({ requestId: id, task: 'debug', usd });
      await ledger.settle(settleOf(id, usd));
    }
    assert.deepEqual(warnings, [0.5, 0.75, 0.9]);
  });

  it('holds a hard cap under any sequence of reserve, settle, release and crash (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('reserve' as const), usd: fc.double({ min: 0, max: 0.6, noNaN: true }) }),
            fc.record({ op: fc.constant('settle' as const), pick: fc.nat(), share: fc.double({ min: 0, max: 1, noNaN: true }) }),
            fc.record({ op: fc.constant('release' as const), pick: fc.nat() }),
            fc.record({ op: fc.constant('crash' as const) }),
          ),
          { maxLength: 40 },
        ),
        async (ops) => {
          const d = mkdtempSync(path.join(os.tmpdir(), 'coderoute-ledger-prop-'));
          try {
            const cap = 1;
            let pid = 1000;
            const dead = new Set<number>();
            const open = () => Ledger.open({ dir: d, limits: limits({ dailyUsd: cap }), pid, isAlive: (p) => !dead.has(p) });
            let ledger = await open();
            const held = new Map<string, number>();
            let n = 0;
            for (const step of ops) {
              if (step.op === 'reserve') {
                const id = `r${n++}`;
                if ((await ledger.reserve({ requestId: id, task: 'debug', usd: step.usd })).ok) held.set(id, step.usd);
              } else if (step.op === 'settle' || step.op === 'release') {
                const ids = [...held.keys()];
                if (ids.length === 0) continue;
                const id = ids[step.pick % ids.length];
                if (step.op === 'settle') await ledger.settle(settleOf(id, (held.get(id) ?? 0) * step.share));
                else await ledger.release(id);
                held.delete(id);
              } else {
                // The window dies; a new one (another process) opens the ledger.
                dead.add(pid);
                pid++;
                held.clear();
                ledger = await open();
              }
              const b = ledger.budgets()[0];
              if (b.spentUsd + b.reservedUsd > cap + 1e-9) return false;
            }
            const finals = new Map<string, number>();
            for (const l of linesOf(d)) if (l.type === 'settle' || l.type === 'release') finals.set(l.requestId, (finals.get(l.requestId) ?? 0) + 1);
            return [...finals.values()].every((c) => c === 1);
          } finally {
            rmSync(d, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('breaks a lock left by a window that died, even one that died before writing its line', async () => {
    const ledger = await Ledger.open({ dir, limits: limits(), lockTimeoutMs: 20_000 });
    const lock = path.join(dir, 'ledger.lock');
    writeFileSync(lock, '');
    const old = new Date(Date.now() - 60_000);
    nodeFs.utimesSync(lock, old, old);
    assert.equal((await ledger.reserve({ requestId: 'a', task: 'debug', usd: 0.1 })).ok, true);
    writeFileSync(lock, `999999 dead-owner ${Date.now()}\n`);
    const dead = await Ledger.open({ dir, limits: limits(), isAlive: (p) => p !== 999999 });
    assert.equal((await dead.reserve({ requestId: 'b', task: 'debug', usd: 0.1 })).ok, true);
    assert.ok(!existsSync(lock), 'the lock is let go after each operation');
  });

  it('charges in full the reservations of a window that died, when the next one opens the ledger', async () => {
    const first = await Ledger.open({ dir, limits: limits(), pid: 4242, isAlive: () => true });
    await first.reserve({ requestId: 'lost', task: 'generate', usd: 0.37 });
    const next = await Ledger.open({ dir, limits: limits(), isAlive: (p) => p !== 4242 });
    const charged = next.settled().find((l) => l.requestId === 'lost');
    assert.equal(charged?.status, 'orphaned');
    assert.equal(charged?.usd, 0.37);
    assert.equal(next.outstanding.size, 0);
  });

  it('sets a torn last line and unreadable lines aside, reports them, and keeps every readable record', async () => {
    const ledger = await Ledger.open({ dir, limits: limits() });
    await ledger.reserve({ requestId: 'a', task: 'debug', usd: 0.1 });
    await ledger.settle(settleOf('a', 0.1));
    appendFileSync(path.join(dir, LEDGER_FILE), 'this is not json\n{"type":"settle","requestId":"x"}\n{"type":"settle","reque');
    const reopened = await Ledger.open({ dir, limits: limits() });
    assert.equal(reopened.quarantined, 3);
    assert.equal(reopened.settled().length, 1);
    const text = readFileSync(path.join(dir, LEDGER_FILE), 'utf8');
    assert.ok(text.endsWith('\n'), 'the torn tail is cut, so the next line starts clean');
    const quarantine = readFileSync(path.join(dir, QUARANTINE_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { why: string; line: string });
    assert.deepEqual(quarantine.map((q) => q.line).sort(), ['this is not json', '{"type":"settle","reque', '{"type":"settle","requestId":"x"}'].sort());
    assert.match(quarantine.find((q) => q.line === '{"type":"settle","reque')?.why ?? '', /incomplete last line/);
    assert.match(quarantine.find((q) => q.line === 'this is not json')?.why ?? '', /not JSON/);
    await reopened.reserve({ requestId: 'b', task: 'debug', usd: 0.1 });
    assert.deepEqual(linesOf(dir).map((l) => `${l.type}:${l.requestId}`), ['settle:a', 'reserve:b'], 'the file was rewritten without them, and parses');
    assert.equal((await Ledger.open({ dir, limits: limits() })).quarantined, 0, 'nothing is set aside twice');
  });

  it('keeps a record it could not write (disk full) for later, and refuses new requests until it can write', async () => {
    let full = false;
    const failing: LedgerFs = {
      ...(Object.fromEntries(['openSync', 'closeSync', 'fsyncSync', 'fstatSync', 'readSync', 'ftruncateSync', 'renameSync', 'unlinkSync', 'readFileSync', 'mkdirSync', 'statSync'].map((k) => [k, (nodeFs as unknown as Record<string, unknown>)[k]])) as unknown as LedgerFs),
      writeSync: (fd, text) => {
        if (full && !text.includes(' ')) {
          const error = new Error('no space left on device') as NodeJS.ErrnoException;
          error.code = 'ENOSPC';
          throw error;
        }
        return nodeFs.writeSync(fd, text);
      },
    };
    const ledger = await Ledger.open({ dir, limits: limits({ dailyUsd: 5 }), fs: failing });
    await ledger.reserve({ requestId: 'a', task: 'debug', usd: 0.2 });
    full = true;
    await ledger.settle(settleOf('a', 0.15));
    assert.equal(ledger.writeProblem, 'ENOSPC');
    assert.equal(ledger.budgets()[0].spentUsd, 0.15, 'the record still counts');
    const refused = await ledger.reserve({ requestId: 'b', task: 'debug', usd: 0.1 });
    assert.ok(!refused.ok && refused.refusal.kind === 'ledger-unwritable');
    assert.match(refused.refusal.message, /cannot write its spend ledger \(ENOSPC\)/);
    full = false;
    assert.equal((await ledger.reserve({ requestId: 'c', task: 'debug', usd: 0.1 })).ok, true);
    assert.deepEqual(linesOf(dir).map((l) => `${l.type}:${l.requestId}`), ['reserve:a', 'settle:a', 'reserve:c'], 'the kept record was written first');
  });

  it('writes a reservation asked with sync: false without an fsync; it holds the money for every window all the same, and its settlement is fsynced', async () => {
    const synced: string[] = [];
    let lastWrite = '';
    const counting: LedgerFs = {
      ...(Object.fromEntries(['openSync', 'closeSync', 'fstatSync', 'readSync', 'ftruncateSync', 'renameSync', 'unlinkSync', 'readFileSync', 'mkdirSync', 'statSync'].map((k) => [k, (nodeFs as unknown as Record<string, unknown>)[k]])) as unknown as LedgerFs),
      writeSync: (fd, text) => {
        lastWrite = String(text);
        return nodeFs.writeSync(fd, text);
      },
      fsyncSync: (fd) => {
        synced.push(lastWrite);
        nodeFs.fsyncSync(fd);
      },
    };
    const ledger = await Ledger.open({ dir, limits: limits({ dailyUsd: 1 }), fs: counting });
    const other = await Ledger.open({ dir, limits: limits({ dailyUsd: 1 }) });
    assert.equal((await ledger.reserve({ requestId: 'fast', task: 'complete', usd: 0.6, sync: false })).ok, true);
    assert.ok(!synced.some((t) => t.includes('"fast"')), 'no fsync for the reservation');
    const refused = await other.reserve({ requestId: 'other', task: 'debug', usd: 0.6 });
    assert.ok(!refused.ok, 'another window sees the money held');
    await ledger.settle(settleOf('fast', 0.01, { task: 'complete' }));
    assert.ok(synced.some((t) => t.includes('"settle"') && t.includes('"fast"')), 'the settlement is fsynced');
    assert.equal((await ledger.reserve({ requestId: 'slow', task: 'debug', usd: 0.1 })).ok, true);
    assert.ok(synced.some((t) => t.includes('"slow"')), 'a reservation is fsynced by default');
  });

  it('compacts through a temp file and a rename without changing any total, and other windows follow', async () => {
    const big = await Ledger.open({ dir, limits: limits({ dailyUsd: 100 }), compactAboveBytes: 4000 });
    const other = await Ledger.open({ dir, limits: limits({ dailyUsd: 100 }) });
    for (let i = 0; i < 30; i++) {
      await big.reserve({ requestId: `r${i}`, task: 'debug', usd: 0.01 });
      await big.settle(settleOf(`r${i}`, 0.01));
    }
    await big.reserve({ requestId: 'open', task: 'debug', usd: 0.5 });
    assert.ok(!linesOf(dir).some((l) => l.type === 'reserve' && l.requestId === 'r0'), 'settled reservations are gone from the file');
    other.refresh();
    for (const l of [big, other]) {
      assert.equal(l.settled().length, 30);
      assert.ok(Math.abs(l.budgets()[0].spentUsd - 0.3) < 1e-9);
      assert.equal(l.budgets()[0].reservedUsd, 0.5);
    }
    assert.ok(!existsSync(`${path.join(dir, LEDGER_FILE)}.compact`), 'no temp file left');
  });

  it('four processes × 25 requests on one file: every record is there, the file parses, the cap holds', async function () {
    this.timeout(60_000);
    const worker = path.join(REPO_ROOT, 'out', 'test', 'support', 'ledgerWorker.js');
    const cap = 1.5;
    const run = (name: string) =>
      new Promise<{ sent: string[]; refused: string[] }>((resolve, reject) => {
        const child = spawn(process.execPath, [worker, dir, name, '25', String(cap), '0.02']);
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => process.stderr.write(d));
        child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as { sent: string[]; refused: string[] }) : reject(new Error(`worker ${name} exited ${code}`))));
      });
    const results = await Promise.all(['w1', 'w2', 'w3', 'w4'].map(run));
    const lines = linesOf(dir);
    const settled = lines.filter((l) => l.type === 'settle');
    const sent = results.flatMap((r) => r.sent);
    assert.equal(sent.length + results.flatMap((r) => r.refused).length, 100);
    assert.deepEqual(settled.map((l) => l.requestId).sort(), [...sent].sort(), 'one settled record for every request that was sent');
    const spent = settled.reduce((a, l) => a + (l.type === 'settle' ? l.usd : 0), 0);
    assert.ok(spent <= cap + 1e-9, `spent ${spent} stays within the cap ${cap}`);
    // 100 requests of $0.016 would cost $1.60: the cap must have refused some.
    assert.ok(results.flatMap((r) => r.refused).length > 0, 'the cap refused the requests that did not fit');
  });

  it('a process killed while holding a reservation: the ledger reads after restart and the reservation is charged in full', async function () {
    this.timeout(30_000);
    const worker = path.join(REPO_ROOT, 'out', 'test', 'support', 'ledgerWorker.js');
    const child = spawn(process.execPath, [worker, dir, 'killed', '1', '10', '0.25', 'hold']);
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve()));
    // Killed in the middle of writing its next line.
    appendFileSync(path.join(dir, LEDGER_FILE), '{"type":"settle","requestId":"killed-held","at":17');
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('close', resolve));
    const after = await Ledger.open({ dir, limits: limits({ dailyUsd: 10 }) });
    assert.equal(after.quarantined, 1);
    const charged = after.settled().find((l) => l.requestId === 'killed-held');
    assert.equal(charged?.status, 'orphaned');
    assert.equal(charged?.usd, 0.25);
  });
});

describe('spend periods: local days and months', () => {
  const withTz = <T>(tz: string, f: () => T): T => {
    const before = process.env.TZ;
    process.env.TZ = tz;
    try {
      return f();
    } finally {
      if (before === undefined) delete process.env.TZ;
      else process.env.TZ = before;
    }
  };

  it('puts a time in the local day and month of the time zone', () => {
    const at = Date.UTC(2026, 10, 30, 23, 30);
    assert.equal(withTz('UTC', () => dayKey(at)), '2026-11-30');
    assert.equal(withTz('Asia/Tokyo', () => dayKey(at)), '2026-12-01');
    assert.equal(withTz('Asia/Tokyo', () => monthKey(at)), '2026-12');
    assert.equal(withTz('America/Los_Angeles', () => dayKey(at)), '2026-11-30');
  });

  it('starts a new day and month at local midnight at the end of a month, in a leap year too', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'coderoute-ledger-'));
    try {
      await withTz('Europe/Berlin', async () => {
        let now = new Date(2028, 1, 29, 23, 59).getTime();
        const ledger = await Ledger.open({ dir, limits: limits({ dailyUsd: 1, monthlyUsd: 2 }), now: () => now });
        await ledger.reserve({ requestId: 'feb', task: 'debug', usd: 0.5 });
        await ledger.settle(settleOf('feb', 0.5, { at: now }));
        now = new Date(2028, 2, 1, 0, 1).getTime();
        const [daily, monthly] = ledger.budgets(now);
        assert.equal(daily.spentUsd, 0, 'a new day');
        assert.equal(monthly.spentUsd, 0, 'a new month');
        assert.equal(ledger.budgets(new Date(2028, 1, 29, 12).getTime())[1].spentUsd, 0.5);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts records from after the current time (the clock moved back) towards today, so a budget cannot be reset by the clock', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'coderoute-ledger-'));
    try {
      let now = Date.UTC(2026, 10, 28, 12);
      const ledger = await Ledger.open({ dir, limits: limits({ dailyUsd: 1, monthlyUsd: 10 }), now: () => now });
      await ledger.reserve({ requestId: 'a', task: 'debug', usd: 0.8 });
      await ledger.settle(settleOf('a', 0.8, { at: now }));
      now -= 3 * 86_400_000; // the clock is set back three days
      const reopened = await Ledger.open({ dir, limits: limits({ dailyUsd: 1, monthlyUsd: 10 }), now: () => now });
      assert.equal(reopened.budgets(now)[0].spentUsd, 0.8);
      assert.equal((await reopened.reserve({ requestId: 'b', task: 'debug', usd: 0.3 })).ok, false);
      writeFileSync(path.join(dir, 'noop'), '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
