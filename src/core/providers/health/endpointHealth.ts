import type { CallOutcome, CircuitBreaker } from './circuitBreaker';
import type { BalancePolicy, Deployment, LoadBalancer } from './loadBalancer';

export interface EndpointRequest<T extends Deployment> {
  /** What the deployments are deployments of, usually the model id. */
  group: string;
  deployments: readonly T[];
  policy: BalancePolicy;
  /** Keyed by deployment key. */
  breaker: CircuitBreaker;
  balancer: LoadBalancer;
  /** A further filter, for instance to avoid the deployment that just failed. */
  isAvailable?: (deployment: T) => boolean;
}

/** A deployment to call. `settle` once the call ends; only the first settle counts. */
export interface EndpointLease<T extends Deployment> {
  readonly deployment: T;
  /** True when this call is the trial that decides whether a resting endpoint is back. */
  readonly probe: boolean;
  /** Frees the deployment's slot and tells its circuit breaker how the call went. */
  settle(outcome: CallOutcome): void;
}

/**
 * A healthy deployment chosen by the policy, holding both its load-balancer slot and its
 * circuit-breaker permit; undefined when every deployment is resting or filtered out.
 */
export function acquireEndpoint<T extends Deployment>(request: EndpointRequest<T>): EndpointLease<T> | undefined {
  const { breaker, isAvailable } = request;
  const lease = request.balancer.pick(
    request.group,
    request.deployments,
    request.policy,
    (d) => breaker.isAvailable(d.key) && (isAvailable?.(d) ?? true),
  );
  if (!lease) return undefined;
  // Granted: pick and acquire run in one synchronous step, with nothing in between to take the slot.
  const permit = breaker.tryAcquire(lease.deployment.key);
  if (!permit.allowed) {
    lease.release();
    return undefined;
  }
  return {
    deployment: lease.deployment,
    probe: permit.probe,
    settle(outcome) {
      lease.release();
      permit.settle(outcome);
    },
  };
}
