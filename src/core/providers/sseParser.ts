/** One server-sent event: its `event:` name (if any) and its `data:` lines joined with newlines. */
export interface ServerSentEvent {
  event?: string;
  data: string;
}

/**
 * An incremental parser for `text/event-stream` (the WHATWG format): text may be split anywhere
 * between network reads, lines end in LF, CRLF or CR, `:` lines are comments, several `data:`
 * lines make one event, and a blank line ends it. Fields other than `event` and `data` are ignored.
 */
export class SseParser {
  private pending = '';
  private data: string[] = [];
  private event: string | undefined;

  constructor(private readonly emit: (event: ServerSentEvent) => void) {}

  /** Feeds decoded text; emits every event it completes. */
  feed(text: string): void {
    let buffer = this.pending + text;
    let start = 0;
    for (;;) {
      const lf = buffer.indexOf('\n', start);
      const cr = buffer.indexOf('\r', start);
      if (lf < 0 && cr < 0) break;
      let end: number;
      let next: number;
      if (cr >= 0 && (lf < 0 || cr < lf)) {
        // A CR at the very end may be the first half of a CRLF: wait for the next read.
        if (cr === buffer.length - 1) break;
        end = cr;
        next = buffer[cr + 1] === '\n' ? cr + 2 : cr + 1;
      } else {
        end = lf;
        next = lf + 1;
      }
      this.line(buffer.slice(start, end));
      start = next;
    }
    buffer = buffer.slice(start);
    this.pending = buffer;
  }

  /**
   * The stream ended cleanly. A last line without its terminator still counts, and so does a last
   * event without its blank line: the standard drops it, but servers that close right after their
   * final event (usage included) are common, and the connection did end in order.
   */
  end(): void {
    if (this.pending) {
      const last = this.pending.replace(/\r$/, '');
      this.pending = '';
      this.line(last);
    }
    this.line('');
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0) this.emit({ event: this.event, data: this.data.join('\n') });
      this.data = [];
      this.event = undefined;
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32 /* space */) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
  }
}
