import type { TextPosition } from './requestContext';

/** Index of the line containing `offset`, given the offsets at which lines start (binary search). */
export function lineAtOffset(lineStarts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Converts between zero-based line/character positions and string offsets in `text`. */
export class LineIndex {
  private readonly lineStarts: number[] = [0];

  constructor(private readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
    }
  }

  get lineCount(): number {
    return this.lineStarts.length;
  }

  offsetAt(position: TextPosition): number {
    const line = Math.min(Math.max(position.line, 0), this.lineStarts.length - 1);
    const start = this.lineStarts[line];
    const end = line + 1 < this.lineStarts.length ? this.lineStarts[line + 1] - 1 : this.text.length;
    return Math.min(start + Math.max(position.character, 0), end);
  }

  positionAt(offset: number): TextPosition {
    const clamped = Math.min(Math.max(offset, 0), this.text.length);
    const line = lineAtOffset(this.lineStarts, clamped);
    return { line, character: clamped - this.lineStarts[line] };
  }
}
