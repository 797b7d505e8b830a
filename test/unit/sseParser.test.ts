import * as assert from 'node:assert/strict';
import { SseParser, type ServerSentEvent } from '../../src/core/providers/sseParser';

function parse(pieces: string[], end = true): ServerSentEvent[] {
  const events: ServerSentEvent[] = [];
  const parser = new SseParser((e) => events.push(e));
  pieces.forEach((p) => parser.feed(p));
  if (end) parser.end();
  return events;
}

describe('server-sent events parser', () => {
  it('reads the same events whatever the split between reads, with LF, CRLF or CR line ends', () => {
    const text = 'event: a\ndata: one\n\n: comment\ndata: two\r\n\r\ndata: three\r\rdata: x\ndata: y\n\n';
    const expected = [{ event: 'a', data: 'one' }, { event: undefined, data: 'two' }, { event: undefined, data: 'three' }, { event: undefined, data: 'x\ny' }];
    assert.deepEqual(parse([text]), expected);
    for (let cut = 1; cut < text.length; cut++) {
      assert.deepEqual(parse([text.slice(0, cut), text.slice(cut)]), expected, `split at ${cut}`);
    }
    assert.deepEqual(parse([...text]), expected, 'one character per read');
  });

  it('strips one space after the colon, keeps the rest, and ignores unknown fields and empty events', () => {
    assert.deepEqual(parse(['data:  two spaces\nid: 7\nretry: 10\n\n\n\ndata\n\n']), [
      { event: undefined, data: ' two spaces' },
      { event: undefined, data: '' },
    ]);
  });

  it('delivers a last event the server closed without a blank line, but only at a clean end', () => {
    assert.deepEqual(parse(['data: last'], false), []);
    assert.deepEqual(parse(['data: last']), [{ event: undefined, data: 'last' }]);
  });
});
