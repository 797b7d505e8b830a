import * as assert from 'node:assert/strict';
import { CompletionCache, type CompletionLookup } from '../../src/core/complete/completionCache';

const at = (prefix: string, suffix = '\n}\n', modelId = 'm1', languageId = 'typescript'): CompletionLookup => ({ prefix, suffix, languageId, modelId });

describe('inline completions: completion cache', () => {
  it('returns an exact hit for the same neighbourhood, language and model only', () => {
    const cache = new CompletionCache();
    cache.set(at('const x = '), 'compute();');
    assert.deepEqual(cache.get(at('const x = ')), { completion: 'compute();', kind: 'exact', typed: '' });
    assert.equal(cache.get(at('const x = ', '\n}\n', 'm2')), undefined);
    assert.equal(cache.get(at('const x = ', '\n}\n', 'm1', 'javascript')), undefined);
    assert.equal(cache.get(at('const x = ', '\n')), undefined);
  });

  it('keys on the neighbourhood: text further than 500 chars before or 200 after the cursor does not matter', () => {
    const cache = new CompletionCache();
    const near = 'y'.repeat(500);
    cache.set(at(`AAA${near}`, `${'z'.repeat(200)}BBB`), 'hit');
    assert.equal(cache.get(at(`CCC${near}`, `${'z'.repeat(200)}DDD`))?.completion, 'hit');
  });

  it('evicts the least recently used entry at capacity', () => {
    const cache = new CompletionCache({ capacity: 2 });
    cache.set(at('a = '), '1');
    cache.set(at('b = '), '2');
    assert.equal(cache.get(at('a = '))?.completion, '1'); // a is now the most recent
    cache.set(at('c = '), '3');
    assert.equal(cache.size, 2);
    assert.equal(cache.get(at('b = ')), undefined);
    assert.equal(cache.get(at('a = '))?.completion, '1');
    assert.equal(cache.get(at('c = '))?.completion, '3');
  });

  it('setting the same key again replaces the entry without growing', () => {
    const cache = new CompletionCache({ capacity: 2 });
    cache.set(at('a = '), '1');
    cache.set(at('a = '), '2');
    assert.equal(cache.size, 1);
    assert.equal(cache.get(at('a = '))?.completion, '2');
  });

  it('typed-through: after typing the start of a cached completion, returns the rest', () => {
    const cache = new CompletionCache();
    cache.set(at('const x = '), 'compute(a, b);');
    assert.deepEqual(cache.get(at('const x = comp')), { completion: 'ute(a, b);', kind: 'typed-through', typed: 'comp' });
    assert.deepEqual(cache.get(at('const x = compute(a, ')), { completion: 'b);', kind: 'typed-through', typed: 'compute(a, ' });
  });

  it('typed-through works with a prefix longer than the key window', () => {
    const cache = new CompletionCache();
    const long = `${'// filler\n'.repeat(100)}const x = `;
    cache.set(at(long), 'compute();');
    assert.equal(cache.get(at(`${long}com`))?.completion, 'pute();');
  });

  it('no typed-through hit when the typed text differs, is all of it, or the model differs', () => {
    const cache = new CompletionCache();
    cache.set(at('const x = '), 'compute();');
    assert.equal(cache.get(at('const x = cont')), undefined);
    assert.equal(cache.get(at('const x = compute();')), undefined);
    assert.equal(cache.get(at('const x = comp', '\n}\n', 'm2')), undefined);
    assert.equal(cache.get(at('let y = comp')), undefined);
  });

  it('clear empties it', () => {
    const cache = new CompletionCache();
    cache.set(at('a'), 'b');
    cache.clear();
    assert.equal(cache.size, 0);
  });
});
