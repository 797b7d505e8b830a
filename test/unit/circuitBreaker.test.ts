import * as assert from 'node:assert/strict';
import type { ProviderErrorKind } from '../../src/core/providers/chatProvider';
import { CircuitBreaker, type CircuitPermit } from '../../src/core/providers/health/circuitBreaker';
import { acquireEndpoint } from '../../src/core/providers/health/endpointHealth';
import { LoadBalancer } from '../../src/core/providers/health/loadBalancer';
import { callDeployment, closeFleet, requestCounts, startFleet, type MockDeployment } from '../support/mockFleet';

/** A clock the test moves by hand. */
function manualClock(start = 1_000) {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

function permit(breaker: CircuitBreaker, key: string): CircuitPermit {
  const admission = breaker.tryAcquire(key);
  assert.ok(admission.allowed, `${key} refused`);
  return admission;
}

function fail(breaker: CircuitBreaker, key: string, kind: ProviderErrorKind, times = 1): void {
  for (let i = 0; i < times; i++) permit(breaker, key).settle({ ok: false, kind });
}

describe('circuit breaker', () => {
  const cooldownMs = 30_000;
  let clock: ReturnType<typeof manualClock>;
  let breaker: CircuitBreaker;
  beforeEach(() => {
    clock = manualClock();
    breaker = new CircuitBreaker({ failureThreshold: 3, cooldownMs, now: clock.now });
  });

  /** Opens `key` and waits out its cool-down. */
  function openAndCoolDown(key: string): void {
    fail(breaker, key, 'server', 3);
    clock.t += cooldownMs;
    assert.equal(breaker.state(key), 'half-open');
  }

  it('opens after the threshold of consecutive failures that say the endpoint is unwell', () => {
    for (const kind of ['server', 'connection', 'timeout', 'rate-limit', 'bad-response'] as const) {
      fail(breaker, kind, kind, 2);
      assert.equal(breaker.state(kind), 'closed', kind);
      fail(breaker, kind, kind);
      assert.equal(breaker.state(kind), 'open', kind);
    }
    // A success in between starts the count again.
    fail(breaker, 'e', 'server', 2);
    permit(breaker, 'e').settle({ ok: true });
    fail(breaker, 'e', 'timeout', 2);
    assert.equal(breaker.state('e'), 'closed');
  });

  it('never opens on failures that are about the request or the user, not the endpoint', () => {
    const kinds = ['auth', 'forbidden', 'bad-request', 'too-large', 'not-found', 'cancelled', 'redirect'] as const;
    for (const kind of kinds) fail(breaker, 'e', kind, 10);
    assert.equal(breaker.state('e'), 'closed');
    // Nor do they break a run of counted ones.
    fail(breaker, 'e', 'server', 2);
    fail(breaker, 'e', 'auth');
    fail(breaker, 'e', 'server');
    assert.equal(breaker.state('e'), 'open');
  });

  it('refuses while open and says how long the cool-down has left', () => {
    fail(breaker, 'e', 'server', 3);
    assert.deepEqual(breaker.tryAcquire('e'), { allowed: false, state: 'open', retryInMs: 30_000 });
    clock.t += 12_000;
    assert.deepEqual(breaker.tryAcquire('e'), { allowed: false, state: 'open', retryInMs: 18_000 });
    assert.equal(breaker.isAvailable('e'), false);
  });

  it('after the cool-down lets exactly one probe through, however many callers ask', () => {
    openAndCoolDown('e');
    const admissions = Array.from({ length: 50 }, () => breaker.tryAcquire('e'));
    const granted = admissions.filter((a) => a.allowed);
    assert.equal(granted.length, 1);
    assert.equal(granted[0].probe, true);
    assert.ok(admissions.slice(1).every((a) => !a.allowed && a.state === 'half-open'));
    assert.equal(breaker.isAvailable('e'), false);
  });

  it('closes when the probe succeeds', () => {
    openAndCoolDown('e');
    permit(breaker, 'e').settle({ ok: true });
    assert.equal(breaker.state('e'), 'closed');
    assert.equal(Array.from({ length: 5 }, () => breaker.tryAcquire('e')).filter((a) => a.allowed && !a.probe).length, 5);
    // Closed again means a fresh count: one failure does not reopen it.
    fail(breaker, 'e', 'server');
    assert.equal(breaker.state('e'), 'closed');
  });

  it('reopens with a fresh cool-down when the probe fails', () => {
    openAndCoolDown('e');
    clock.t += 5_000;
    fail(breaker, 'e', 'connection');
    assert.deepEqual(breaker.tryAcquire('e'), { allowed: false, state: 'open', retryInMs: 30_000 });
  });

  it('lets another probe through when one ends without a verdict or never reports', () => {
    openAndCoolDown('e');
    permit(breaker, 'e').settle({ ok: false, kind: 'cancelled' });
    assert.equal(breaker.state('e'), 'half-open');
    const lost = permit(breaker, 'e');
    assert.deepEqual(breaker.tryAcquire('e'), { allowed: false, state: 'half-open', retryInMs: 30_000 });
    clock.t += cooldownMs;
    permit(breaker, 'e').settle({ ok: true });
    assert.equal(breaker.state('e'), 'closed');
    lost.settle({ ok: false, kind: 'timeout' });
    assert.equal(breaker.state('e'), 'closed', 'a report from before the circuit closed decides nothing');
  });

  it('ignores calls that were admitted before the circuit opened', () => {
    const inFlight = Array.from({ length: 5 }, () => permit(breaker, 'e'));
    inFlight.slice(0, 3).forEach((p) => p.settle({ ok: false, kind: 'server' }));
    const openedAt = clock.t;
    clock.t += 10_000;
    inFlight[3].settle({ ok: false, kind: 'server' });
    inFlight[4].settle({ ok: true });
    assert.equal(breaker.state('e'), 'open');
    assert.deepEqual(breaker.snapshot(), [{ key: 'e', state: 'open', consecutiveFailures: 3, lastFailure: 'server', openedAt }]);
  });

  it('counts a permit once however often it is settled', () => {
    const p = permit(breaker, 'e');
    for (let i = 0; i < 5; i++) p.settle({ ok: false, kind: 'server' });
    assert.equal(breaker.snapshot()[0].consecutiveFailures, 1);
  });

  it('keeps each endpoint apart, and shows them all in the snapshot', () => {
    fail(breaker, 'https://a.example/v1', 'server', 3);
    fail(breaker, 'https://b.example/v1', 'rate-limit', 2);
    permit(breaker, 'https://c.example/v1').settle({ ok: true });
    assert.equal(breaker.state('https://b.example/v1'), 'closed');
    assert.equal(breaker.state('never-seen'), 'closed');
    assert.deepEqual(breaker.snapshot(), [
      { key: 'https://a.example/v1', state: 'open', consecutiveFailures: 3, lastFailure: 'server', openedAt: 1_000 },
      { key: 'https://b.example/v1', state: 'closed', consecutiveFailures: 2, lastFailure: 'rate-limit', openedAt: undefined },
      { key: 'https://c.example/v1', state: 'closed', consecutiveFailures: 0, lastFailure: undefined, openedAt: undefined },
    ]);
  });

  it('rejects options that could never work', () => {
    assert.throws(() => new CircuitBreaker({ failureThreshold: 0 }), RangeError);
    assert.throws(() => new CircuitBreaker({ cooldownMs: Number.NaN }), RangeError);
    assert.throws(() => new CircuitBreaker({ halfOpenProbes: 1.5 }), RangeError);
  });
});

describe('circuit breaker under 50 concurrent requests (loopback mock servers)', () => {
  let fleet: MockDeployment[];
  before(async () => {
    fleet = await startFleet([{ key: 'bad' }, { key: 'good1' }, { key: 'good2' }]);
  });
  after(() => closeFleet(fleet));

  it('rests a server that fails with 500s, sends it one probe after the cool-down, and takes it back', async () => {
    const clock = manualClock();
    const breaker = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 30_000, now: clock.now });
    const balancer = new LoadBalancer();
    const bad = fleet[0].server;
    const failing = () => Array.from({ length: 50 }, () => ({ kind: 'fail', status: 500 }) as const);
    let probes = 0;

    /** One caller: a healthy deployment, and on failure one more try on another. */
    async function caller(): Promise<void> {
      const tried = new Set<string>();
      for (let attempt = 0; attempt < 2; attempt++) {
        const lease = acquireEndpoint({
          group: 'model', deployments: fleet, policy: 'round-robin', breaker, balancer, isAvailable: (d) => !tried.has(d.key),
        });
        assert.ok(lease, 'no deployment available');
        if (lease.probe) probes++;
        tried.add(lease.deployment.key);
        const outcome = await callDeployment(lease.deployment);
        lease.settle(outcome);
        if (outcome.ok) return;
      }
      assert.fail('a caller got no answer');
    }
    const burst = (size: number) => Promise.all(Array.from({ length: size }, caller));

    // Five bursts of ten: the first burst's four calls to `bad` fail and open it (the fourth
    // arrives after it opened and changes nothing); the next 40 callers never reach it.
    bad.enqueue(...failing());
    for (let i = 0; i < 5; i++) await burst(10);
    assert.equal(bad.requests.length, 4);
    assert.equal(breaker.state('bad'), 'open');
    assert.deepEqual(breaker.snapshot()[0], { key: 'bad', state: 'open', consecutiveFailures: 3, lastFailure: 'server', openedAt: 1_000 });
    const absorbed = requestCounts(fleet);
    assert.equal(absorbed.good1 + absorbed.good2, 50);

    // Cool-down over, still failing: of 50 simultaneous callers exactly one probes, and it reopens.
    clock.t += 30_000;
    await burst(50);
    assert.equal(probes, 1);
    assert.equal(bad.requests.length, 5);
    assert.equal(breaker.state('bad'), 'open');
    assert.equal(breaker.snapshot()[0].openedAt, 31_000);

    // Cool-down over, healthy again: one probe, the circuit closes, and `bad` gets its share again.
    clock.t += 30_000;
    bad.reset();
    await burst(50);
    assert.equal(probes, 2);
    assert.equal(bad.requests.length, 1);
    assert.equal(breaker.state('bad'), 'closed');
    await burst(30);
    assert.ok(bad.requests.length > 5, `bad got ${bad.requests.length} of 30`);
    for (const d of fleet) assert.equal(balancer.outstanding(d.key), 0);
  });
});
