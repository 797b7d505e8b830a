import * as assert from 'node:assert/strict';
import { AdaptiveDebouncer } from '../../src/core/complete/debouncer';

/** Types `count` keystrokes `intervalMs` apart from `startMs`; returns the last delay and time. */
function type(d: AdaptiveDebouncer, doc: string, startMs: number, intervalMs: number, count: number): { delay: number; at: number } {
  let delay = 0;
  let at = startMs;
  for (let i = 0; i < count; i++) {
    at = startMs + i * intervalMs;
    delay = d.keystroke(doc, at);
  }
  return { delay, at };
}

describe('inline completions: adaptive debounce', () => {
  it('starts at the initial delay', () => {
    const d = new AdaptiveDebouncer();
    assert.equal(d.keystroke('a', 0), 150);
    assert.equal(d.delayFor('unknown'), 150);
  });

  it('a fast typist gets a short delay, about 1.5 times the typing interval', () => {
    const d = new AdaptiveDebouncer();
    const { delay } = type(d, 'a', 0, 80, 30);
    assert.equal(delay, 120);
    assert.ok(Math.abs((d.typingIntervalMs('a') ?? 0) - 80) < 1);
  });

  it('a slow typist gets a longer delay, clamped at 400 ms', () => {
    const d = new AdaptiveDebouncer();
    assert.equal(type(d, 'a', 0, 200, 30).delay, 300);
    assert.equal(type(d, 'b', 0, 600, 30).delay, 400);
  });

  it('very fast typing is clamped at 75 ms', () => {
    const d = new AdaptiveDebouncer();
    assert.equal(type(d, 'a', 0, 20, 30).delay, 75);
  });

  it('adapts as the pace changes (moving average)', () => {
    const d = new AdaptiveDebouncer();
    const slow = type(d, 'a', 0, 250, 20);
    const fast = type(d, 'a', slow.at + 60, 60, 20);
    assert.ok(fast.delay < slow.delay);
    assert.ok(fast.delay <= 100);
  });

  it('a pause is not a typing interval', () => {
    const d = new AdaptiveDebouncer();
    const { at } = type(d, 'a', 0, 80, 10);
    assert.equal(d.keystroke('a', at + 10_000), 120);
  });

  it('documents are tracked separately', () => {
    const d = new AdaptiveDebouncer();
    type(d, 'fast', 0, 60, 20);
    type(d, 'slow', 0, 240, 20);
    assert.ok(d.delayFor('fast') < d.delayFor('slow'));
  });

  it('skips while the user types faster than the delay, and requests after a pause', () => {
    const d = new AdaptiveDebouncer();
    type(d, 'a', 0, 100, 10); // delay settles near 150 ms, last keystroke at 900
    const delay = d.delayFor('a');
    // The wait started at 800 ends at 800 + delay, but a key came at 900: skip.
    const decision = d.decide('a', 800 + delay);
    assert.equal(decision.action, 'skip');
    if (decision.action === 'skip') assert.equal(decision.retryInMs, 900 + delay - (800 + delay));
    assert.deepEqual(d.decide('a', 900 + delay), { action: 'request' });
  });

  it('a burst of keystrokes yields one request at its end', () => {
    const d = new AdaptiveDebouncer();
    const times = [0, 40, 90, 130, 170, 220, 260];
    const requests: number[] = [];
    // Every keystroke starts a wait; only those that find no newer keystroke request.
    const waits = times.map((t) => ({ t, until: t + d.keystroke('a', t) }));
    for (const w of waits.sort((x, y) => x.until - y.until)) {
      const keysSoFar = times.filter((t) => t <= w.until);
      // Replay keystrokes up to the wait's end to decide as the adapter would at that moment.
      const replay = new AdaptiveDebouncer();
      keysSoFar.forEach((t) => replay.keystroke('a', t));
      if (replay.decide('a', w.until).action === 'request') requests.push(w.t);
    }
    assert.deepEqual(requests, [260]);
  });

  it('forgets the least recently typed document beyond maxDocuments', () => {
    const d = new AdaptiveDebouncer({ maxDocuments: 2 });
    type(d, 'a', 0, 60, 5);
    type(d, 'b', 0, 60, 5);
    type(d, 'c', 0, 60, 5);
    assert.equal(d.typingIntervalMs('a'), undefined);
    assert.ok(d.typingIntervalMs('c') !== undefined);
  });
});
