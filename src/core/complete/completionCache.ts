/**
 * Recent inline completions, so that moving back to a spot, or typing what the ghost text
 * showed, does not pay for another model call.
 */

export interface CompletionCacheOptions {
  /** Entries kept; the least recently used goes first. */
  capacity?: number;
  /** Characters of the prefix's end and the suffix's start that make the key. */
  prefixChars?: number;
  suffixChars?: number;
}

export interface CompletionLookup {
  prefix: string;
  suffix: string;
  languageId: string;
  /** The model (or route) that produced the completion; another model's answer is not reused. */
  modelId: string;
}

export interface CacheHit {
  /** What is left to insert. */
  completion: string;
  /** `exact`: same spot; `typed-through`: the user has typed the first `typed.length` characters of it. */
  kind: 'exact' | 'typed-through';
  typed: string;
}

interface Entry {
  prefixTail: string;
  suffixHead: string;
  languageId: string;
  modelId: string;
  completion: string;
}

/**
 * A copy of `text` that does not point into the string it was cut from. V8 keeps a slice as a
 * view of its parent, so a cached 500-character tail would otherwise keep a whole version of the
 * document alive (100 entries of a 150 KB file held 30 MB).
 */
function detached(text: string): string {
  return Buffer.from(text, 'utf16le').toString('utf16le');
}

/** The longest run of typed characters a typed-through hit looks back over. */
const MAX_TYPED_THROUGH = 500;

export class CompletionCache {
  private readonly capacity: number;
  private readonly prefixChars: number;
  private readonly suffixChars: number;
  /** Map order is recency order: the first entry is the least recently used. */
  private readonly entries = new Map<string, Entry>();

  constructor(options: CompletionCacheOptions = {}) {
    this.capacity = Math.max(1, options.capacity ?? 100);
    this.prefixChars = options.prefixChars ?? 500;
    this.suffixChars = options.suffixChars ?? 200;
  }

  get size(): number {
    return this.entries.size;
  }

  key(lookup: CompletionLookup): string {
    // NUL cannot be typed into a document, so the parts cannot run into each other.
    return [lookup.languageId, lookup.modelId, lookup.prefix.slice(-this.prefixChars), lookup.suffix.slice(0, this.suffixChars)].join('\u0000');
  }

  set(lookup: CompletionLookup, completion: string): void {
    const key = detached(this.key(lookup));
    this.entries.delete(key);
    this.entries.set(key, {
      prefixTail: detached(lookup.prefix.slice(-this.prefixChars)),
      suffixHead: detached(lookup.suffix.slice(0, this.suffixChars)),
      languageId: lookup.languageId,
      modelId: lookup.modelId,
      completion,
    });
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  /**
   * The completion cached for this spot, or for a spot a few characters back when the user has
   * since typed the start of that completion (then only the rest is returned).
   */
  get(lookup: CompletionLookup): CacheHit | undefined {
    const key = this.key(lookup);
    const exact = this.entries.get(key);
    if (exact) {
      this.touch(key, exact);
      return { completion: exact.completion, kind: 'exact', typed: '' };
    }
    const suffixHead = lookup.suffix.slice(0, this.suffixChars);
    // Most recent first: the freshest completion is the likeliest to be the one being typed.
    const newestFirst = [...this.entries].reverse();
    for (const [entryKey, entry] of newestFirst) {
      if (entry.languageId !== lookup.languageId || entry.modelId !== lookup.modelId || entry.suffixHead !== suffixHead) continue;
      const typedLength = this.typedThrough(entry, lookup.prefix);
      if (typedLength === undefined) continue;
      this.touch(entryKey, entry);
      return { completion: entry.completion.slice(typedLength), kind: 'typed-through', typed: entry.completion.slice(0, typedLength) };
    }
    return undefined;
  }

  clear(): void {
    this.entries.clear();
  }

  /** How many characters of the entry's completion `prefix` ends with after the entry's prefix; undefined when none or all. */
  private typedThrough(entry: Entry, prefix: string): number | undefined {
    const max = Math.min(entry.completion.length - 1, MAX_TYPED_THROUGH);
    for (let typed = 1; typed <= max; typed++) {
      if (prefix[prefix.length - 1] !== entry.completion[typed - 1]) continue;
      const start = prefix.length - typed - entry.prefixTail.length;
      if (start < 0) return undefined;
      if (prefix.startsWith(entry.prefixTail, start) && prefix.endsWith(entry.completion.slice(0, typed))) return typed;
    }
    return undefined;
  }

  private touch(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
  }
}
