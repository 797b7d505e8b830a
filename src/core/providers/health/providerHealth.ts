import { CircuitBreaker, type CircuitBreakerOptions } from './circuitBreaker';
import { LoadBalancer } from './loadBalancer';

/**
 * The health and load of every endpoint, shared by all requests of one host (the extension or
 * the command-line tool): circuit breakers keyed by deployment, and the load balancer.
 */
export class ProviderHealth {
  readonly breaker: CircuitBreaker;
  readonly balancer = new LoadBalancer();

  constructor(options: CircuitBreakerOptions = {}) {
    this.breaker = new CircuitBreaker(options);
  }
}
