/** Limits that keep classification bounded by the request, whatever the file. */
export const GUARDS = {
  /** Lines either side of the cursor that are parsed. */
  windowLinesBefore: 300,
  windowLinesAfter: 300,
  /** Largest parsed window, in characters; a bigger one is narrowed around the cursor. */
  maxWindowChars: 96_000,
  /** A line this long is minified or generated code, not something to parse or complete. */
  minifiedLineChars: 2_000,
  /** Hard cap on one parse; past it the request degrades to text features. */
  parseTimeCapMs: 40,
};

/** What code generators write at the top of their output (protoc, Go, Thrift, Bazel, many others). */
const GENERATED_MARKER_LINES = 10;
const GENERATED_MARKERS = /@generated\b|\bDO NOT EDIT\b|\bauto-?generated (?:file|code)\b|\bThis file (?:was|is|has been) (?:automatically )?generated\b/i;

export interface InputVerdict {
  binary: boolean;
  minified: boolean;
  generated: boolean;
}

/** Cheap checks on the window (and the file header) that decide whether a tree is worth building. */
export function inspectInput(window: string, header: string): InputVerdict {
  const binary = window.includes('\u0000') || header.includes('\u0000');
  let minified = false;
  let lineStart = 0;
  // Scans for any very long line without splitting the window into an array of lines.
  while (lineStart <= window.length) {
    const next = window.indexOf('\n', lineStart);
    const end = next === -1 ? window.length : next;
    if (end - lineStart > GUARDS.minifiedLineChars) {
      minified = true;
      break;
    }
    if (next === -1) break;
    lineStart = next + 1;
  }
  // Generators mark the very top of their output; a later "generated from" note is history, not a marker.
  const top = header.split('\n', GENERATED_MARKER_LINES).join('\n');
  return { binary, minified, generated: GENERATED_MARKERS.test(top) };
}
