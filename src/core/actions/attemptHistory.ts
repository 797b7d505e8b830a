import type { Attempt } from './runChatAttempt';

export interface RecordedAttempt extends Attempt {
  /** Wall-clock time the attempt finished, in milliseconds since the epoch. */
  finishedAt: number;
}

/** The most recent attempts of this session, newest first, for the requests panel. */
export class AttemptHistory {
  private readonly items: RecordedAttempt[] = [];
  private readonly listeners = new Set<(items: readonly RecordedAttempt[]) => void>();

  constructor(private readonly capacity = 200) {}

  record(attempt: Attempt, finishedAt: number): void {
    this.items.unshift({ ...attempt, finishedAt });
    if (this.items.length > this.capacity) this.items.length = this.capacity;
    this.listeners.forEach((listener) => listener(this.items));
  }

  get all(): readonly RecordedAttempt[] {
    return this.items;
  }

  /** Calls `listener` after every change; the returned function unsubscribes. */
  subscribe(listener: (items: readonly RecordedAttempt[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
