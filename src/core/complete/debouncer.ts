/**
 * How long to wait after a keystroke before asking for an inline completion, adapted to how fast
 * the user types in each document: a fast typist waits less per keystroke but is not interrupted
 * mid-burst; a slow one is not kept waiting for a pause that is already there. Pure: it takes
 * timestamps and keeps no timers; the adapter owns the timer.
 */

export interface DebounceOptions {
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Delay = factor × the typing interval. */
  factor?: number;
  /** Weight of the newest interval in the moving average. */
  smoothing?: number;
  /** Delay before anything is known about the user's typing. */
  initialDelayMs?: number;
  /** A gap longer than this is a pause, not a typing interval, and is not averaged. */
  pauseMs?: number;
  /** Documents remembered; the one least recently typed in is forgotten first. */
  maxDocuments?: number;
}

export type DebounceDecision =
  | { action: 'request' }
  /** The user typed again within the delay: that keystroke's own wait decides, in `retryInMs`. */
  | { action: 'skip'; retryInMs: number };

interface TypingState {
  lastKeystrokeMs: number;
  /** Moving average of recent typing intervals, undefined until two keystrokes close together. */
  averageIntervalMs: number | undefined;
  delayMs: number;
}

export class AdaptiveDebouncer {
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly factor: number;
  private readonly smoothing: number;
  private readonly initialDelayMs: number;
  private readonly pauseMs: number;
  private readonly maxDocuments: number;
  private readonly documents = new Map<string, TypingState>();

  constructor(options: DebounceOptions = {}) {
    this.minDelayMs = options.minDelayMs ?? 75;
    this.maxDelayMs = Math.max(this.minDelayMs, options.maxDelayMs ?? 400);
    this.factor = options.factor ?? 1.5;
    this.smoothing = options.smoothing ?? 0.3;
    this.initialDelayMs = options.initialDelayMs ?? 150;
    this.pauseMs = options.pauseMs ?? 1500;
    this.maxDocuments = options.maxDocuments ?? 50;
  }

  /** Records a keystroke in `documentId` at `atMs`; returns how long to wait before requesting. */
  keystroke(documentId: string, atMs: number): number {
    const previous = this.documents.get(documentId);
    let average = previous?.averageIntervalMs;
    if (previous) {
      const interval = atMs - previous.lastKeystrokeMs;
      if (interval >= 0 && interval <= this.pauseMs) {
        average = average === undefined ? interval : this.smoothing * interval + (1 - this.smoothing) * average;
      }
    }
    const delayMs = average === undefined ? this.clamp(this.initialDelayMs) : this.clamp(this.factor * average);
    this.documents.delete(documentId);
    this.documents.set(documentId, { lastKeystrokeMs: atMs, averageIntervalMs: average, delayMs });
    while (this.documents.size > this.maxDocuments) {
      const oldest = this.documents.keys().next().value;
      if (oldest === undefined) break;
      this.documents.delete(oldest);
    }
    return delayMs;
  }

  /** Whether a wait that ends at `nowMs` should request: not while the user is still typing. */
  decide(documentId: string, nowMs: number): DebounceDecision {
    const state = this.documents.get(documentId);
    if (!state) return { action: 'request' };
    const waited = nowMs - state.lastKeystrokeMs;
    if (waited < state.delayMs) return { action: 'skip', retryInMs: state.delayMs - waited };
    return { action: 'request' };
  }

  /** The current delay for `documentId` (the initial delay for a document not typed in yet). */
  delayFor(documentId: string): number {
    return this.documents.get(documentId)?.delayMs ?? this.clamp(this.initialDelayMs);
  }

  /** The moving average of typing intervals in `documentId`, when known. */
  typingIntervalMs(documentId: string): number | undefined {
    return this.documents.get(documentId)?.averageIntervalMs;
  }

  forget(documentId: string): void {
    this.documents.delete(documentId);
  }

  private clamp(ms: number): number {
    return Math.round(Math.min(this.maxDelayMs, Math.max(this.minDelayMs, ms)));
  }
}
