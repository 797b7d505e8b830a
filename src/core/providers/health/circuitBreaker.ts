import type { ProviderErrorKind } from '../chatProvider';

/**
 * closed: calls go through. open: the endpoint rests, calls are refused until the cool-down ends.
 * half-open: the cool-down is over; a few trial calls (probes) decide whether it closes again.
 */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** How one call through a permit ended. */
export type CallOutcome = { ok: true } | { ok: false; kind: ProviderErrorKind };

/**
 * Failures that say the endpoint itself is unwell: it errs, is unreachable, too slow, overloaded,
 * or answers with something that is not the API. The others say something about this request or
 * this user (a bad key, a refused or oversized prompt, an unknown model, a redirect the client
 * will not follow, a cancellation); resting the endpoint would not fix them and would take it
 * away from requests that would succeed, so they neither count nor reset the count.
 */
const UNHEALTHY: ReadonlySet<ProviderErrorKind> = new Set(['server', 'connection', 'timeout', 'rate-limit', 'bad-response']);

export function countsAgainstHealth(kind: ProviderErrorKind): boolean {
  return UNHEALTHY.has(kind);
}

export interface CircuitBreakerOptions {
  /** Consecutive counted failures that open the circuit. Default 5. */
  failureThreshold?: number;
  /** How long an open circuit rests before probes are let through, in ms. Default 30 000. */
  cooldownMs?: number;
  /** Probes in flight at once while half-open. Default 1. */
  halfOpenProbes?: number;
  /** Milliseconds on any steady clock. Default `Date.now`. */
  now?: () => number;
}

/** Leave to make one call. Report how it went with `settle`; only the first report counts. */
export interface CircuitPermit {
  readonly allowed: true;
  /** True when this call is a half-open trial whose outcome closes or reopens the circuit. */
  readonly probe: boolean;
  settle(outcome: CallOutcome): void;
}

export interface CircuitRefusal {
  readonly allowed: false;
  readonly state: 'open' | 'half-open';
  /**
   * Open: time left of the cool-down. Half-open: the probe slots are taken; this is when the
   * oldest probe counts as lost if it has not reported by then.
   */
  readonly retryInMs: number;
}

/** One endpoint's health, for display. */
export interface CircuitSnapshot {
  key: string;
  state: CircuitState;
  consecutiveFailures: number;
  /** The last counted failure, for a line like "resting after 5 server errors". */
  lastFailure?: ProviderErrorKind;
  /** When the circuit last opened (clock time), while open or half-open. */
  openedAt?: number;
}

interface Circuit {
  failures: number;
  lastFailure?: ProviderErrorKind;
  /** Set while open or half-open; half-open is simply "open and the cool-down is over". */
  openedAt?: number;
  /**
   * Bumped when the circuit opens or closes. A call admitted before that reports on a state that
   * is gone: a failure still in flight when the circuit opened must not extend the cool-down, and
   * a slow success from before must not close a circuit that probes have not cleared.
   */
  epoch: number;
  /** Probes in flight: id → start time. */
  probes: Map<number, number>;
}

/**
 * A circuit breaker per endpoint key (for example a provider's base URL): after repeated failures
 * that say an endpoint is unwell it is rested for a cool-down, then probed before traffic returns.
 * Not a retry policy: the caller decides what to do when refused (usually: the next deployment or
 * the next model of the chain).
 */
export class CircuitBreaker {
  private readonly circuits = new Map<string, Circuit>();
  private readonly failureThreshold: number;
  private readonly cooldownMs: number;
  private readonly halfOpenProbes: number;
  private readonly now: () => number;
  private nextProbeId = 0;

  constructor(options: CircuitBreakerOptions = {}) {
    this.failureThreshold = options.failureThreshold ?? 5;
    this.cooldownMs = options.cooldownMs ?? 30_000;
    this.halfOpenProbes = options.halfOpenProbes ?? 1;
    this.now = options.now ?? Date.now;
    if (!Number.isInteger(this.failureThreshold) || this.failureThreshold < 1) throw new RangeError('failureThreshold must be a whole number ≥ 1');
    if (!(this.cooldownMs >= 0)) throw new RangeError('cooldownMs must be ≥ 0');
    if (!Number.isInteger(this.halfOpenProbes) || this.halfOpenProbes < 1) throw new RangeError('halfOpenProbes must be a whole number ≥ 1');
  }

  state(key: string): CircuitState {
    const circuit = this.circuits.get(key);
    return circuit ? this.stateOf(circuit, this.now()) : 'closed';
  }

  /** Whether `tryAcquire` would grant a permit now; asking takes no probe slot. */
  isAvailable(key: string): boolean {
    const circuit = this.circuits.get(key);
    if (!circuit) return true;
    const now = this.now();
    const state = this.stateOf(circuit, now);
    return state === 'closed' || (state === 'half-open' && this.liveProbes(circuit, now) < this.halfOpenProbes);
  }

  tryAcquire(key: string): CircuitPermit | CircuitRefusal {
    let circuit = this.circuits.get(key);
    if (!circuit) {
      circuit = { failures: 0, epoch: 0, probes: new Map() };
      this.circuits.set(key, circuit);
    }
    const now = this.now();
    const state = this.stateOf(circuit, now);
    if (state === 'closed') return this.permit(circuit, undefined);
    if (state === 'open') return { allowed: false, state, retryInMs: (circuit.openedAt ?? now) + this.cooldownMs - now };
    if (this.liveProbes(circuit, now) >= this.halfOpenProbes) {
      const oldest = Math.min(...circuit.probes.values());
      return { allowed: false, state, retryInMs: oldest + this.cooldownMs - now };
    }
    const probeId = ++this.nextProbeId;
    circuit.probes.set(probeId, now);
    return this.permit(circuit, probeId);
  }

  /** Every endpoint seen so far, by key. */
  snapshot(): CircuitSnapshot[] {
    const now = this.now();
    return [...this.circuits.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, c]) => ({
        key,
        state: this.stateOf(c, now),
        consecutiveFailures: c.failures,
        lastFailure: c.lastFailure,
        openedAt: c.openedAt,
      }));
  }

  private stateOf(circuit: Circuit, now: number): CircuitState {
    if (circuit.openedAt === undefined) return 'closed';
    return now - circuit.openedAt >= this.cooldownMs ? 'half-open' : 'open';
  }

  /**
   * Probes in flight, forgetting those that have not reported within a cool-down: a caller that
   * never settles its permit must not keep an endpoint out of service for good. (A late report
   * from such a probe still decides, as long as the circuit has not moved on.)
   */
  private liveProbes(circuit: Circuit, now: number): number {
    for (const [id, started] of circuit.probes) {
      if (now - started >= this.cooldownMs) circuit.probes.delete(id);
    }
    return circuit.probes.size;
  }

  private permit(circuit: Circuit, probeId: number | undefined): CircuitPermit {
    const epoch = circuit.epoch;
    let settled = false;
    return {
      allowed: true,
      probe: probeId !== undefined,
      settle: (outcome) => {
        if (settled) return;
        settled = true;
        if (probeId !== undefined) circuit.probes.delete(probeId);
        if (circuit.epoch === epoch) this.record(circuit, probeId !== undefined, outcome);
      },
    };
  }

  /** An outcome of the circuit's current epoch: a normal call while closed, or a probe. */
  private record(circuit: Circuit, probe: boolean, outcome: CallOutcome): void {
    if (outcome.ok) {
      circuit.failures = 0;
      if (probe) this.moveTo(circuit, undefined);
      return;
    }
    // A probe that ends without a verdict (cancelled, refused key…) frees its slot for another.
    if (!countsAgainstHealth(outcome.kind)) return;
    circuit.failures++;
    circuit.lastFailure = outcome.kind;
    if (probe || circuit.failures >= this.failureThreshold) this.moveTo(circuit, this.now());
  }

  /** Opens (fresh cool-down) or closes the circuit; calls admitted before no longer decide. */
  private moveTo(circuit: Circuit, openedAt: number | undefined): void {
    circuit.openedAt = openedAt;
    circuit.epoch++;
    circuit.probes.clear();
  }
}
