import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OutcomeLog, outcomeLine, type Outcome, type OutcomeKind, type OutcomeSink } from '../../src/core/learn/outcomes';
import type { Logger } from '../../src/core/log/logger';
import { OLD_OUTCOMES_FILE, OUTCOMES_FILE, OutcomeFile } from '../../src/vscode/learn/outcomeFile';

function outcome(requestId: string, kind: OutcomeKind, at = 1_000): Outcome {
  return { requestId, task: 'format', modelId: 'mini', kind, at };
}

class MemorySink implements OutcomeSink {
  readonly lines: string[] = [];
  constructor(private readonly failWhen?: (line: string) => boolean) {}
  async append(line: string): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 1));
    if (this.failWhen?.(line)) throw new Error('disk full');
    this.lines.push(line);
  }
}

describe('OutcomeLog', () => {
  it('keeps outcomes newest first and finds those of one request', () => {
    const log = new OutcomeLog();
    log.record(outcome('r1', 'accepted', 1));
    log.record(outcome('r2', 'discarded', 2));
    log.record(outcome('r1', 'undone', 3));
    assert.deepEqual(log.all.map((o) => `${o.requestId}:${o.kind}`), ['r1:undone', 'r2:discarded', 'r1:accepted']);
    assert.deepEqual(log.forRequest('r1').map((o) => o.kind), ['undone', 'accepted']);
    assert.deepEqual(log.forRequest('nope'), []);
  });

  it('records the same kind for the same request once', () => {
    const log = new OutcomeLog();
    assert.equal(log.record(outcome('r1', 'accepted', 1)), true);
    assert.equal(log.record(outcome('r1', 'accepted', 2)), false);
    assert.equal(log.record(outcome('r1', 'thumbs-up', 3)), true);
    assert.equal(log.record(outcome('r2', 'accepted', 4)), true);
    assert.equal(log.all.length, 3);
    assert.equal(log.forRequest('r1').find((o) => o.kind === 'accepted')?.at, 1, 'the first one stays');
  });

  it('keeps at most its capacity, dropping the oldest', () => {
    const log = new OutcomeLog({ capacity: 3 });
    for (let i = 0; i < 5; i++) log.record(outcome(`r${i}`, 'accepted', i));
    assert.deepEqual(log.all.map((o) => o.requestId), ['r4', 'r3', 'r2']);
  });

  it('tells subscribers about each new outcome until they unsubscribe', () => {
    const log = new OutcomeLog();
    const seen: number[] = [];
    const unsubscribe = log.subscribe((items) => seen.push(items.length));
    log.record(outcome('r1', 'accepted'));
    log.record(outcome('r1', 'accepted'));
    log.record(outcome('r2', 'discarded'));
    unsubscribe();
    log.record(outcome('r3', 'discarded'));
    assert.deepEqual(seen, [1, 2]);
  });

  it('copies what it records, so a caller changing its object later changes nothing', () => {
    const log = new OutcomeLog();
    const mine = outcome('r1', 'accepted');
    log.record(mine);
    mine.kind = 'discarded';
    assert.equal(log.all[0].kind, 'accepted');
  });

  it('appends one JSON line per new outcome to the sink, in order, with only the known fields', async () => {
    const sink = new MemorySink();
    const log = new OutcomeLog({ sink });
    log.record(outcome('r1', 'accepted', 5));
    log.record(outcome('r1', 'accepted', 6));
    log.record({ ...outcome('r1', 'undone', 7), detail: '3 s after accepting', prompt: 'secret code' } as Outcome);
    await log.flushed();
    assert.deepEqual(
      sink.lines.map((line) => JSON.parse(line)),
      [
        { requestId: 'r1', task: 'format', modelId: 'mini', kind: 'accepted', at: 5 },
        { requestId: 'r1', task: 'format', modelId: 'mini', kind: 'undone', at: 7, detail: '3 s after accepting' },
      ],
    );
    assert.ok(sink.lines.every((line) => !line.includes('\n') && !line.includes('secret code')));
  });

  it('logs a failed write and goes on with the next outcome', async () => {
    const warnings: string[] = [];
    const logger: Logger = { trace() {}, debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} };
    const sink = new MemorySink((line) => line.includes('"r1"'));
    const log = new OutcomeLog({ sink, logger });
    log.record(outcome('r1', 'accepted'));
    log.record(outcome('r2', 'accepted'));
    await log.flushed();
    assert.equal(sink.lines.length, 1);
    assert.match(sink.lines[0], /"r2"/);
    assert.deepEqual(warnings, ['could not save an outcome: disk full']);
    assert.equal(log.all.length, 2, 'the session keeps both');
  });

  it('writes lines a JSON-lines reader can split back, even when a detail holds a line break', () => {
    const file = [outcomeLine(outcome('a', 'accepted')), outcomeLine({ ...outcome('b', 'thumbs-down'), detail: 'line\nbreak' })].map((l) => `${l}\n`).join('');
    const back = file.trim().split('\n').map((l) => JSON.parse(l) as Outcome);
    assert.deepEqual(back.map((o) => o.kind), ['accepted', 'thumbs-down']);
    assert.equal(back[1].detail, 'line\nbreak');
  });
});

describe('outcomes.jsonl', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'coderoute-outcomes-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('appends one line per outcome, and past its size limit starts a new file, keeping one older generation', async () => {
    const file = new OutcomeFile(dir, 400);
    const lines = Array.from({ length: 20 }, (_, i) => outcomeLine(outcome(`r${i}`, 'ignored', i)));
    for (const line of lines) await file.append(line);
    const current = readFileSync(path.join(dir, OUTCOMES_FILE), 'utf8').trim().split('\n');
    const older = readFileSync(path.join(dir, OLD_OUTCOMES_FILE), 'utf8').trim().split('\n');
    assert.ok(statSync(path.join(dir, OUTCOMES_FILE)).size <= 400 + lines[0].length + 1, 'the file stays near its limit');
    assert.deepEqual([...older, ...current].slice(-current.length - older.length), lines.slice(lines.length - current.length - older.length), 'the newest lines, in order');
    assert.equal(current.at(-1), lines.at(-1));
    assert.ok(older.length + current.length < lines.length, 'the oldest generation was dropped');
  });

  it('checks the size on disk before rotating: another window may have rotated already', async () => {
    const mine = new OutcomeFile(dir, 300);
    const other = new OutcomeFile(dir, 300);
    // Four lines of about 75 bytes: just over the limit, which is checked before the next append.
    for (let i = 0; i < 4; i++) await mine.append(outcomeLine(outcome(`a${i}`, 'ignored', i)));
    assert.ok(statSync(path.join(dir, OUTCOMES_FILE)).size > 300);
    // The other window finds the file over the limit, rotates it and writes two lines.
    for (let i = 0; i < 2; i++) await other.append(outcomeLine(outcome(`b${i}`, 'ignored', i)));
    assert.match(readFileSync(path.join(dir, OLD_OUTCOMES_FILE), 'utf8'), /"a3"/);
    // `mine` still believes the file is over the limit; the disk says otherwise, so it does not rotate again.
    await mine.append(outcomeLine(outcome('a-last', 'accepted', 9)));
    const current = readFileSync(path.join(dir, OUTCOMES_FILE), 'utf8');
    assert.match(current, /"a-last"/);
    assert.match(current, /"b1"/, 'the other window’s new lines were not rotated away');
  });
});
