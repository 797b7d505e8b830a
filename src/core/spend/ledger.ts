import { randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../log/logger';
import { formatUsd } from '../format/formatUsd';
import { dayKey, elapsed, monthKey } from './periods';
import { asLedgerLine, ledgerLineSchema, type LedgerLine, type OutcomeLine, type ReserveLine, type SettleLine } from './spendRecord';
import type { BudgetStatus, SpendSource } from './spendSource';

export const LEDGER_FILE = 'ledger.jsonl';
export const QUARANTINE_FILE = 'ledger.quarantine.jsonl';
const LOCK_FILE = 'ledger.lock';

/** What a budget does at its limit: send the request to a model that fits, or send nothing. */
export type OnLimit = 'step-down' | 'stop';

export interface BudgetLimits {
  /** Dollars; 0 = none. */
  dailyUsd: number;
  monthlyUsd: number;
  /** Daily dollars per task; a task not named has none. */
  perTaskDailyUsd: Readonly<Record<string, number>>;
  onLimit: { daily: OnLimit; monthly: OnLimit; task: OnLimit };
  /** Shares of a budget at which to warn, ascending (0.5, 0.75, 0.9). */
  warnAt: readonly number[];
}

export const NO_LIMITS: BudgetLimits = { dailyUsd: 0, monthlyUsd: 0, perTaskDailyUsd: {}, onLimit: { daily: 'step-down', monthly: 'stop', task: 'step-down' }, warnAt: [0.5, 0.75, 0.9] };

/** The file operations the ledger uses; a test swaps one to fail like a full disk. */
export interface LedgerFs {
  openSync: typeof nodeFs.openSync;
  closeSync: typeof nodeFs.closeSync;
  writeSync: (fd: number, text: string) => number;
  fsyncSync: typeof nodeFs.fsyncSync;
  fstatSync: (fd: number) => { size: number; ino: number };
  readSync: (fd: number, buffer: Buffer, offset: number, length: number, position: number) => number;
  ftruncateSync: typeof nodeFs.ftruncateSync;
  renameSync: typeof nodeFs.renameSync;
  unlinkSync: typeof nodeFs.unlinkSync;
  readFileSync: (file: string, encoding: 'utf8') => string;
  mkdirSync: (dir: string, options: { recursive: true }) => unknown;
  statSync: (file: string) => { ino: number; size: number; mtimeMs?: number };
}

export interface LedgerOptions {
  dir: string;
  limits: () => BudgetLimits;
  now?: () => number;
  fs?: LedgerFs;
  logger?: Logger;
  /** Whether a process is still running (a reservation of a dead one is charged in full). */
  isAlive?: (pid: number) => boolean;
  pid?: number;
  /** How long to wait for another window's lock before giving up. */
  lockTimeoutMs?: number;
  /** The file is rewritten without settled reservations once it grows past this many bytes. */
  compactAboveBytes?: number;
}

/** Why a reservation was refused. */
export interface BudgetRefusal {
  kind: 'budget' | 'ledger-unwritable';
  /** The budget that would be exceeded. */
  budget?: BudgetStatus;
  /** What the budget says to do at its limit. */
  onLimit: OnLimit;
  /** Dollars left in the tightest budget (never below 0). */
  remainingUsd: number;
  message: string;
}

export type ReserveResult = { ok: true } | { ok: false; refusal: BudgetRefusal };

/** A threshold crossed: say so once per budget, threshold and period. */
export interface BudgetWarning {
  budget: BudgetStatus;
  threshold: number;
}

/** Settled spend of one local day. */
interface DayTotals {
  usd: number;
  requests: number;
  cheap: number;
  byTask: Map<string, number>;
  byModel: Map<string, number>;
}

function defaultIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const realFs: LedgerFs = {
  openSync: nodeFs.openSync,
  closeSync: nodeFs.closeSync,
  writeSync: (fd, text) => nodeFs.writeSync(fd, text),
  fsyncSync: nodeFs.fsyncSync,
  fstatSync: (fd) => nodeFs.fstatSync(fd),
  readSync: (fd, buffer, offset, length, position) => nodeFs.readSync(fd, buffer, offset, length, position),
  ftruncateSync: nodeFs.ftruncateSync,
  renameSync: nodeFs.renameSync,
  unlinkSync: nodeFs.unlinkSync,
  readFileSync: (file, encoding) => nodeFs.readFileSync(file, encoding),
  mkdirSync: (dir, options) => nodeFs.mkdirSync(dir, options),
  statSync: (file) => nodeFs.statSync(file),
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A reservation older than this is charged in full even if its process seems alive (a reused pid). */
const ORPHAN_AFTER_MS = 30 * 60_000;
/** How much of the file is read at a time when a window opens it. */
const READ_SLICE_BYTES = 512 * 1024;

/**
 * The spend ledger: one append-only file of JSON lines in the extension's global storage, shared
 * by every VS Code window on the machine.
 *
 * - Before a call, `reserve` takes the most it can cost against every budget that applies, under
 *   a lock file held across windows, after reading what the others appended: a hard limit holds
 *   with any number of concurrent requests and windows.
 * - After it, `settle` writes exactly one final record with what it cost (a cancelled stream is
 *   charged for what it produced), or `release` gives the reservation back.
 * - Every line is written with one write and fsynced before the call goes on, so a crash loses no
 *   settled record. A torn last line (a crash mid-write) and any unreadable line are moved to the
 *   quarantine file and reported, never dropped silently. Reservations of a process that died are
 *   charged in full.
 * - A line that cannot be written (a full disk) stays in memory and is written first next time;
 *   until then new reservations are refused with a message.
 * - Compaction rewrites the file without settled reservations through a temp file and a rename.
 */
export class Ledger implements SpendSource {
  private readonly fs: LedgerFs;
  private readonly file: string;
  private readonly now: () => number;
  private readonly pid: number;
  private readonly owner = randomBytes(8).toString('hex');
  private readonly isAlive: (pid: number) => boolean;
  /** Bytes of the file read so far, and which file (a compaction replaces it). */
  private offset = 0;
  private ino = -1;
  private readonly settledLines: SettleLine[] = [];
  private readonly outcomeLines: OutcomeLine[] = [];
  private readonly open = new Map<string, ReserveLine>();
  private readonly finals = new Set<string>();
  private readonly days = new Map<string, DayTotals>();
  private readonly months = new Map<string, number>();
  /** Task spend per day: `${day}\u0000${task}`. */
  private readonly taskDays = new Map<string, number>();
  /** Records stamped after `now` (the clock was moved back): they count towards the current period. */
  private readonly future: SettleLine[] = [];
  /** Lines that could not be written yet. */
  private readonly unwritten: string[] = [];
  private writeError: string | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly warningListeners = new Set<(w: BudgetWarning) => void>();
  private readonly localListeners = new Set<(line: SettleLine) => void>();
  private readonly warned = new Set<string>();
  private lastOrphanCheck = 0;
  /** An unreadable line was set aside: rewrite the file without it before letting go of the lock. */
  private rewrite = false;
  /** Unreadable lines met without the lock, set aside the next time it is held. */
  private readonly unreadable: { text: string; why: string }[] = [];
  /** The file's size after the last compaction. */
  private compactedBytes = 0;
  /** Lines moved to quarantine by this process. */
  quarantined = 0;

  private constructor(private readonly options: LedgerOptions) {
    this.fs = options.fs ?? realFs;
    this.file = path.join(options.dir, LEDGER_FILE);
    this.now = options.now ?? Date.now;
    this.pid = options.pid ?? process.pid;
    this.isAlive = options.isAlive ?? defaultIsAlive;
  }

  /** Opens (or creates) the ledger in `dir` and reads it, repairing a torn last line. */
  static async open(options: LedgerOptions): Promise<Ledger> {
    const ledger = new Ledger(options);
    ledger.fs.mkdirSync(options.dir, { recursive: true });
    await ledger.readAllInSlices();
    await ledger.locked(() => ledger.chargeOrphans(true));
    return ledger;
  }

  get path(): string {
    return this.file;
  }

  /** Why writing failed, while it does; new reservations are refused until it works again. */
  get writeProblem(): string | undefined {
    return this.writeError;
  }

  settled(): readonly SettleLine[] {
    return this.settledLines;
  }

  outcomes(): readonly OutcomeLine[] {
    return this.outcomeLines;
  }

  onDidChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls `listener` with each record this window settles (not those read from other windows): for exporters. */
  onDidSettleLocally(listener: (line: SettleLine) => void): () => void {
    this.localListeners.add(listener);
    return () => this.localListeners.delete(listener);
  }

  onWarning(listener: (warning: BudgetWarning) => void): () => void {
    this.warningListeners.add(listener);
    return () => this.warningListeners.delete(listener);
  }

  /**
   * Takes `usd` against every budget that applies to `task`, or refuses, naming the budget and
   * what it says to do. Lines other windows appended are read first, under the lock.
   */
  /**
   * Holds `usd` for a request against every budget that applies, or refuses. With `sync: false`
   * the reservation line is written without an fsync: it still survives a crash of the process (the
   * system has it), only a crash of the system could lose it, and then only the charge of an orphan.
   * Inline completions take that trade for a millisecond at every pause in typing; their
   * settlements are fsynced like every other.
   */
  async reserve(request: { requestId: string; task: string; usd: number; sync?: boolean }): Promise<ReserveResult> {
    if (!(request.usd >= 0) || !Number.isFinite(request.usd)) throw new Error(`a reservation needs a dollar amount, not ${request.usd}`);
    return this.locked(() => {
      this.chargeOrphans(false);
      if (this.writeError) {
        return {
          ok: false as const,
          refusal: {
            kind: 'ledger-unwritable' as const,
            onLimit: 'stop' as const,
            remainingUsd: 0,
            message: `CodeRoute cannot write its spend ledger (${this.writeError}), so it sends no new requests until it can. Free disk space or fix the permissions of ${this.options.dir}.`,
          },
        };
      }
      const now = this.now();
      for (const budget of this.budgets(now, request.task)) {
        if (budget.spentUsd + budget.reservedUsd + request.usd > budget.limitUsd + 1e-12) {
          const remainingUsd = Math.max(0, budget.limitUsd - budget.spentUsd - budget.reservedUsd);
          return {
            ok: false as const,
            refusal: {
              kind: 'budget' as const,
              budget,
              onLimit: budget.onLimit,
              remainingUsd,
              message: `${budget.label} budget: ${formatUsd(budget.spentUsd + budget.reservedUsd)} of ${formatUsd(budget.limitUsd)} is spent or held; this request may cost up to ${formatUsd(request.usd)}.`,
            },
          };
        }
      }
      const line: ReserveLine = { type: 'reserve', requestId: request.requestId, at: now, task: request.task, usd: request.usd, pid: this.pid, owner: this.owner };
      this.append([line], request.sync ?? true);
      if (this.writeError) {
        return { ok: false as const, refusal: { kind: 'ledger-unwritable' as const, onLimit: 'stop' as const, remainingUsd: 0, message: `CodeRoute cannot write its spend ledger (${this.writeError}); nothing was sent.` } };
      }
      return { ok: true as const };
    });
  }

  /** The final record of a request: what it cost. A second final record for a request is ignored. */
  async settle(record: Omit<SettleLine, 'type'>): Promise<void> {
    await this.locked(() => {
      if (this.finals.has(record.requestId)) return;
      this.append([{ ...record, type: 'settle' }]);
    });
  }

  /** Gives a reservation back: the call was not made, or cost nothing. */
  async release(requestId: string): Promise<void> {
    await this.locked(() => {
      if (this.finals.has(requestId) || !this.open.has(requestId)) return;
      this.append([{ type: 'release', requestId, at: this.now() }]);
    });
  }

  /** The user's verdict on a request, for acceptance rates. */
  async recordOutcome(requestId: string, kind: string): Promise<void> {
    await this.locked(() => this.append([{ type: 'outcome', requestId, at: this.now(), kind }]));
  }

  /** Reads what other windows appended (without waiting for the lock); views call this before showing. */
  refresh(): void {
    const before = this.offset;
    this.readNew(false);
    if (this.offset !== before) this.listeners.forEach((l) => l());
  }

  /** Where every budget that applies stands (all of them without a task). */
  budgets(now: number = this.now(), task?: string): BudgetStatus[] {
    const limits = this.options.limits();
    const day = dayKey(now);
    const month = monthKey(now);
    // Records stamped after now (the clock went back) count towards this period when they fall in a later one.
    let futureDayUsd = 0;
    let futureMonthUsd = 0;
    const futureTask = new Map<string, number>();
    for (const f of this.future) {
      if (f.at <= now) continue;
      if (dayKey(f.at) !== day) {
        futureDayUsd += f.usd;
        futureTask.set(f.task, (futureTask.get(f.task) ?? 0) + f.usd);
      }
      if (monthKey(f.at) !== month) futureMonthUsd += f.usd;
    }
    let reserved = 0;
    const reservedTask = new Map<string, number>();
    for (const r of this.open.values()) {
      reserved += r.usd;
      reservedTask.set(r.task, (reservedTask.get(r.task) ?? 0) + r.usd);
    }
    const out: BudgetStatus[] = [];
    const add = (id: string, label: string, limitUsd: number, spentUsd: number, reservedUsd: number, onLimit: OnLimit) => {
      if (!(limitUsd > 0)) return;
      const share = (spentUsd + reservedUsd) / limitUsd;
      const level = share >= 1 ? 1 : Math.max(0, ...limits.warnAt.filter((t) => share >= t));
      out.push({ id, label, limitUsd, spentUsd, reservedUsd, share, level, onLimit });
    };
    add('daily', 'Daily', limits.dailyUsd, (this.days.get(day)?.usd ?? 0) + futureDayUsd, reserved, limits.onLimit.daily);
    add('monthly', 'Monthly', limits.monthlyUsd, (this.months.get(month) ?? 0) + futureMonthUsd, reserved, limits.onLimit.monthly);
    for (const [t, limit] of Object.entries(limits.perTaskDailyUsd)) {
      if (task !== undefined && t !== task) continue;
      add(`task:${t}`, `Daily ${t}`, limit, (this.taskDays.get(`${day}\u0000${t}`) ?? 0) + (futureTask.get(t) ?? 0), reservedTask.get(t) ?? 0, limits.onLimit.task);
    }
    return out;
  }

  /** Today's settled spend (and requests, and how many went to cheap models), with its breakdown. */
  today(now: number = this.now()): { usd: number; requests: number; cheap: number; byTask: ReadonlyMap<string, number>; byModel: ReadonlyMap<string, number> } {
    const t = this.days.get(dayKey(now));
    return t ?? { usd: 0, requests: 0, cheap: 0, byTask: new Map(), byModel: new Map() };
  }

  /** Spend today and this month, held reservations included, and how far through both we are: for the router's pace. */
  spendState(now: number = this.now()): { spentTodayUsd: number; spentMonthUsd: number; dayElapsed: number; monthElapsed: number; source: string } {
    const [daily, monthly] = ['daily', 'monthly'].map((id) => this.budgets(now).find((b) => b.id === id));
    let reserved = 0;
    for (const r of this.open.values()) reserved += r.usd;
    const e = elapsed(now);
    const today = this.days.get(dayKey(now))?.usd ?? 0;
    const month = this.months.get(monthKey(now)) ?? 0;
    return {
      spentTodayUsd: daily ? daily.spentUsd + daily.reservedUsd : today + reserved,
      spentMonthUsd: monthly ? monthly.spentUsd + monthly.reservedUsd : month + reserved,
      dayElapsed: e.day,
      monthElapsed: e.month,
      source: 'the spend ledger (every window of this machine), calls in flight included',
    };
  }

  /** Requests held by calls in flight, by id. */
  get outstanding(): ReadonlyMap<string, ReserveLine> {
    return this.open;
  }

  // ---- the file ----

  /** Runs `work` holding the lock shared by every window; reads the other windows' lines first. */
  private async locked<T>(work: () => T): Promise<T> {
    const lock = path.join(this.options.dir, LOCK_FILE);
    const deadline = Date.now() + (this.options.lockTimeoutMs ?? 5000);
    for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
      let fd: number | undefined;
      try {
        fd = this.fs.openSync(lock, 'wx');
        this.fs.writeSync(fd, `${this.pid} ${this.owner} ${Date.now()}\n`);
      } catch (error) {
        if (fd !== undefined) this.fs.closeSync(fd);
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        this.breakStaleLock(lock);
        if (Date.now() > deadline) throw new Error(`the spend ledger is locked by another window (${lock}); try again`);
        await sleep(wait);
        continue;
      }
      try {
        this.fs.closeSync(fd);
        this.readNew(true);
        for (const { text, why } of this.unreadable.splice(0)) {
          this.quarantine(text, why);
          this.rewrite = true;
        }
        this.retryUnwritten();
        const result = work();
        this.compactIfNeeded();
        return result;
      } finally {
        try {
          this.fs.unlinkSync(lock);
        } catch {
          // Already broken by another window that found it stale; nothing to undo.
        }
      }
    }
  }

  /** Removes a lock whose process is gone, or that is far older than any ledger operation. */
  private breakStaleLock(lock: string): void {
    let text: string;
    try {
      text = this.fs.readFileSync(lock, 'utf8');
    } catch {
      return;
    }
    const [pid, , at] = text.trim().split(' ');
    let stamped = Number(at);
    if (!Number.isFinite(stamped)) {
      // A lock whose owner died before writing its line: its age is the file's.
      try {
        stamped = this.fs.statSync(lock).mtimeMs ?? Date.now();
      } catch {
        return;
      }
    }
    const age = Date.now() - stamped;
    // A lock file still being written has no time yet: give it a moment.
    if ((Number(pid) > 0 && !this.isAlive(Number(pid)) && Number(pid) !== this.pid) || age > 10_000) {
      try {
        this.fs.unlinkSync(lock);
        this.options.logger?.warn(`spend ledger: broke a stale lock (${text.trim()})`);
      } catch {
        // Someone else broke it first.
      }
    }
  }

  /** Reads the lines appended since the last read; under the lock, a torn last line is quarantined and cut. */
  /**
   * Reads what is there in slices of `READ_SLICE_BYTES`, letting other work run in between: a long
   * history is read when a window opens without stalling the extension host.
   */
  private async readAllInSlices(): Promise<void> {
    for (;;) {
      const before = this.offset;
      const more = this.readNew(false, READ_SLICE_BYTES);
      if (!more || this.offset === before) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /**
   * Reads the lines appended since the last read (at most `maxBytes`; true when more is left).
   * Under the lock, a torn last line is quarantined and cut and unreadable lines are set aside;
   * without it, they wait for the next reader that holds the lock.
   */
  private readNew(underLock: boolean, maxBytes = Infinity): boolean {
    let fd: number;
    try {
      fd = this.fs.openSync(this.file, underLock ? 'a+' : 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
    try {
      const stat = this.fs.fstatSync(fd);
      if (stat.ino !== this.ino || stat.size < this.offset) {
        // A new file (compacted by another window): start over.
        this.reset();
        this.ino = stat.ino;
      }
      if (stat.size === this.offset) return false;
      const toEnd = stat.size - this.offset;
      const length = Math.min(toEnd, maxBytes);
      const buffer = Buffer.allocUnsafe(length);
      let read = 0;
      while (read < length) {
        const n = this.fs.readSync(fd, buffer, read, length - read, this.offset + read);
        if (n <= 0) break;
        read += n;
      }
      const lastNewline = buffer.lastIndexOf(0x0a, read - 1);
      // A slice that holds no whole line: read on to the end instead.
      if (lastNewline < 0 && length < toEnd) return this.readNew(underLock);
      const complete = lastNewline + 1;
      const text = buffer.toString('utf8', 0, complete);
      let start = 0;
      while (start < text.length) {
        const end = text.indexOf('\n', start);
        const line = text.slice(start, end);
        start = end + 1;
        if (line.trim() === '') continue;
        this.ingest(line, underLock);
      }
      this.offset += complete;
      if (length < toEnd) return true;
      if (complete < read && underLock) {
        // Only a crash mid-write leaves bytes after the last newline (writers hold the lock).
        this.quarantine(buffer.toString('utf8', complete, read), 'an incomplete last line (a write cut short)');
        this.fs.ftruncateSync(fd, this.offset);
        this.fs.fsyncSync(fd);
      }
    } finally {
      this.fs.closeSync(fd);
    }
    return false;
  }

  private reset(): void {
    this.offset = 0;
    this.unreadable.length = 0;
    this.settledLines.length = 0;
    this.outcomeLines.length = 0;
    this.open.clear();
    this.finals.clear();
    this.days.clear();
    this.months.clear();
    this.taskDays.clear();
    this.future.length = 0;
  }

  /** Counts one line; an unreadable one is set aside (under the lock) and the file rewritten without it. */
  private ingest(text: string, underLock: boolean): void {
    let why: string;
    try {
      const value: unknown = JSON.parse(text);
      const line = asLedgerLine(value);
      if (line) {
        this.apply(line);
        return;
      }
      const parsed = ledgerLineSchema.safeParse(value);
      if (parsed.success) {
        this.apply(parsed.data);
        return;
      }
      why = `not a ledger record (${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? 'invalid'})`;
    } catch (error) {
      why = `not JSON (${error instanceof Error ? error.message : String(error)})`;
    }
    // A window reading without the lock leaves the line to the next moment it holds it.
    if (!underLock) {
      this.unreadable.push({ text, why });
      return;
    }
    this.quarantine(text, why);
    this.rewrite = true;
  }

  private apply(line: LedgerLine): void {
    switch (line.type) {
      case 'reserve':
        if (!this.finals.has(line.requestId)) this.open.set(line.requestId, line);
        break;
      case 'release':
        this.open.delete(line.requestId);
        this.finals.add(line.requestId);
        break;
      case 'outcome':
        this.outcomeLines.push(line);
        break;
      case 'settle': {
        if (this.finals.has(line.requestId)) {
          // Exactly one final record per request: a second one is reported, not counted.
          this.options.logger?.warn(`spend ledger: a second final record for ${line.requestId} was ignored`);
          break;
        }
        this.open.delete(line.requestId);
        this.finals.add(line.requestId);
        this.settledLines.push(line);
        this.count(line);
        break;
      }
    }
  }

  private count(line: SettleLine): void {
    if (line.at > this.now()) this.future.push(line);
    const day = dayKey(line.at);
    let totals = this.days.get(day);
    if (!totals) {
      totals = { usd: 0, requests: 0, cheap: 0, byTask: new Map(), byModel: new Map() };
      this.days.set(day, totals);
    }
    totals.usd += line.usd;
    totals.requests++;
    if (line.tags.includes('cheap') || line.tags.includes('local')) totals.cheap++;
    totals.byTask.set(line.task, (totals.byTask.get(line.task) ?? 0) + line.usd);
    totals.byModel.set(line.model, (totals.byModel.get(line.model) ?? 0) + line.usd);
    const month = monthKey(line.at);
    this.months.set(month, (this.months.get(month) ?? 0) + line.usd);
    const key = `${day}\u0000${line.task}`;
    this.taskDays.set(key, (this.taskDays.get(key) ?? 0) + line.usd);
  }

  /** Appends lines with one write and an fsync; on failure keeps them to write first next time. */
  private append(lines: LedgerLine[], sync = true): void {
    const texts = lines.map((l) => JSON.stringify(l));
    if (this.unwritten.length > 0) {
      this.unwritten.push(...texts);
    } else {
      this.writeLines(texts, sync);
    }
    // Counted at once: a line waiting to be written still holds its money.
    for (const line of lines) this.apply(line);
    for (const line of lines) if (line.type === 'settle') this.localListeners.forEach((l) => l(line));
    const settled = lines.some((l) => l.type === 'settle');
    this.listeners.forEach((l) => l());
    if (settled) this.checkThresholds();
  }

  private writeLines(texts: string[], sync = true): void {
    let fd: number | undefined;
    try {
      fd = this.fs.openSync(this.file, 'a');
      this.fs.writeSync(fd, `${texts.join('\n')}\n`);
      if (sync) this.fs.fsyncSync(fd);
      const stat = this.fs.fstatSync(fd);
      // Our own lines are read already; skip over them.
      if (stat.ino === this.ino || this.ino === -1) {
        this.ino = stat.ino;
        this.offset = stat.size;
      }
      this.writeError = undefined;
    } catch (error) {
      this.unwritten.unshift(...texts);
      this.writeError = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
      this.options.logger?.error(`spend ledger: could not write ${this.file} (${this.writeError}); ${this.unwritten.length} record(s) kept to write later`);
    } finally {
      if (fd !== undefined) this.fs.closeSync(fd);
    }
  }

  private retryUnwritten(): void {
    if (this.unwritten.length === 0) return;
    const texts = this.unwritten.splice(0);
    this.writeLines(texts);
    if (!this.writeError) this.options.logger?.info(`spend ledger: wrote ${texts.length} record(s) kept after a failed write`);
  }

  private quarantine(text: string, why: string): void {
    this.quarantined++;
    this.options.logger?.warn(`spend ledger: set aside an unreadable line (${why}) in ${QUARANTINE_FILE}`);
    try {
      const fd = this.fs.openSync(path.join(this.options.dir, QUARANTINE_FILE), 'a');
      try {
        this.fs.writeSync(fd, `${JSON.stringify({ at: new Date(this.now()).toISOString(), why, line: text })}\n`);
        this.fs.fsyncSync(fd);
      } finally {
        this.fs.closeSync(fd);
      }
    } catch (error) {
      this.options.logger?.error(`spend ledger: could not write the quarantine file: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Charges in full the reservations of processes that are gone (or of calls far past any timeout). */
  private chargeOrphans(force: boolean): void {
    const now = this.now();
    if (!force && now - this.lastOrphanCheck < 5000) return;
    this.lastOrphanCheck = now;
    const orphans = [...this.open.values()].filter((r) => (r.owner !== this.owner && !this.isAlive(r.pid)) || now - r.at > ORPHAN_AFTER_MS);
    if (orphans.length === 0) return;
    this.options.logger?.warn(`spend ledger: charging ${orphans.length} reservation(s) of a window that ended mid-request in full`);
    this.append(
      orphans.map((r) => ({
        type: 'settle' as const,
        requestId: r.requestId,
        at: now,
        task: r.task,
        language: '',
        model: '(unknown: the window ended mid-request)',
        provider: '',
        tokensIn: 0,
        tokensOut: 0,
        estimated: true,
        usd: r.usd,
        latencyMs: 0,
        attempts: 0,
        fallbackUsed: false,
        status: 'orphaned' as const,
        tags: [],
      })),
    );
  }

  /**
   * Rewrites the file without reservations that have their final record (and without lines set
   * aside), through a temp file, an fsync and a rename: a crash leaves the old file or the new one.
   */
  private compactIfNeeded(): void {
    const limit = this.options.compactAboveBytes ?? 32 * 1024 * 1024;
    // Settled records stay: compact again only once the file has grown by half since the last time.
    const grown = this.offset >= limit && this.offset >= this.compactedBytes * 1.5;
    if ((!grown && !this.rewrite) || this.unwritten.length > 0) return;
    this.rewrite = false;
    const keep: LedgerLine[] = [...this.open.values(), ...this.settledLines, ...this.outcomeLines].sort((a, b) => a.at - b.at);
    const temp = `${this.file}.compact-${this.owner}`;
    const fd = this.fs.openSync(temp, 'w');
    try {
      this.fs.writeSync(fd, keep.map((l) => `${JSON.stringify(l)}\n`).join(''));
      this.fs.fsyncSync(fd);
    } finally {
      this.fs.closeSync(fd);
    }
    this.fs.renameSync(temp, this.file);
    try {
      const dirFd = this.fs.openSync(this.options.dir, 'r');
      this.fs.fsyncSync(dirFd);
      this.fs.closeSync(dirFd);
    } catch {
      // Not every platform can fsync a folder.
    }
    const before = this.offset;
    this.reset();
    this.readNew(true);
    this.compactedBytes = this.offset;
    this.options.logger?.info(`spend ledger: compacted ${before} bytes to ${this.offset}`);
  }

  private checkThresholds(): void {
    const now = this.now();
    const period = dayKey(now);
    for (const budget of this.budgets(now)) {
      if (budget.level <= 0) continue;
      const key = `${budget.id}|${budget.id === 'monthly' ? monthKey(now) : period}|${budget.level}`;
      if (this.warned.has(key)) continue;
      this.warned.add(key);
      this.warningListeners.forEach((l) => l({ budget, threshold: budget.level }));
    }
  }
}
