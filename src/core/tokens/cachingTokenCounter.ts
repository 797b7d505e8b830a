import type { TokenCounter } from './tokenCounter';

/** Characters of text whose counts are kept at most (about 16 MB of strings). */
const DEFAULT_MAX_CHARS = 8_000_000;

/**
 * A token counter that remembers counts. VS Code's chat asks a model for the token count of every
 * message of a conversation, again on every request of it (to fit the prompt to the window), so
 * nearly all texts repeat; only new ones go to the tokenizer, in one batch per call. Kept texts are
 * bounded by their total length, least recently used dropped first; concurrent asks for the same
 * text share one count.
 */
export class CachingTokenCounter implements TokenCounter {
  private readonly counts = new Map<string, number>();
  private readonly pending = new Map<string, Promise<number>>();
  private chars = 0;

  constructor(
    private readonly inner: TokenCounter,
    private readonly maxChars = DEFAULT_MAX_CHARS,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  count(texts: readonly string[]): Promise<number[]> {
    const missing = [...new Set(texts.filter((t) => !this.counts.has(t) && !this.pending.has(t)))];
    if (missing.length > 0) {
      const batch = this.inner.count(missing);
      missing.forEach((text, i) => {
        const one = batch.then((counts) => counts[i]);
        this.pending.set(text, one);
        one.then(
          (n) => this.keep(text, n),
          () => undefined,
        ).finally(() => this.pending.delete(text));
      });
    }
    return Promise.all(texts.map((text) => this.lookup(text)));
  }

  private lookup(text: string): number | Promise<number> {
    const known = this.counts.get(text);
    if (known === undefined) return this.pending.get(text) ?? this.inner.count([text]).then(([n]) => n);
    // Most recently used last.
    this.counts.delete(text);
    this.counts.set(text, known);
    return known;
  }

  private keep(text: string, count: number): void {
    if (text.length > this.maxChars || this.counts.has(text)) return;
    this.counts.set(text, count);
    this.chars += text.length;
    for (const old of this.counts.keys()) {
      if (this.chars <= this.maxChars) break;
      this.counts.delete(old);
      this.chars -= old.length;
    }
  }
}
