import type { Classification } from '../classify/classification';

/**
 * Where cheap completions keep being rejected, stronger models take over: a transparent,
 * predictable rule next to what the learner slowly learns. A "context" is one syntactic unit of
 * one file (the function or class the cursor is in) and the kind of completion. Once a model's
 * completions have been rejected there `threshold` times in a row (shown and typed past, or
 * accepted and undone), it is left out there, and the router may widen the candidates to code
 * and strong models. An accepted completion of a model clears that model's rejections there;
 * time clears the whole context.
 */

export interface EscalationOptions {
  /** Rejections in a row of one model in one context before it is left out there. */
  threshold?: number;
  /** A context nobody rejected anything in for this long starts over. */
  forgetAfterMs?: number;
  /** Contexts remembered; the least recently touched is forgotten first. */
  capacity?: number;
}

interface ContextState {
  /** Rejections in a row, per model id. */
  rejections: Map<string, number>;
  touchedAt: number;
}

/** The tiers an escalated completion may also go to. */
export const ESCALATION_TIERS: readonly string[] = ['code', 'strong'];

export class CompletionEscalation {
  private readonly threshold: number;
  private readonly forgetAfterMs: number;
  private readonly capacity: number;
  private readonly contexts = new Map<string, ContextState>();

  constructor(options: EscalationOptions = {}) {
    this.threshold = Math.max(1, options.threshold ?? 2);
    this.forgetAfterMs = options.forgetAfterMs ?? 15 * 60_000;
    this.capacity = Math.max(1, options.capacity ?? 200);
  }

  /**
   * The context of a completion: the file, the innermost unit around the cursor (by kind and
   * name, which survive edits above it; by start line when it has no name) and the kind asked for.
   */
  static contextKey(path: string, classification: Pick<Classification, 'task' | 'features'>, cursorLine: number): string {
    const unit = classification.features.unit;
    const where = unit ? `${unit.kind}:${unit.name ?? `@${unit.startLine}`}` : `top:${Math.floor(cursorLine / 40)}`;
    return `${path}\u0000${where}\u0000${classification.task}`;
  }

  /** A completion of `modelId` shown in `key` was rejected (typed past, dismissed, undone). */
  reject(key: string, modelId: string, now: number): void {
    const state = this.state(key, now);
    state.rejections.set(modelId, (state.rejections.get(modelId) ?? 0) + 1);
  }

  /** A completion of `modelId` was accepted in `key`: its rejections there no longer count. */
  accept(key: string, modelId: string, now: number): void {
    const state = this.state(key, now);
    state.rejections.delete(modelId);
  }

  /** The models left out in `key`, with how many rejections each; empty when nothing is escalated. */
  rejectedIn(key: string, now: number): string[] {
    const state = this.contexts.get(key);
    if (!state) return [];
    if (now - state.touchedAt > this.forgetAfterMs) {
      this.contexts.delete(key);
      return [];
    }
    return [...state.rejections].filter(([, count]) => count >= this.threshold).map(([model]) => model);
  }

  clear(): void {
    this.contexts.clear();
  }

  private state(key: string, now: number): ContextState {
    let state = this.contexts.get(key);
    if (!state || now - state.touchedAt > this.forgetAfterMs) state = { rejections: new Map(), touchedAt: now };
    state.touchedAt = now;
    this.contexts.delete(key);
    this.contexts.set(key, state);
    while (this.contexts.size > this.capacity) {
      const oldest = this.contexts.keys().next().value;
      if (oldest === undefined) break;
      this.contexts.delete(oldest);
    }
    return state;
  }
}
