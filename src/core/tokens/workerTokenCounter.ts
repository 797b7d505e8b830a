import { Worker } from 'node:worker_threads';
import type { Logger } from '../log/logger';
import type { TokenCounter } from './tokenCounter';
import type { CountReply, CountRequest } from './tokenizerWorker';

export interface WorkerTokenCounterOptions {
  /** Path of the bundled worker script (`dist/tokenizerWorker.js` next to the extension). */
  script: string;
  logger: Logger;
  /** The worker exits after this long without work; it starts again on the next count. */
  idleMs?: number;
  /** A count that takes longer fails (the caller keeps its rough estimate). */
  timeoutMs?: number;
}

interface Pending {
  resolve: (counts: number[]) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Runs the real tokenizer in a worker thread, started on first use and stopped when idle, so the
 * extension host never pays for loading its vocabulary. Never keeps the process alive.
 */
export class WorkerTokenCounter implements TokenCounter {
  readonly name = 'o200k_base tokenizer';
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly idleMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: WorkerTokenCounterOptions) {
    this.idleMs = options.idleMs ?? 60_000;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  count(texts: readonly string[]): Promise<number[]> {
    if (texts.length === 0) return Promise.resolve([]);
    const worker = this.ensureWorker();
    const id = this.nextId++;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    return new Promise<number[]>((resolve, reject) => {
      const timer = setTimeout(() => this.settle(id, new Error(`the tokenizer gave no count within ${this.timeoutMs} ms`)), this.timeoutMs);
      timer.unref?.();
      this.pending.set(id, { resolve, reject, timer });
      worker.postMessage({ id, texts: [...texts] } satisfies CountRequest);
    });
  }

  dispose(): void {
    this.stop(new Error('the tokenizer was shut down'));
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.options.script);
    worker.unref();
    worker.on('message', (reply: CountReply) => this.settle(reply.id, 'error' in reply ? new Error(reply.error) : reply.counts));
    worker.on('error', (error) => {
      this.options.logger.warn(`tokenizer worker failed: ${error.message}`);
      this.stop(error);
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      if (this.pending.size > 0) this.stop(new Error(`the tokenizer worker exited (code ${code})`));
    });
    this.worker = worker;
    return worker;
  }

  private settle(id: number, outcome: number[] | Error): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    if (outcome instanceof Error) pending.reject(outcome);
    else pending.resolve(outcome);
    if (this.pending.size === 0) {
      this.idleTimer = setTimeout(() => this.stop(), this.idleMs);
      this.idleTimer.unref?.();
    }
  }

  private stop(error?: Error): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const worker = this.worker;
    this.worker = undefined;
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      clearTimeout(pending.timer);
      pending.reject(error ?? new Error('the tokenizer stopped'));
    }
    void worker?.terminate();
  }
}
