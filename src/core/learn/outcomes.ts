import type { Logger } from '../log/logger';

/** What the user did with a result, as the learner will read it. */
export type OutcomeKind =
  | 'accepted'
  | 'discarded'
  | 'partially-accepted'
  | 'thumbs-up'
  | 'thumbs-down'
  | 'retried-stronger'
  | 'undone'
  | 'ignored'
  /** The same chat request was sent again (the chat's regenerate): the answer was not wanted. */
  | 'regenerated'
  /** In an agent turn, the model called a tool in the wrong shape: a failure of the model. */
  | 'failed-tool-call';

/** The user's signal about the result of one routed request (tied to its decision by `requestId`). */
export interface Outcome {
  requestId: string;
  task: string;
  modelId: string;
  kind: OutcomeKind;
  /** Milliseconds since the epoch. */
  at: number;
  /** A short note such as "replaced by a newer proposal"; never prompt text or code. */
  detail?: string;
}

/** Where outcomes are kept beyond the session: one JSON line (no trailing newline) per outcome. */
export interface OutcomeSink {
  append(line: string): Promise<void>;
}

export interface OutcomeLogOptions {
  /** How many outcomes stay in memory. */
  capacity?: number;
  sink?: OutcomeSink;
  logger?: Logger;
}

/** The persisted form: only the known fields, so nothing else an adapter attached is written. */
export function outcomeLine(outcome: Outcome): string {
  const { requestId, task, modelId, kind, at, detail } = outcome;
  return JSON.stringify(detail === undefined ? { requestId, task, modelId, kind, at } : { requestId, task, modelId, kind, at, detail });
}

/** The outcomes of this session, newest first; each (request, kind) is recorded once. */
export class OutcomeLog {
  private readonly items: Outcome[] = [];
  private readonly listeners = new Set<(items: readonly Outcome[]) => void>();
  private readonly capacity: number;
  // Appends are chained so lines reach the sink in the order they were recorded.
  private written: Promise<void> = Promise.resolve();

  constructor(private readonly options: OutcomeLogOptions = {}) {
    this.capacity = options.capacity ?? 500;
  }

  /** Records the outcome; false when the same kind was already recorded for its request. */
  record(outcome: Outcome): boolean {
    if (this.items.some((o) => o.requestId === outcome.requestId && o.kind === outcome.kind)) return false;
    const copy = { ...outcome };
    this.items.unshift(copy);
    if (this.items.length > this.capacity) this.items.length = this.capacity;
    this.persist(copy);
    this.listeners.forEach((listener) => listener(this.items));
    return true;
  }

  get all(): readonly Outcome[] {
    return this.items;
  }

  /** The outcomes of one request, newest first. */
  forRequest(requestId: string): Outcome[] {
    return this.items.filter((o) => o.requestId === requestId);
  }

  /** Calls `listener` after every change; the returned function unsubscribes. */
  subscribe(listener: (items: readonly Outcome[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once every outcome recorded so far has been handed to the sink. */
  flushed(): Promise<void> {
    return this.written;
  }

  private persist(outcome: Outcome): void {
    const { sink, logger } = this.options;
    if (!sink) return;
    const line = outcomeLine(outcome);
    // A failed write loses one line of learning data; it must not disturb the user.
    this.written = this.written
      .then(() => sink.append(line))
      .catch((error: unknown) => logger?.warn(`could not save an outcome: ${error instanceof Error ? error.message : String(error)}`));
  }
}
