import * as assert from 'node:assert/strict';
import { LoadBalancer, type BalancePolicy, type Deployment, type Lease } from '../../src/core/providers/health/loadBalancer';
import { callDeployment, closeFleet, requestCounts, startFleet, type MockDeployment } from '../support/mockFleet';

/** The keys of `count` successive picks, each lease released at once (no calls in flight). */
function sequence(balancer: LoadBalancer, deployments: readonly Deployment[], count: number, policy: BalancePolicy = 'round-robin'): string {
  let keys = '';
  for (let i = 0; i < count; i++) {
    const lease = balancer.pick('model', deployments, policy);
    assert.ok(lease);
    keys += lease.deployment.key;
    lease.release();
  }
  return keys;
}

function tally(keys: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const key of keys) counts[key] = (counts[key] ?? 0) + 1;
  return counts;
}

describe('load balancer', () => {
  it('round-robin gives each deployment exactly its weight in every cycle, interleaved', () => {
    const balancer = new LoadBalancer();
    const threeToOne = [{ key: 'a', weight: 3 }, { key: 'b', weight: 1 }];
    assert.equal(sequence(balancer, threeToOne, 8), 'aabaaaba');
    const long = sequence(balancer, threeToOne, 400);
    for (let cycle = 0; cycle < long.length; cycle += 4) assert.deepEqual(tally(long.slice(cycle, cycle + 4)), { a: 3, b: 1 });
    // A heavy deployment's turns are spread out, not bunched.
    assert.equal(sequence(new LoadBalancer(), [{ key: 'a', weight: 5 }, { key: 'b', weight: 1 }, { key: 'c', weight: 1 }], 7), 'aabacaa');
    assert.equal(sequence(new LoadBalancer(), [{ key: 'a' }, { key: 'b' }, { key: 'c' }], 6), 'abcabc');
  });

  it('never picks weight 0 or an unavailable deployment, and gives up when none is left', () => {
    const balancer = new LoadBalancer();
    const deployments = [{ key: 'a', weight: 0 }, { key: 'b' }, { key: 'c' }];
    assert.equal(sequence(balancer, deployments, 4), 'bcbc');
    const notB = (d: Deployment) => d.key !== 'b';
    for (const policy of ['round-robin', 'least-outstanding'] as const) {
      assert.equal(balancer.pick('model', deployments, policy, notB)?.deployment.key, 'c');
      assert.equal(balancer.pick('model', deployments, policy, () => false), undefined);
      assert.equal(balancer.pick('model', [{ key: 'a', weight: 0 }], policy), undefined);
      assert.equal(balancer.pick('model', [], policy), undefined);
    }
  });

  it('keeps a separate rotation for each model', () => {
    const balancer = new LoadBalancer();
    const deployments = [{ key: 'a' }, { key: 'b' }];
    const keys = ['x', 'y', 'x', 'x', 'y'].map((group) => {
      const lease = balancer.pick(group, deployments, 'round-robin');
      lease?.release();
      return `${group}${lease?.deployment.key}`;
    });
    assert.deepEqual(keys, ['xa', 'ya', 'xb', 'xa', 'yb']);
  });

  it('least-outstanding picks the deployment with the fewest calls in flight; ties rotate by weight', () => {
    const balancer = new LoadBalancer();
    const deployments = [{ key: 'a' }, { key: 'b' }, { key: 'c' }];
    const held = [1, 2, 3].map(() => balancer.pick('model', deployments, 'least-outstanding') as Lease<Deployment>);
    assert.deepEqual(held.map((l) => l.deployment.key).sort(), ['a', 'b', 'c']);
    held.find((l) => l.deployment.key === 'b')?.release();
    // Only b is idle: it gets every call until another one frees up.
    assert.equal(sequence(balancer, deployments, 3, 'least-outstanding'), 'bbb');
    held.find((l) => l.deployment.key === 'c')?.release();
    assert.deepEqual(tally(sequence(balancer, deployments, 4, 'least-outstanding')), { b: 2, c: 2 });
    // Calls that never overlap are always tied at zero: they follow the weights.
    assert.deepEqual(tally(sequence(new LoadBalancer(), [{ key: 'a', weight: 3 }, { key: 'b', weight: 1 }], 8, 'least-outstanding')), { a: 6, b: 2 });
  });

  it('counts calls in flight per deployment across models; a release counts once', () => {
    const balancer = new LoadBalancer();
    const first = balancer.pick('chat', [{ key: 'shared' }], 'least-outstanding');
    const second = balancer.pick('complete', [{ key: 'shared' }, { key: 'other' }], 'least-outstanding');
    assert.equal(second?.deployment.key, 'other');
    assert.equal(balancer.outstanding('shared'), 1);
    first?.release();
    first?.release();
    assert.equal(balancer.outstanding('shared'), 0);
    assert.equal(balancer.outstanding('other'), 1);
    second?.release();
    assert.equal(balancer.outstanding('other'), 0);
  });
});

describe('load balancer under 50 concurrent requests (loopback mock servers)', () => {
  let fleet: MockDeployment[];

  before(async () => {
    fleet = await startFleet([{ key: 'slow' }, { key: 'fast1' }, { key: 'fast2' }]);
  });
  beforeEach(() => fleet.forEach((d) => d.server.reset()));
  after(() => closeFleet(fleet));

  /**
   * Picks a deployment and calls it, checking after every pick and release that the balancer's
   * in-flight counts match the calls really in flight, and, for least-outstanding, that the pick
   * went to a deployment with the fewest.
   */
  function harness(policy: BalancePolicy, deployments: readonly MockDeployment[]) {
    const balancer = new LoadBalancer();
    const inFlight: Record<string, number> = Object.fromEntries(deployments.map((d) => [d.key, 0]));
    const checkCounts = () => {
      for (const d of deployments) assert.equal(balancer.outstanding(d.key), inFlight[d.key], d.key);
    };
    const request = (): { key: string; done: Promise<void> } => {
      const fewest = Math.min(...deployments.map((d) => balancer.outstanding(d.key)));
      const lease = balancer.pick('model', deployments, policy);
      assert.ok(lease);
      const { key } = lease.deployment;
      if (policy === 'least-outstanding') assert.equal(balancer.outstanding(key) - 1, fewest, `picked ${key} with more in flight than another`);
      inFlight[key]++;
      checkCounts();
      const done = callDeployment(lease.deployment).then((outcome) => {
        assert.deepEqual(outcome, { ok: true });
        inFlight[key]--;
        lease.release();
        lease.release();
        checkCounts();
      });
      return { key, done };
    };
    return { balancer, request };
  }

  /** 50 requests in five bursts of ten; a burst starts once the previous one's fast calls are done. */
  async function bursts(policy: BalancePolicy): Promise<LoadBalancer> {
    const { balancer, request } = harness(policy, fleet);
    const all: Promise<void>[] = [];
    for (let burst = 0; burst < 5; burst++) {
      const calls = Array.from({ length: 10 }, request);
      all.push(...calls.map((c) => c.done));
      await Promise.all(calls.filter((c) => c.key !== 'slow').map((c) => c.done));
    }
    await Promise.all(all);
    return balancer;
  }

  it('weighted round-robin sends exactly each weight’s share of 50 simultaneous requests', async () => {
    const weighted = fleet.map((d, i) => ({ ...d, weight: [3, 1, 1][i] }));
    const { balancer, request } = harness('round-robin', weighted);
    await Promise.all(Array.from({ length: 50 }, () => request().done));
    assert.deepEqual(requestCounts(fleet), { slow: 30, fast1: 10, fast2: 10 });
    for (const d of fleet) assert.equal(balancer.outstanding(d.key), 0);
  });

  it('least-outstanding sends fewer of 50 requests than round-robin to a server that has become slow', async () => {
    const slow = fleet[0].server;
    const slowReply = { kind: 'delay', ms: 1000, then: { kind: 'reply' } } as const;
    slow.enqueue(...Array.from({ length: 50 }, () => slowReply));
    await bursts('round-robin');
    const roundRobin = requestCounts(fleet);
    assert.equal(roundRobin.slow, 17, 'round-robin ignores how busy a server is');

    fleet.forEach((d) => d.server.reset());
    slow.enqueue(...Array.from({ length: 50 }, () => slowReply));
    const balancer = await bursts('least-outstanding');
    const leastOutstanding = requestCounts(fleet);
    assert.ok(leastOutstanding.slow < roundRobin.slow, JSON.stringify(leastOutstanding));
    assert.equal(leastOutstanding.slow + leastOutstanding.fast1 + leastOutstanding.fast2, 50);
    for (const d of fleet) assert.equal(balancer.outstanding(d.key), 0);
  });
});
