/**
 * One deployment of a model (the same model behind another endpoint, region or key). `key` names
 * it and must be unique within a group; `weight` is its share of the traffic (default 1). A
 * weight that is not a positive number means "never picked". Whole-number weights make the
 * round-robin cycle exact.
 */
export interface Deployment {
  key: string;
  weight?: number;
}

/**
 * round-robin: smooth weighted round-robin, each deployment gets exactly its share of every
 * cycle, interleaved rather than in runs. least-outstanding: the deployment with the fewest calls
 * in flight, which steers traffic away from one that has become slow.
 */
export type BalancePolicy = 'round-robin' | 'least-outstanding';

/** A picked deployment; `release` when the call ends (only the first release counts). */
export interface Lease<T> {
  readonly deployment: T;
  release(): void;
}

interface Candidate<T> {
  deployment: T;
  weight: number;
}

function weightOf(deployment: Deployment): number {
  const weight = deployment.weight ?? 1;
  return Number.isFinite(weight) && weight > 0 ? weight : 0;
}

/**
 * Spreads calls over the deployments of a group (a model id). Round-robin positions are kept per
 * group; calls in flight are counted per deployment key across groups, since they load the same
 * endpoint whichever model asked.
 */
export class LoadBalancer {
  /** group → deployment key → current weight of the smooth round-robin. */
  private readonly turns = new Map<string, Map<string, number>>();
  private readonly inFlight = new Map<string, number>();

  /**
   * Picks a deployment of `deployments` that `isAvailable` accepts (for instance: whose circuit
   * is not open). Undefined when there is none: the caller falls back to the next model.
   */
  pick<T extends Deployment>(
    groupKey: string,
    deployments: readonly T[],
    policy: BalancePolicy,
    isAvailable: (deployment: T) => boolean = () => true,
  ): Lease<T> | undefined {
    const turns = this.turnsOf(groupKey, deployments);
    let candidates: Candidate<T>[] = deployments
      .map((deployment) => ({ deployment, weight: weightOf(deployment) }))
      .filter((c) => c.weight > 0 && isAvailable(c.deployment));
    if (candidates.length === 0) return undefined;
    if (policy === 'least-outstanding') {
      const fewest = Math.min(...candidates.map((c) => this.outstanding(c.deployment.key)));
      // Among equally loaded ones, the weighted rotation decides: heavier ones win ties more
      // often, and sequential calls (always tied at zero) still spread by weight.
      candidates = candidates.filter((c) => this.outstanding(c.deployment.key) === fewest);
    }
    return this.lease(smoothWeightedTurn(turns, candidates));
  }

  /** Calls in flight to this deployment key. */
  outstanding(key: string): number {
    return this.inFlight.get(key) ?? 0;
  }

  /** The group's round-robin state, without deployments that have left it. */
  private turnsOf(groupKey: string, deployments: readonly Deployment[]): Map<string, number> {
    let turns = this.turns.get(groupKey);
    if (!turns) {
      turns = new Map();
      this.turns.set(groupKey, turns);
    }
    for (const key of turns.keys()) {
      if (!deployments.some((d) => d.key === key)) turns.delete(key);
    }
    return turns;
  }

  private lease<T extends Deployment>(deployment: T): Lease<T> {
    const key = deployment.key;
    this.inFlight.set(key, this.outstanding(key) + 1);
    let released = false;
    return {
      deployment,
      release: () => {
        if (released) return;
        released = true;
        const left = this.outstanding(key) - 1;
        if (left > 0) this.inFlight.set(key, left);
        else this.inFlight.delete(key);
      },
    };
  }
}

/**
 * One turn of smooth weighted round-robin: every candidate's current weight grows by its weight,
 * the largest wins (the first listed on a tie) and gives back the candidates' total. Over any run
 * of total-weight turns each gets exactly its weight, and a heavy one's turns are spread out:
 * weights 5:1:1 give a a b a c a a, not a a a a a b c.
 */
function smoothWeightedTurn<T extends Deployment>(turns: Map<string, number>, candidates: readonly Candidate<T>[]): T {
  let total = 0;
  let best: Candidate<T> | undefined;
  let bestCurrent = -Infinity;
  for (const candidate of candidates) {
    const current = (turns.get(candidate.deployment.key) ?? 0) + candidate.weight;
    turns.set(candidate.deployment.key, current);
    total += candidate.weight;
    if (current > bestCurrent) {
      best = candidate;
      bestCurrent = current;
    }
  }
  // Callers pass at least one candidate.
  const chosen = best as Candidate<T>;
  turns.set(chosen.deployment.key, bestCurrent - total);
  return chosen.deployment;
}
