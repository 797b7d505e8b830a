import * as assert from 'node:assert/strict';
import { OutcomeLog, outcomeLine, type Outcome, type OutcomeKind, type OutcomeSink } from '../../src/core/learn/outcomes';
import type { Logger } from '../../src/core/log/logger';

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
